// /counter on the embedded server: the dead render, the served client bundles,
// clicks, handle_params (?step=) and a live patch without remount.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  assertWindowMarker,
  clientDir,
  expectJoinOk,
  liveTest,
  markWindow,
  startEmbedded,
  textOf,
  useServers,
  visitLive,
  waitText,
} from "./harness.mjs";

const env = useServers(startEmbedded);

liveTest(env, "the dead render of /counter has the LiveView container, CSRF meta tag, title and client scripts", async ({ url }) => {
  const res = await fetch(`${url}/counter`);
  const html = await res.text();
  const show = `\n--- GET /counter (${res.status}) ---\n${html.slice(0, 3000)}`;
  assert.equal(res.status, 200, `GET /counter answered ${res.status}${show}`);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/, `content-type ${res.headers.get("content-type")}${show}`);
  assert.match(html, /<meta\s[^>]*name="csrf-token"\s[^>]*content="[^"]+"|<meta\s[^>]*content="[^"]+"\s[^>]*name="csrf-token"/, `no <meta name="csrf-token" content="…">${show}`);
  assert.match(html, /<title[^>]*>\s*Counter\s*<\/title>/, `no <title>Counter</title>${show}`);
  const container = html.match(/<[a-z]+\s[^>]*\bdata-phx-main\b[^>]*>/);
  assert.ok(container, `no element with data-phx-main${show}`);
  assert.match(container[0], /\sid="[^"]+"/, `the container has no id: ${container[0]}`);
  assert.match(container[0], /\sdata-phx-session="[^"]+"/, `the container has no data-phx-session: ${container[0]}`);
  assert.match(html, /<h1[^>]*\sid="count"[^>]*>\s*0\s*<\/h1>/, `no <h1 id="count">0</h1> in the dead render${show}`);
  const scripts = [...html.matchAll(/<script\s[^>]*src="([^"]+)"/g)].map((m) => m[1].replace(/\?.*$/, ""));
  const order = ["/assets/phoenix.min.js", "/assets/phoenix_live_view.min.js", "/assets/app.js"].map((s) => scripts.indexOf(s));
  assert.ok(
    order.every((i) => i >= 0) && order[0] < order[1] && order[1] < order[2],
    `expected scripts /assets/phoenix.min.js, /assets/phoenix_live_view.min.js, /assets/app.js in this order; found ${JSON.stringify(scripts)}`,
  );
});

liveTest(env, "the server serves the pinned, unmodified client bundles and app.js under /assets", async ({ url }) => {
  const files = {
    "/assets/phoenix.min.js": path.join(clientDir, "node_modules/phoenix/priv/static/phoenix.min.js"),
    "/assets/phoenix_live_view.min.js": path.join(clientDir, "node_modules/phoenix_live_view/priv/static/phoenix_live_view.min.js"),
    "/assets/app.js": path.join(clientDir, "app.js"),
  };
  for (const [route, file] of Object.entries(files)) {
    const res = await fetch(`${url}${route}`);
    assert.equal(res.status, 200, `GET ${route} answered ${res.status}`);
    assert.match(res.headers.get("content-type") ?? "", /javascript/, `GET ${route}: content-type ${res.headers.get("content-type")}`);
    const body = await res.text();
    assert.ok(body === (await readFile(file, "utf8")), `GET ${route} is not the content of ${file} (${body.length} bytes served)`);
  }
});

liveTest(env, "the counter connects showing 0 with the page title Counter", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/counter");
  await waitText(page, "#count", "0");
  assert.equal(await page.title(), "Counter");
});

liveTest(env, "#inc adds one to the count", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/counter");
  await waitText(page, "#count", "0");
  await page.click("#inc");
  await waitText(page, "#count", "1");
  await page.click("#inc");
  await waitText(page, "#count", "2");
});

liveTest(env, "#dec subtracts one from the count", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/counter");
  await waitText(page, "#count", "0");
  await page.click("#dec");
  await waitText(page, "#count", "-1");
  await page.click("#dec");
  await waitText(page, "#count", "-2");
});

