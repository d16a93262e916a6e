// The split topology: one cinder-gateway in front of two view-node processes
// (`cinder-demo view-node`). Each test starts its own processes, because it kills some.
import assert from "node:assert/strict";
import {
  assertWindowMarker,
  expectJoinOk,
  liveTest,
  mainViewId,
  markWindow,
  startSplit,
  textOf,
  useServers,
  visitLive,
  waitConnected,
  waitText,
} from "./harness.mjs";

const env = useServers(null);
const split = () => startSplit({ nodes: 2 });

/** Waits until every view-node's output matches `pattern`. */
async function waitForNodes(topo, pattern, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!topo.viewNodes.every((vn) => pattern.test(vn.output()))) {
    if (Date.now() > deadline) throw new Error(`no view-node output matching ${pattern} within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Clicks #inc and waits for the count to move from `from` to `from + 1`. */
async function increments(page) {
  const from = Number(await textOf(page, "#count"));
  assert.ok(Number.isInteger(from), `#count does not hold an integer: ${await textOf(page, "#count")}`);
  await page.click("#inc");
  await waitText(page, "#count", String(from + 1));
}

liveTest(
  env,
  "the counter works through a gateway in front of two view-nodes",
  async ({ newPage }) => {
    const page = await newPage();
    await visitLive(page, "/counter");
    await waitText(page, "#count", "0");
    await page.click("#inc");
    await waitText(page, "#count", "1");
    await page.click("#inc");
    await waitText(page, "#count", "2");
    await page.click("#dec");
    await waitText(page, "#count", "1");
  },
  { topology: split },
);

/** The view-node whose output mentions `viewId` (its join or dead render), if exactly one does. */
function nodeLoggingView(topo, viewId) {
  const hits = topo.viewNodes.map((vn, i) => (vn.output().includes(viewId) ? i : -1)).filter((i) => i >= 0);
  return hits.length === 1 ? hits[0] : null;
}

const PAGES = 4;
const ATTEMPTS = 4;

// Which node serves a page is decided by rendezvous hashing of its random view id.
// When the view-nodes log the view ids, the node that served a page is killed.
// Otherwise: open PAGES pages, kill view-node 0, and tell the pages it served (their
// channel errors, closes or rejoins) from the others (their next click is answered);
// if none was on node 0, start over with fresh processes (at most ATTEMPTS times,
// 2^-16 odds to never hit node 0 with working placement).
liveTest(
  env,
  "a page whose view-node is killed rejoins on the other node and its counter works again",
  async ({ t, session }) => {
    // Pages on the killed node see their channel crash; a probe click in flight when
    // the node died may fail (the event died with the node).
    session.allowErrors(/view\.crashed/, /Failed to push event|event\.push-failed/);
    const notes = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const topo = await split();
      const before = session.servers;
      session.servers = () => [...before(), ...topo.servers];
      try {
        const pages = [];
        for (let i = 0; i < PAGES; i++) {
          const page = await session.newPage(`attempt ${attempt} page ${i}`);
          await visitLive(page, `${topo.url}/counter`);
          await page.click("#inc");
          await waitText(page, "#count", "1");
          pages.push({
            page,
            log: session.log(page),
            id: await mainViewId(page),
            marker: await markWindow(page),
          });
        }
        const logged = pages.map((p) => nodeLoggingView(topo, p.id));
        const victim = logged.find((n) => n !== null) ?? 0;
        for (const p of pages) p.since = p.log.frames.length;

        await topo.viewNodes[victim].kill("SIGKILL");

        // Classify every page: disrupted (its channel errored/closed, the socket closed,
        // or it sent a new join) or unaffected (its click is answered by its session).
        const results = await Promise.all(
          pages.map(async (p) => {
            const topic = `lv:${p.id}`;
            const disrupted = p.log
              .waitForFrame(
                (f) =>
                  f.dir === "close" ||
                  (f.dir === "recv" && f.msg?.[2] === topic && ["phx_error", "phx_close"].includes(f.msg[3])) ||
                  (f.dir === "sent" && f.msg?.[2] === topic && f.msg[3] === "phx_join"),
                { since: p.since, timeout: 20_000, what: "a disruption" },
              )
              .then(() => "disrupted");
            disrupted.catch(() => {});
            // Click only while the view is joined, in the same JS turn as the check, so a
            // click never hits a disconnected view (which logs "Failed to push event").
            const clicked = await p.page.evaluate(() => {
              const view = window.liveSocket && window.liveSocket.main;
              if (!view || !view.isConnected()) return false;
              document.querySelector("#inc").click();
              return true;
            });
            const answered = clicked
              ? p.page
                  .waitForFunction(() => document.querySelector("#count")?.textContent.trim() === "2", null, {
                    timeout: 20_000,
                    polling: 50,
                  })
                  .then(() => "unaffected")
              : new Promise(() => {});
            answered.catch(() => {});
            try {
              return await Promise.race([disrupted, answered]);
            } catch (e) {
              throw new Error(
                `${p.log.label} (view ${p.id}): after view-node ${victim} was killed, its click got no answer ` +
                  `and its channel neither errored nor rejoined`,
                { cause: e },
              );
            }
          }),
        );

        const affected = pages.filter((_, i) => results[i] === "disrupted");
        for (const p of pages.filter((_, i) => results[i] === "unaffected")) {
          assert.equal(p.log.lvJoins(p.since).length, 0, `${p.log.label}: rejoined although its node is alive`);
          await waitText(p.page, "#count", "2");
          await increments(p.page);
        }
        for (const p of affected) {
          const topic = `lv:${p.id}`;
          const rejoin = await p.log.waitForFrame(
            (f) => f.dir === "sent" && f.msg?.[2] === topic && f.msg[3] === "phx_join",
            { since: p.since, timeout: 20_000, what: `a rejoin of ${topic} after view-node ${victim} died` },
          );
          await expectJoinOk(p.log, rejoin, 15_000);
          await waitConnected(p.page);
          await assertWindowMarker(p.page, p.marker, `${p.log.label} after its view-node died`);
          await increments(p.page);
          await increments(p.page);
        }
        const expectedVictim = logged.map((n, i) => (n === victim ? pages[i].log.label : null)).filter(Boolean);
        for (const label of expectedVictim) {
          assert.ok(
            affected.some((p) => p.log.label === label),
            `${label} was served by view-node ${victim} (per its log) but was not disturbed when that node died`,
          );
        }
        const how = logged.some((n) => n !== null) ? "it served a page, per its log" : "node 0, no log named the pages";
        notes.push(`attempt ${attempt}: killed view-node ${victim} (${how}); ${affected.length}/${PAGES} pages rejoined`);
        if (affected.length > 0) {
          t.diagnostic(notes.join("; "));
          // Before `finally` stops the servers: the pages would try to reconnect to the
          // dead gateway and log refused connections before the test's error check.
          for (const page of session.pages) await page.close().catch(() => {});
          return;
        }
      } finally {
        await topo.stop();
      }
      // Close this attempt's pages before the next one (their logs stay in the session).
      for (const page of session.pages) await page.close().catch(() => {});
    }
    assert.fail(`no page was ever placed on the killed view-node: ${notes.join("; ")}`);
  },
  { timeout: 240_000 },
);

