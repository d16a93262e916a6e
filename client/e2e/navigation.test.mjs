// The index page and live navigation (data-phx-link="redirect") with history.
import assert from "node:assert/strict";
import {
  assertWindowMarker,
  expectJoinOk,
  liveTest,
  markWindow,
  startEmbedded,
  useServers,
  visitLive,
  waitConnected,
  waitPresence,
  waitText,
} from "./harness.mjs";

const env = useServers(startEmbedded);

/** The live links the view rendered (not the layout's nav): `{href, pathname, link, state}`. */
function liveLinks(page) {
  return page.$$eval("[data-phx-main] a[data-phx-link]", (as) =>
    as.map((a) => ({
      href: a.getAttribute("href"),
      pathname: new URL(a.href, location.href).pathname,
      link: a.getAttribute("data-phx-link"),
      state: a.getAttribute("data-phx-link-state"),
    })),
  );
}

liveTest(env, "/ links to every demo with live navigation", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/");
  const links = await liveLinks(page);
  const demos = [
    ["/counter", (p) => p === "/counter"],
    ["/form", (p) => p === "/form"],
    ["/chat/:room", (p) => /^\/chat\/[^/]+$/.test(p)],
    ["/clock", (p) => p === "/clock"],
  ];
  for (const [name, matches] of demos) {
    const link = links.find((l) => matches(l.pathname));
    assert.ok(link, `no live link to ${name} on /; live links: ${JSON.stringify(links)}`);
    assert.equal(link.link, "redirect", `the link to ${name} must be data-phx-link="redirect": ${JSON.stringify(link)}`);
    assert.ok(["push", "replace"].includes(link.state), `the link to ${name} needs data-phx-link-state push|replace: ${JSON.stringify(link)}`);
  }
});

async function navigateToCounter(session, page) {
  const log = session.log(page);
  await visitLive(page, "/");
  const marker = await markWindow(page);
  const link = (await liveLinks(page)).find((l) => l.pathname === "/counter" && l.link === "redirect");
  assert.ok(link, "no live link to /counter on /");
  const since = log.frames.length;
  await page.click(`[data-phx-main] a[data-phx-link="redirect"][href="${link.href}"]`);
  await page.waitForURL((u) => u.pathname === "/counter");
  const join = await log.waitForFrame(
    (f) => f.dir === "sent" && f.msg?.[3] === "phx_join" && String(f.msg[2]).startsWith("lv:"),
    { since, what: "the phx_join of the live navigation" },
  );
  assert.ok(join.msg[4] && join.msg[4].redirect, `the join after the click is not a live redirect: ${join.raw}`);
  await expectJoinOk(log, join);
  await waitText(page, "#count", "0");
  await waitConnected(page);
  await assertWindowMarker(page, marker, "navigating from / to /counter");
  return marker;
}

liveTest(env, "a live link from / mounts /counter without a page load", async ({ session, newPage }) => {
  const page = await newPage();
  await navigateToCounter(session, page);
  assert.equal(await page.title(), "Counter");
  await page.click("#inc");
  await waitText(page, "#count", "1");
});

liveTest(env, "history back and forward move between / and /counter live", async ({ session, newPage }) => {
  const page = await newPage();
  const marker = await navigateToCounter(session, page);

  await page.goBack();
  await page.waitForURL((u) => u.pathname === "/");
  await waitPresence(page, "#count", false);
  await waitPresence(page, '[data-phx-main] a[data-phx-link="redirect"][href="/counter"]', true);
  await waitConnected(page);
  await assertWindowMarker(page, marker, "history back to /");

  await page.goForward();
  await page.waitForURL((u) => u.pathname === "/counter");
  await waitText(page, "#count", "0");
  await waitConnected(page);
  await assertWindowMarker(page, marker, "history forward to /counter");
  await page.click("#inc");
  await waitText(page, "#count", "1");
});