liveTest(env, "#reset sets the count back to 0", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/counter");
  await page.click("#inc");
  await page.click("#inc");
  await waitText(page, "#count", "2");
  await page.click("#reset");
  await waitText(page, "#count", "0");
});

liveTest(env, "each page has its own count", async ({ newPage }) => {
  const a = await newPage("page A");
  const b = await newPage("page B");
  await visitLive(a, "/counter");
  await visitLive(b, "/counter");
  await a.click("#inc");
  await waitText(a, "#count", "1");
  await b.click("#dec");
  await waitText(b, "#count", "-1");
  assert.equal(await textOf(a, "#count"), "1");
});

liveTest(env, "/counter?step=5 makes the buttons move by 5", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/counter?step=5");
  await waitText(page, "#count", "0");
  await page.click("#inc");
  await waitText(page, "#count", "5");
  await page.click("#inc");
  await waitText(page, "#count", "10");
  await page.click("#dec");
  await waitText(page, "#count", "5");
});

liveTest(env, "the #step-5 patch link switches to step 5 without remounting the view", async ({ session, newPage }) => {
  const page = await newPage();
  const log = session.log(page);
  await visitLive(page, "/counter");
  await page.click("#inc");
  await waitText(page, "#count", "1");

  const link = await page.$eval("#step-5", (a) => ({
    link: a.getAttribute("data-phx-link"),
    state: a.getAttribute("data-phx-link-state"),
    href: a.getAttribute("href"),
  }));
  assert.equal(link.link, "patch", `#step-5 must be a live patch link: ${JSON.stringify(link)}`);
  assert.ok(["push", "replace"].includes(link.state), `#step-5 needs data-phx-link-state push|replace: ${JSON.stringify(link)}`);

  const marker = await markWindow(page);
  const joinsBefore = log.lvJoins().length;
  const since = log.frames.length;
  await page.click("#step-5");
  await page.waitForURL((u) => u.pathname === "/counter" && u.searchParams.get("step") === "5");
  await log.waitForFrame((f) => f.dir === "sent" && f.msg?.[3] === "live_patch", { since, what: "a live_patch push" });

  // The count survived (no new mount) and the buttons now move by 5.
  await waitText(page, "#count", "1");
  await page.click("#inc");
  await waitText(page, "#count", "6");
  await assertWindowMarker(page, marker, "after the #step-5 patch");
  assert.equal(log.lvJoins().length, joinsBefore, "the patch joined the LiveView again (remount) instead of patching it");
});

liveTest(env, "a dropped socket keeps the count: the rejoin adopts the parked session without mounting", async ({ session, newPage }) => {
  const page = await newPage();
  const log = session.log(page);
  await visitLive(page, "/counter");
  await waitText(page, "#mounts", "1");
  for (let n = 1; n <= 7; n++) {
    await page.click("#inc");
    await waitText(page, "#count", String(n));
  }
  const marker = await markWindow(page);
  const since = log.frames.length;
  // The socket goes away, as in a network blip, and the client connects again.
  await page.evaluate(() => {
    window.liveSocket.disconnect(() => window.liveSocket.connect());
  });
  const rejoin = await log.waitForFrame(
    (f) => f.dir === "sent" && f.msg?.[3] === "phx_join" && String(f.msg?.[2]).startsWith("lv:"),
    { since, what: "the view's phx_join on the new socket" },
  );
  assert.ok(rejoin.msg[4].params._mounts >= 1, `the rejoin counts the earlier mount: ${rejoin.raw}`);
  await expectJoinOk(log, rejoin);
  await waitText(page, "#count", "7");
  assert.equal(await textOf(page, "#mounts"), "1", "the session was adopted, not mounted again");
  await assertWindowMarker(page, marker, "the reconnect");
  await page.click("#inc");
  await waitText(page, "#count", "8");
});