liveTest(
  env,
  "a page reconnects to a gateway restarted on the same port and keeps its count",
  async ({ session, topo, newPage }) => {
    const page = await newPage();
    const log = session.log(page);
    await visitLive(page, "/counter");
    await page.click("#inc");
    await waitText(page, "#count", "1");
    const marker = await markWindow(page);
    const id = await mainViewId(page);
    const since = log.frames.length;
    const oldSockets = log.wsCount;

    await topo.killGateway();
    await log.waitForFrame((f) => f.dir === "close", { since, what: "the WebSocket to close after the gateway died" });
    // Parking starts when a node sees its link break; a rejoin that reaches the node
    // before that mounts afresh (docs/engine.md, "Kept through a reconnect"). Restart
    // the gateway once every node has seen it go.
    await waitForNodes(topo, /link broke/);
    await topo.restartGateway();

    const rejoin = await log.waitForFrame(
      (f) => f.dir === "sent" && f.msg?.[2] === `lv:${id}` && f.msg[3] === "phx_join" && f.ws >= oldSockets,
      { since, timeout: 20_000, what: "a rejoin through the new gateway" },
    );
    await expectJoinOk(log, rejoin, 15_000);
    await waitConnected(page);
    await assertWindowMarker(page, marker, "after the gateway restart");
    // The counter parks (LiveView::PARK): the link's end left it waiting on its node,
    // and the rejoin through the new gateway adopted it, count and all, unmounted.
    await waitText(page, "#count", "1");
    assert.equal(await textOf(page, "#mounts"), "1", "the session was adopted, not mounted again");
    await increments(page);
    await increments(page);
    // While the gateway was down, the browser's reconnect attempts fail.
    session.allowErrors(/WebSocket connection to .* failed/);
  },
  { topology: split },
);
