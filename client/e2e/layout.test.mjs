// The demo's layout (demo/src/layout.rs, client/app.css, client/app.js): the header's
// nav navigates live and marks the current page, the connection indicator follows the
// main container's classes through a view-node's death and return, and the stylesheet
// is served as CSS and applied.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  clientDir,
  liveTest,
  startEmbedded,
  startSplit,
  useServers,
  visitLive,
  waitConnected,
  waitText,
} from "./harness.mjs";

const env = useServers(startEmbedded);

/** The ids of the nav links marked aria-current="page". */
function currentLinks(page) {
  return page.$$eval("#nav a[aria-current]", (as) => as.map((a) => `${a.id}=${a.getAttribute("aria-current")}`));
}

/** Waits until exactly `id` is the nav's current link. */
async function waitCurrent(page, id) {
  try {
    await page.waitForFunction(
      (want) => {
        const marked = [...document.querySelectorAll("#nav a[aria-current]")];
        return marked.length === 1 && marked[0].id === want && marked[0].getAttribute("aria-current") === "page";
      },
      id,
      { polling: 50 },
    );
  } catch (e) {
    throw new Error(`expected only #${id} to be aria-current="page"; marked: ${JSON.stringify(await currentLinks(page))}`, {
      cause: e,
    });
  }
}

async function assertNoReload(page, what) {
  assert.equal(await page.evaluate(() => window.__marker ?? null), 1, `${what}: the page was reloaded (window.__marker is gone)`);
}

liveTest(env, "the header nav navigates live, changes the URL and title, and moves aria-current", async ({ session, newPage }) => {
  const page = await newPage();
  const log = session.log(page);
  await visitLive(page, "/");
  await waitCurrent(page, "nav-home");
  await page.evaluate(() => {
    window.__marker = 1;
  });
  const pagesLoaded = [];
  page.on("load", () => pagesLoaded.push(page.url()));

  const nav = await page.$$eval("#nav a", (as) =>
    as.map((a) => ({ id: a.id, href: a.getAttribute("href"), link: a.dataset.phxLink, state: a.dataset.phxLinkState })),
  );
  const ids = nav.map((l) => l.id);
  for (const id of ["nav-home", "nav-counter", "nav-form", "nav-chat", "nav-clock", "nav-feed", "nav-todos", "nav-upload", "nav-dashboard"]) {
    assert.ok(ids.includes(id), `no #${id} in the nav: ${JSON.stringify(nav)}`);
  }
  for (const l of nav) {
    assert.equal(l.link, "redirect", `#${l.id} is not a live redirect link: ${JSON.stringify(l)}`);
    assert.equal(l.state, "push", `#${l.id} does not push history: ${JSON.stringify(l)}`);
  }

  let since = log.frames.length;
  await page.click("#nav-counter");
  await page.waitForURL((u) => u.pathname === "/counter");
  const join = await log.waitForFrame((f) => f.dir === "sent" && f.msg?.[3] === "phx_join" && String(f.msg[2]).startsWith("lv:"), {
    since,
    what: "the phx_join of the live navigation to /counter",
  });
  assert.ok(join.msg[4]?.redirect, `the join after the click is not a live redirect: ${join.raw}`);
  await waitText(page, "#count", "0");
  await waitConnected(page);
  await page.waitForFunction(() => document.title === "Counter");
  await waitCurrent(page, "nav-counter");
  await assertNoReload(page, "#nav-counter");

  since = log.frames.length;
  await page.click("#nav-form");
  await page.waitForURL((u) => u.pathname === "/form");
  await page.waitForSelector("#signup");
  await waitConnected(page);
  await page.waitForFunction(() => document.title === "Sign up");
  await waitCurrent(page, "nav-form");
  await assertNoReload(page, "#nav-form");
  assert.equal(log.lvJoins(since).length, 1, "one join for the navigation to /form");

  // History moves the mark too (the client's popstate navigation).
  await page.goBack();
  await page.waitForURL((u) => u.pathname === "/counter");
  await waitText(page, "#count", "0");
  await waitCurrent(page, "nav-counter");
  await assertNoReload(page, "history back to /counter");

  // A page of a section marks that section's link: /chat/other is under Chat.
  await page.click("#nav-chat");
  await page.waitForURL((u) => u.pathname === "/chat/lobby");
  await waitConnected(page);
  await waitCurrent(page, "nav-chat");
  await assertNoReload(page, "#nav-chat");
  assert.deepEqual(pagesLoaded, [], "no page load during live navigation");

  // The progress bar is done once nothing loads.
  await page.waitForFunction(() => !document.getElementById("topbar").classList.contains("running"));
});

