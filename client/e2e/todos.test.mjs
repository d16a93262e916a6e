// /todos: items are live components in a stream (`#todos`, phx-update="stream").
// Each item's .toggle, .edit (then its form) and .delete carry the item's cid
// (phx-target={myself}) and reach only that item; the view keeps #open-count and shows
// the flash `Deleted` in #flash-info. A deleted item's element goes away, and the
// client's cids_will_destroy / cids_destroyed handshake gets its `{cids: [...]}` reply.
import assert from "node:assert/strict";
import { liveTest, startEmbedded, textOf, useServers, visitLive, waitPresence, waitText } from "./harness.mjs";

const env = useServers(startEmbedded);

async function add(page, title) {
  await page.fill('#new-todo [name="title"]', title);
  await page.$eval("#new-todo", (f) => f.requestSubmit());
}

liveTest(env, "todos toggle, edit and delete themselves; the view counts and flashes", async ({ newPage, session }) => {
  const page = await newPage();
  await visitLive(page, "/todos");
  await waitText(page, "#open-count", "0");

  await add(page, "Milk");
  await waitPresence(page, "#todos-1", true);
  await add(page, "Eggs");
  await waitPresence(page, "#todos-2", true);
  await waitText(page, "#open-count", "2");
  assert.equal(await textOf(page, "#todos-1 .title"), "Milk");
  assert.equal(await textOf(page, "#todos-2 .title"), "Eggs");

  // The toggle's click carries item 1's cid.
  const log = session.log(page);
  const before = log.frames.length;
  await page.click("#todos-1 .toggle");
  await waitText(page, "#open-count", "1");
  const toggles = log.sent("event", before).filter((f) => f.msg[4].event === "toggle");
  assert.equal(toggles.length, 1, "one toggle event");
  assert.equal(typeof toggles[0].msg[4].cid, "number", "the toggle carries a cid");
  await page.waitForSelector("#todos-1 .todo.done");
  assert.equal(await page.$("#todos-2 .todo.done"), null, "item 2 is untouched");

  // Edit item 2: its form replaces the title, saving brings it back.
  await page.click("#todos-2 .edit");
  await page.waitForSelector("#todos-2 form.edit-form");
  await page.fill('#todos-2 form.edit-form [name="title"]', "Bread");
  await page.$eval("#todos-2 form.edit-form", (f) => f.requestSubmit());
  await waitText(page, "#todos-2 .title", "Bread");
  assert.equal(await textOf(page, "#todos-1 .title"), "Milk");

  // Delete item 2: the flash, the element gone, the count, and the destroy handshake.
  const beforeDelete = log.frames.length;
  await page.click("#todos-2 .delete");
  await waitText(page, "#flash-info", "Deleted");
  await waitPresence(page, "#todos-2", false);
  await waitText(page, "#open-count", "0");
  const destroyed = await log.waitForFrame(
    (f) => f.dir === "sent" && f.msg && f.msg[3] === "cids_destroyed",
    { since: beforeDelete, what: "cids_destroyed" },
  );
  const reply = await log.waitForFrame(
    (f) => f.dir === "recv" && f.msg && f.msg[3] === "phx_reply" && f.msg[1] === destroyed.msg[1],
    { since: beforeDelete, what: "the reply to cids_destroyed" },
  );
  assert.deepEqual(reply.msg[4], { status: "ok", response: { cids: destroyed.msg[4].cids } });

  // Item 1 still works after the delete.
  await page.click("#todos-1 .toggle");
  await waitText(page, "#open-count", "1");
});
