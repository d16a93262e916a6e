// JS commands (`cinder::js::JS`) on the home page: the official client parses the JSON
// Cinder renders into phx-click and runs it (toggle; push then add_class).
import assert from "node:assert/strict";
import { liveTest, startEmbedded, useServers, visitLive, WAIT_MS } from "./harness.mjs";

const env = useServers(startEmbedded);

/** Waits until `selector` is visible (`visible`) or hidden, as the client's JS.isVisible decides. */
async function waitVisible(page, selector, visible) {
  try {
    await page.waitForFunction(
      ([s, v]) => {
        const el = document.querySelector(s);
        if (!el) return false;
        const shown = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length > 0);
        return shown === v;
      },
      [selector, visible],
      { timeout: WAIT_MS, polling: 50 },
    );
  } catch (e) {
    const style = await page.$eval(selector, (el) => el.getAttribute("style")).catch(() => "<missing>");
    throw new Error(`expected ${selector} to be ${visible ? "visible" : "hidden"} within ${WAIT_MS} ms; style="${style}"`, {
      cause: e,
    });
  }
}

liveTest(env, "the dead render of / carries the JS commands as HTML-escaped JSON", async ({ url }) => {
  const html = await (await fetch(`${url}/`)).text();
  assert.ok(
    html.includes(`id="toggle-about" phx-click="[[&quot;toggle&quot;,{&quot;to&quot;:&quot;#about&quot;}]]"`),
    `no escaped toggle command on #toggle-about:\n${html.slice(0, 3000)}`,
  );
  assert.ok(
    html.includes(
      `id="about-push" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;noop_about&quot;}],` +
        `[&quot;add_class&quot;,{&quot;names&quot;:[&quot;seen&quot;],&quot;to&quot;:&quot;#about&quot;}]]"`,
    ),
    `no escaped push + add_class command on #about-push:\n${html.slice(0, 3000)}`,
  );
});

liveTest(env, "#toggle-about shows and hides #about in the browser without an event", async ({ session, newPage }) => {
  const page = await newPage();
  const log = session.log(page);
  await visitLive(page, "/");
  assert.deepEqual(
    JSON.parse(await page.$eval("#toggle-about", (el) => el.getAttribute("phx-click"))),
    [["toggle", { to: "#about" }]],
  );
  await waitVisible(page, "#about", false);
  const since = log.frames.length;

  await page.click("#toggle-about");
  await waitVisible(page, "#about", true);
  await page.click("#toggle-about");
  await waitVisible(page, "#about", false);

  assert.equal(log.sent("event", since).length, 0, "a toggle is client-only, yet an event was pushed");
});

liveTest(env, "#about-push pushes noop_about and adds the seen class to #about, which survives the reply", async ({ session, newPage }) => {
  const page = await newPage();
  const log = session.log(page);
  await visitLive(page, "/");
  assert.equal(await page.$eval("#about", (el) => el.classList.contains("seen")), false);
  const since = log.frames.length;

  await page.click("#about-push");
  const push = await log.waitForFrame(
    (f) => f.dir === "sent" && f.msg?.[3] === "event" && f.msg[4]?.event === "noop_about",
    { since, what: "the noop_about event" },
  );
  assert.equal(push.msg[4].type, "click");
  const reply = await log.waitForFrame(
    (f) => f.dir === "recv" && f.msg?.[3] === "phx_reply" && f.msg[1] === push.msg[1],
    { since, what: "the reply to noop_about" },
  );
  assert.equal(reply.msg[4].status, "ok", `noop_about was refused: ${JSON.stringify(reply.msg[4])}`);

  await page.waitForSelector("#about.seen", { state: "attached" });
  // Classes set by JS commands are sticky: the patch after the reply keeps them.
  await page.click("#toggle-about");
  await waitVisible(page, "#about", true);
  assert.equal(await page.$eval("#about", (el) => el.classList.contains("seen")), true);
});