liveTest(env, "/assets/app.css is served as text/css and the page links and applies it", async ({ url, newPage }) => {
  const res = await fetch(`${url}/assets/app.css`);
  assert.equal(res.status, 200, `GET /assets/app.css answered ${res.status}`);
  assert.match(res.headers.get("content-type") ?? "", /^text\/css\b/, `content-type ${res.headers.get("content-type")}`);
  const body = await res.text();
  assert.ok(body === (await readFile(path.join(clientDir, "app.css"), "utf8")), "GET /assets/app.css is not client/app.css");

  const page = await newPage();
  await visitLive(page, "/counter");
  const sheet = await page.evaluate(() => {
    const link = document.querySelector('head link[rel="stylesheet"][href="/assets/app.css"]');
    const loaded = [...document.styleSheets].find((s) => s.href && new URL(s.href).pathname === "/assets/app.css");
    return {
      linked: !!link,
      rules: loaded ? loaded.cssRules.length : 0,
      background: getComputedStyle(document.body).backgroundColor,
      header: getComputedStyle(document.querySelector(".site-header")).position,
    };
  });
  assert.ok(sheet.linked, "no <link rel=stylesheet href=/assets/app.css> in the head");
  assert.ok(sheet.rules > 50, `app.css is not loaded (${sheet.rules} rules)`);
  assert.equal(sheet.background, "rgb(245, 246, 248)", "the body's background is not app.css's");
  assert.equal(sheet.header, "sticky", "the header is not styled by app.css");
});

/** What the connection indicator shows: its state, its dot's colour and whether the banner is visible. */
function readIndicator() {
  const dot = document.getElementById("connection");
  const banner = document.getElementById("connection-lost");
  return {
    state: dot.getAttribute("data-state"),
    label: dot.textContent.trim(),
    dot: getComputedStyle(dot, "::before").backgroundColor,
    banner: getComputedStyle(banner).display !== "none",
  };
}

async function waitState(page, state, timeout) {
  try {
    await page.waitForSelector(`#connection[data-state="${state}"]`, { state: "attached", timeout });
  } catch (e) {
    throw new Error(`#connection never showed ${state} within ${timeout} ms: ${JSON.stringify(await page.evaluate(readIndicator))}`, {
      cause: e,
    });
  }
}

/** Waits until the indicator shows `expected` (the dot's colour has a short transition). */
async function waitIndicator(page, expected) {
  const want = JSON.stringify(expected);
  try {
    await page.waitForFunction(`JSON.stringify((${readIndicator})()) === ${JSON.stringify(want)}`, null, { polling: 50 });
  } catch (e) {
    assert.deepEqual(await page.evaluate(readIndicator), expected, "the connection indicator");
    throw e;
  }
}

const GREEN = "rgb(22, 163, 74)";
const RED = "rgb(220, 38, 38)";

liveTest(
  env,
  "the connection indicator shows a view-node's death and the reconnect after it restarts",
  async ({ session, topo, newPage }) => {
    // The channel crashes with its node, and a rejoin while no node is up is refused
    // ("unavailable"); the client then reloads the page once the node is back.
    session.allowErrors(/view\.crashed/, /view\.join-failed/);
    const page = await newPage();
    await visitLive(page, "/counter");
    await waitState(page, "connected", 10_000);
    await waitIndicator(page, { state: "connected", label: "Connected", dot: GREEN, banner: false });

    const node = topo.viewNodes[0];
    const addr = /\bview-node listening on (127\.0\.0\.1:\d+)/.exec(node.output())?.[1];
    assert.ok(addr, `view-node 0 printed no listening address:\n${node.tail()}`);
    await node.kill("SIGKILL");

    await waitState(page, "disconnected", 10_000);
    await page.waitForSelector("#connection-lost", { state: "visible" });
    await waitIndicator(page, { state: "disconnected", label: "Reconnecting…", dot: RED, banner: true });
    assert.equal((await page.textContent("#connection-lost")).trim(), "Reconnecting…");

    node.args = ["view-node", "--listen", addr];
    await node.start(/\bview-node listening on (127\.0\.0\.1:\d+)/);

    // The rejoin lands at once if the gateway's link is back in time, else the client
    // reloads the page 5 to 10 s after the refused rejoin.
    await waitState(page, "connected", 30_000);
    await waitConnected(page);
    await page.waitForSelector("#connection-lost", { state: "hidden" });
    await waitIndicator(page, { state: "connected", label: "Connected", dot: GREEN, banner: false });
    await waitText(page, "#count", "0");
    await page.click("#inc");
    await waitText(page, "#count", "1");
  },
  { topology: () => startSplit({ nodes: 1 }), timeout: 90_000 },
);
