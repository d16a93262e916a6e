// The cluster: Redis, three view-nodes and two gateways that find them through Redis.
// Two pages on different gateways share a chat room: messages through the Redis pubsub,
// `#online` from presence replicated between view-nodes.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { WAIT_MS, liveTest, startCluster, useServers, visitLive } from "./harness.mjs";

const env = useServers(null);
const cluster = () => startCluster({ nodes: 3, gateways: 2 });

async function send(page, body) {
  await page.fill('#chat-form [name="body"]', body);
  await page.$eval("#chat-form", (f) => f.requestSubmit());
}

/** Waits until some message element reads `text`. */
async function waitMessage(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#messages > [id^="messages-"]')].some((el) => el.textContent.replace(/\s+/g, " ").trim() === t),
    text,
    { timeout: WAIT_MS, polling: 50 },
  );
}

/** Waits until `#online` lists exactly `users`, one `<li id="online-NAME">` each. */
async function waitOnline(page, users) {
  const want = [...users].sort();
  try {
    await page.waitForFunction(
      (w) => {
        const ids = [...document.querySelectorAll("#online > li")].map((li) => li.id);
        return JSON.stringify(ids) === JSON.stringify(w.map((u) => `online-${u}`));
      },
      want,
      { timeout: WAIT_MS, polling: 50 },
    );
  } catch (e) {
    const seen = await page.$$eval("#online > li", (els) => els.map((li) => li.id)).catch(() => "<page gone>");
    throw new Error(`expected #online to list ${JSON.stringify(want)}; it lists ${JSON.stringify(seen)}`, { cause: e });
  }
}

liveTest(
  env,
  "two pages on different gateways see each other's messages and presence",
  async ({ topo, newPage }) => {
    const room = `room-${crypto.randomBytes(4).toString("hex")}`;
    const [g1, g2] = topo.urls;
    const alice = await newPage("alice");
    const bob = await newPage("bob");
    await visitLive(alice, `${g1}/chat/${room}?user=alice`);
    // Placement is by the page's random view id: reload bob until another node serves him.
    const aliceNode = await alice.textContent("#node");
    let bobNode = aliceNode;
    for (let i = 0; i < 20 && bobNode === aliceNode; i++) {
      await visitLive(bob, `${g2}/chat/${room}?user=bob`);
      bobNode = await bob.textContent("#node");
    }
    assert.notEqual(bobNode, aliceNode, "bob's pages all landed on alice's view-node");

    await waitOnline(alice, ["alice", "bob"]);
    await waitOnline(bob, ["alice", "bob"]);

    await send(alice, "hello through g1");
    await waitMessage(bob, "alice: hello through g1");
    await send(bob, "hello through g2");
    await waitMessage(alice, "bob: hello through g2");

    const ids = await alice.$$eval('#messages > [id^="messages-"]', (els) => els.map((el) => el.id));
    assert.equal(new Set(ids).size, ids.length, `duplicate stream ids across nodes: ${JSON.stringify(ids)}`);

    // Closing bob's page ends his session: he leaves alice's list.
    await bob.close();
    await waitOnline(alice, ["alice"]);
  },
  { topology: cluster, timeout: 90_000 },
);
