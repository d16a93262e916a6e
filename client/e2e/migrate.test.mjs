// Sessions that move when their view-node drains (`LiveView::snapshot`): the page keeps
// its socket, its channel and its state, and sends no `phx_join` again. Each test starts
// its own processes, because it stops some.
import assert from "node:assert/strict";
import {
  liveTest,
  mainViewId,
  markWindow,
  assertWindowMarker,
  startCluster,
  startSplit,
  textOf,
  useServers,
  visitLive,
  waitText,
} from "./harness.mjs";

const env = useServers(null);

/** The servers among `servers` whose output mentions `viewId`. */
function serving(servers, viewId) {
  return servers.filter((s) => s.name.startsWith("view-node") && s.output().includes(viewId));
}

/** SIGTERMs the view-node serving the page's view and waits for it to exit. */
async function drainNodeOf(page, servers) {
  const id = await mainViewId(page);
  const nodes = serving(servers, id);
  assert.equal(nodes.length, 1, `exactly one view-node should have served view ${id}`);
  await nodes[0].kill("SIGTERM");
  return nodes[0];
}

/** The `phx_join`s the page sent for `lv:<id>` since frame `since`. */
function joinsSince(log, id, since) {
  return log.frames.slice(since).filter((f) => f.dir === "sent" && f.msg?.[2] === `lv:${id}` && f.msg[3] === "phx_join");
}

liveTest(
  env,
  "a counter at 7 keeps 7 through its view-node's SIGTERM, on the same socket and channel, mounted once",
  async ({ session, topo, newPage }) => {
    const page = await newPage();
    const log = session.log(page);
    await visitLive(page, "/counter");
    for (let i = 1; i <= 7; i++) {
      await page.click("#inc");
      await waitText(page, "#count", String(i));
    }
    const marker = await markWindow(page);
    const id = await mainViewId(page);
    const since = log.frames.length;
    const sockets = log.wsCount;

    const drained = await drainNodeOf(page, topo.viewNodes);
    assert.match(drained.output(), /moving|draining the link's sessions/, "the node drained its sessions");

    // The next click is answered by the node that took the session over.
    await page.click("#inc");
    await waitText(page, "#count", "8");
    assert.equal(await textOf(page, "#mounts"), "1", "the session moved; it was not mounted again");
    assert.deepEqual(joinsSince(log, id, since), [], "the page sent no phx_join again");
    assert.equal(log.wsCount, sockets, "the page kept its socket");
    await assertWindowMarker(page, marker, "after the drain");
    // The new node rendered the page once, whole, as a diff push (root statics).
    const pushes = log.frames.slice(since).filter((f) => f.dir === "recv" && f.msg?.[3] === "diff");
    assert.equal(pushes.filter((f) => f.msg[4].s !== undefined).length, 1, "one whole render from the new node");
  },
  { topology: () => startSplit({ nodes: 2 }) },
);

liveTest(
  env,
  "a half-typed form keeps its server-side state through a drain",
  async ({ session, topo, newPage }) => {
    const page = await newPage();
    const log = session.log(page);
    await visitLive(page, "/form");
    await page.fill("input[name='user[name]']", "Ada");
    await page.fill("input[name='user[email]']", "ada@example.com");
    await page.click("#signup button[type=submit]");
    await waitText(page, "#signup-ok", "Welcome, Ada!");
    // Half-typed: a name too short, which the server has validated.
    await page.fill("input[name='user[name]']", "B");
    await waitText(page, "#name-error", "Name must have at least 2 characters");
    const id = await mainViewId(page);
    const since = log.frames.length;

    await drainNodeOf(page, topo.viewNodes);

    // The new node has the old node's state: the welcome (which no input holds) and the
    // touched name; the next change is validated there.
    await page.fill("input[name='user[email]']", "ada@example.org");
    await waitText(page, "#name-error", "Name must have at least 2 characters");
    await waitText(page, "#signup-ok", "Welcome, Ada!");
    assert.equal(await textOf(page, "#mounts"), "1", "the session moved; it was not mounted again");
    assert.deepEqual(joinsSince(log, id, since), [], "the page sent no phx_join again");
    await page.fill("input[name='user[name]']", "Bea");
    await page.waitForSelector("#name-error", { state: "detached" });
  },
  { topology: () => startSplit({ nodes: 2 }) },
);

liveTest(
  env,
  "a chat keeps its messages and its presence through a drain, and nobody sees it leave",
  async ({ session, topo, newPage }) => {
    const alice = await newPage("alice");
    const bob = await newPage("bob");
    const log = session.log(alice);
    await visitLive(alice, "/chat/drain?user=alice");
    await visitLive(bob, "/chat/drain?user=bob");
    await waitText(bob, "#online-alice", "alice");
    await waitText(alice, "#online-bob", "bob");
    await alice.fill("#chat-form input[name=body]", "before the drain");
    await alice.press("#chat-form input[name=body]", "Enter");
    await bob.waitForSelector("#messages p:has-text('alice: before the drain')");
    await alice.waitForSelector("#messages p:has-text('alice: before the drain')");
    // Bob's page records every removal of alice from its presence list.
    await bob.evaluate(() => {
      window.aliceLeft = 0;
      new MutationObserver(() => {
        if (!document.getElementById("online-alice")) window.aliceLeft++;
      }).observe(document.getElementById("online"), { childList: true, subtree: true });
    });
    const id = await mainViewId(alice);
    const since = log.frames.length;
    const servers = topo.servers;
    const oldNode = (await alice.textContent("#node")).trim();

    await drainNodeOf(alice, servers);
    await alice.waitForFunction((old) => document.getElementById("node")?.textContent.trim() !== old, oldNode);

    await alice.fill("#chat-form input[name=body]", "after the drain");
    await alice.press("#chat-form input[name=body]", "Enter");
    await bob.waitForSelector("#messages p:has-text('alice: after the drain')");
    await alice.waitForSelector("#messages p:has-text('alice: after the drain')");
    await alice.waitForSelector("#messages p:has-text('alice: before the drain')");
    assert.equal(await textOf(alice, "#mounts"), "1", "the session moved; it was not mounted again");
    assert.deepEqual(joinsSince(log, id, since), [], "the page sent no phx_join again");
    // Past the old node's presence leave (it follows the drain), alice is still there.
    await new Promise((r) => setTimeout(r, 1_000));
    await waitText(bob, "#online-alice", "alice");
    assert.equal(await bob.evaluate(() => window.aliceLeft), 0, "bob never saw alice leave");
  },
  { topology: () => startCluster({ nodes: 3, gateways: 1 }), timeout: 90_000 },
);
