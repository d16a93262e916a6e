// /chat/:room?user=NAME: a stream of messages shared by the pages of one room.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { WAIT_MS, liveTest, startEmbedded, useServers, visitLive } from "./harness.mjs";

const env = useServers(startEmbedded);

const room = () => `room-${crypto.randomBytes(5).toString("hex")}`;

async function join(page, roomName, user) {
  await visitLive(page, `/chat/${roomName}?user=${encodeURIComponent(user)}`);
  const container = await page.$eval("#messages", (el) => ({ update: el.getAttribute("phx-update") }));
  assert.equal(container.update, "stream", '#messages must be a stream container (phx-update="stream")');
}

/** The texts of the stream's message elements, whitespace-normalized. */
function messages(page) {
  return page.$$eval('#messages > [id^="messages-"]', (els) =>
    els.map((el) => ({ id: el.id, text: el.textContent.replace(/\s+/g, " ").trim() })),
  );
}

async function send(page, body) {
  await page.fill('#chat-form [name="body"]', body);
  await page.$eval("#chat-form", (f) => f.requestSubmit());
}

/** Waits until the last message element reads `text`. */
async function waitLastMessage(page, text, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(
      (t) => {
        const els = document.querySelectorAll('#messages > [id^="messages-"]');
        const last = els[els.length - 1];
        return !!last && last.textContent.replace(/\s+/g, " ").trim() === t;
      },
      text,
      { timeout, polling: 50 },
    );
  } catch (e) {
    const seen = await messages(page).catch(() => "<page gone>");
    throw new Error(`expected the last message to read ${JSON.stringify(text)}; messages: ${JSON.stringify(seen).slice(0, 2000)}`, {
      cause: e,
    });
  }
}

liveTest(env, "a sent message appears as messages-<id> reading NAME: body", async ({ newPage }) => {
  const page = await newPage();
  await join(page, room(), "alice");
  const form = await page.$eval("#chat-form", (f) => f.getAttribute("phx-submit"));
  assert.equal(form, "send", '#chat-form must have phx-submit="send"');
  await send(page, "hello world");
  await waitLastMessage(page, "alice: hello world");
  const msgs = await messages(page);
  assert.match(msgs[msgs.length - 1].id, /^messages-./, `stream element ids must be messages-<id>: ${JSON.stringify(msgs)}`);
});

liveTest(env, "two pages in the same room see each other's messages", async ({ newPage }) => {
  const r = room();
  const alice = await newPage("alice");
  const bob = await newPage("bob");
  await join(alice, r, "alice");
  await join(bob, r, "bob");
  await send(alice, "hi bob");
  await waitLastMessage(bob, "alice: hi bob");
  await waitLastMessage(alice, "alice: hi bob");
  await send(bob, "hi alice");
  await waitLastMessage(alice, "bob: hi alice");
  await waitLastMessage(bob, "bob: hi alice");
  const [a, b] = [await messages(alice), await messages(bob)];
  assert.deepEqual(
    a.map((m) => m.text),
    b.map((m) => m.text),
    "both pages must show the same messages in the same order",
  );
  assert.equal(new Set(a.map((m) => m.id)).size, a.length, `duplicate stream ids: ${JSON.stringify(a)}`);
});

liveTest(env, "messages stay in their room", async ({ newPage }) => {
  const alice = await newPage("alice (room A)");
  const carol = await newPage("carol (room B)");
  await join(alice, room(), "alice");
  await join(carol, room(), "carol");
  await send(alice, "only for A");
  await waitLastMessage(alice, "alice: only for A");
  await send(carol, "only for B");
  await waitLastMessage(carol, "carol: only for B");
  await send(alice, "sync A");
  await waitLastMessage(alice, "alice: sync A");
  const [a, b] = [await messages(alice), await messages(carol)];
  assert.ok(!a.some((m) => m.text.includes("only for B")), `room A shows room B's message: ${JSON.stringify(a)}`);
  assert.ok(!b.some((m) => m.text.includes("only for A") || m.text.includes("sync A")), `room B shows room A's messages: ${JSON.stringify(b)}`);
});

liveTest(
  env,
  "a room keeps only the last 50 messages",
  async ({ newPage }) => {
    const r = room();
    const alice = await newPage("alice");
    const bob = await newPage("bob");
    await join(alice, r, "alice");
    await join(bob, r, "bob");
    for (let i = 1; i <= 55; i++) {
      await send(alice, `m${i}`);
      await waitLastMessage(alice, `alice: m${i}`);
    }
    await waitLastMessage(bob, "alice: m55");
    const expected = Array.from({ length: 50 }, (_, i) => `alice: m${i + 6}`);
    for (const [name, page] of [
      ["alice", alice],
      ["bob", bob],
    ]) {
      const texts = (await messages(page)).map((m) => m.text);
      assert.deepEqual(texts, expected, `${name}'s page must show exactly m6..m55 (${texts.length} messages shown)`);
    }
  },
  { timeout: 120_000 },
);
