// /upload: the official client's upload protocol end to end. Choosing files sends
// `phx-change` with `uploads`; a refused file shows its reason in #upload-error and can
// be cancelled; on submit the client preflights (`allow_upload`), joins one `lvu:`
// channel per file, sends binary chunks, reports `progress`, and only then submits;
// #uploaded lists each stored file as `name (size bytes)`.
import assert from "node:assert/strict";
import { liveTest, startEmbedded, textOf, useServers, visitLive, waitPresence, waitText } from "./harness.mjs";

const env = useServers(startEmbedded);

const INPUT = '#upload-form input[type="file"][name="avatar"]';

function file(name, mimeType, size, fill) {
  return { name, mimeType, buffer: Buffer.alloc(size, fill) };
}

liveTest(env, "two files upload with progress and are listed with their sizes", async ({ newPage, session }) => {
  const page = await newPage();
  await visitLive(page, "/upload");
  const log = session.log(page);

  // Every progress value the page shows, as the diffs patch it in.
  await page.evaluate(() => {
    window.__progressSeen = [];
    new MutationObserver(() => {
      for (const el of document.querySelectorAll("#entries .progress")) window.__progressSeen.push(el.textContent.trim());
    }).observe(document.getElementById("entries"), { subtree: true, childList: true, characterData: true });
  });

  const before = log.frames.length;
  await page.setInputFiles(INPUT, [file("photo.png", "image/png", 600_000, 7), file("notes.txt", "text/plain", 130_001, 97)]);
  await waitPresence(page, "#entries li:nth-child(2)", true);
  assert.equal(await textOf(page, "#upload-error"), "", "nothing refused");
  // The image gets a preview the browser draws from the file itself (the
  // Phoenix.LiveImgPreview hook); the text file gets none.
  await page.waitForFunction(() => document.querySelector("#entries img.preview")?.src.startsWith("blob:"));
  assert.equal(await page.locator("#entries img.preview").count(), 1, "only the image has a preview");
  assert.match(await page.getAttribute("#entries img.preview", "id"), /^phx-preview-/);
  const change = log.sent("event", before).find((f) => f.msg[4].event === "validate");
  assert.ok(change, "choosing files sends phx-change");
  const [described] = Object.values(change.msg[4].uploads);
  assert.deepEqual(
    described.map((e) => [e.name, e.size]),
    [
      ["photo.png", 600_000],
      ["notes.txt", 130_001],
    ],
  );

  await page.click("#upload-submit");
  await waitText(page, "#uploaded", "photo.png (600000 bytes)notes.txt (130001 bytes)", 20_000);
  assert.equal(await textOf(page, "#uploaded li:nth-child(1)"), "photo.png (600000 bytes)");
  assert.equal(await textOf(page, "#uploaded li:nth-child(2)"), "notes.txt (130001 bytes)");
  await waitPresence(page, "#entries li", false);

  // The protocol as the client spoke it.
  const preflight = log.sent("allow_upload", before);
  assert.equal(preflight.length, 1, "one preflight for the input");
  const answer = log.replyTo(preflight[0]).msg[4];
  assert.equal(answer.status, "ok");
  assert.equal(Object.keys(answer.response.entries).length, 2, "a token per file");
  const uploadJoins = log.sent("phx_join", before).filter((f) => String(f.msg[2]).startsWith("lvu:"));
  assert.equal(uploadJoins.length, 2, "one lvu: channel per file");
  for (const join of uploadJoins) assert.equal(log.replyTo(join).msg[4].status, "ok", `${join.msg[2]} joined`);
  const progress = log.sent("progress", before).map((f) => f.msg[4]);
  for (const ref of Object.keys(answer.response.entries)) {
    const values = progress.filter((p) => p.entry_ref === ref).map((p) => p.progress);
    assert.ok(values.length >= 2, `entry ${ref} reported progress more than once: ${values}`);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), `entry ${ref}'s progress only grows`);
    assert.equal(values.at(-1), 100, `entry ${ref} finished`);
  }
  const save = log.sent("event", before).filter((f) => f.msg[4].event === "save");
  assert.equal(save.length, 1, "the form submitted once, after the uploads");
  const lastProgress = log.frames.findLastIndex((f) => f.dir === "sent" && f.msg && f.msg[3] === "progress");
  assert.ok(log.frames.indexOf(save[0]) > lastProgress, "the submit follows the last progress");

  // Once consumed, each upload channel is closed by the server, as Phoenix does.
  for (const join of uploadJoins) {
    await log.waitForFrame((f) => f.dir === "recv" && f.msg && f.msg[2] === join.msg[2] && f.msg[3] === "phx_close", {
      since: log.frames.indexOf(save[0]),
      what: `phx_close on ${join.msg[2]}`,
    });
  }

  const seen = await page.evaluate(() => window.__progressSeen);
  assert.ok(
    seen.some((v) => Number(v) > 0 && Number(v) < 100),
    `the page showed progress between 0 and 100: ${seen.join(",")}`,
  );
});

liveTest(env, "refused files show why in #upload-error and can be cancelled", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/upload");

  await page.setInputFiles(INPUT, [file("big.png", "image/png", 1_500_000, 1)]);
  await page.waitForFunction(() => /big\.png: too large/.test(document.getElementById("upload-error").textContent));

  // The refused file blocks the submit until it is cancelled.
  await page.click("#upload-submit");
  await page.click("#entries li .cancel");
  await waitText(page, "#upload-error", "");
  await waitPresence(page, "#entries li", false);

  await page.setInputFiles(INPUT, [file("tool.exe", "application/x-msdownload", 10, 2)]);
  await page.waitForFunction(() => /tool\.exe: not accepted/.test(document.getElementById("upload-error").textContent));
  await page.click("#entries li .cancel");
  await waitText(page, "#upload-error", "");

  // A good file after the refused ones still goes through.
  await page.setInputFiles(INPUT, [file("ok.txt", "text/plain", 12, 65)]);
  await waitPresence(page, "#entries li", true);
  await page.click("#upload-submit");
  await waitText(page, "#uploaded", "ok.txt (12 bytes)");
  assert.equal(await textOf(page, "#upload-error"), "");
});

liveTest(env, "a third file is too many", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/upload");
  await page.setInputFiles(INPUT, [
    file("a.txt", "text/plain", 3, 65),
    file("b.txt", "text/plain", 3, 66),
    file("c.txt", "text/plain", 3, 67),
  ]);
  await page.waitForFunction(() => /too many files/.test(document.getElementById("upload-error").textContent));
  await page.click("#entries li:nth-child(3) .cancel");
  await waitText(page, "#upload-error", "");
  await page.click("#upload-submit");
  await waitText(page, "#uploaded", "a.txt (3 bytes)b.txt (3 bytes)");
});
