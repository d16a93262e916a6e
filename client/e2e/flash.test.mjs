// Flash on /counter: #reset puts the info flash `Reset` (#flash-info); a click on it
// sends the reserved `lv:clear-flash` event and the server's diff removes it.
import assert from "node:assert/strict";
import { assertWindowMarker, liveTest, markWindow, startEmbedded, textOf, useServers, visitLive, waitPresence, waitText } from "./harness.mjs";

const env = useServers(startEmbedded);

liveTest(env, "#reset shows the flash #flash-info reading Reset; clicking it removes it", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/counter");
  await waitText(page, "#count", "0");
  assert.equal(await textOf(page, "#flash-info"), null, "no flash before a reset");

  await page.click("#inc");
  await waitText(page, "#count", "1");
  await page.click("#reset");
  await waitText(page, "#flash-info", "Reset");
  await waitText(page, "#count", "0");

  await page.click("#flash-info");
  await waitPresence(page, "#flash-info", false);
  assert.equal(await textOf(page, "#count"), "0", "clearing the flash leaves the count");

  await page.click("#inc");
  await waitText(page, "#count", "1");
  assert.equal(await textOf(page, "#flash-info"), null, "the flash stays cleared");
});

liveTest(env, "a flash survives a full redirect once (the client's __phoenix_flash__ cookie)", async ({ newPage, session }) => {
  const page = await newPage();
  await visitLive(page, "/counter");
  const marker = await markWindow(page);
  await page.click("#inc");
  await waitText(page, "#count", "1");

  await page.click("#reload");
  // The new page (count back to 0) shows the flash the old one's redirect carried.
  await waitText(page, "#count", "0");
  await waitText(page, "#flash-info", "Reloaded");
  await assert.rejects(assertWindowMarker(page, marker, "the redirect"), /fully reloaded/, "a full page load");
  const log = session.log(page);
  const redirect = log.frames.find((f) => f.dir === "recv" && f.msg && (f.msg[4]?.response?.redirect || f.msg[3] === "redirect"));
  assert.ok(redirect, "the server answered with a redirect");

  // The page load deleted the cookie: another load shows no flash.
  assert.equal(
    (await page.context().cookies()).find((c) => c.name === "__phoenix_flash__"),
    undefined,
    "the flash cookie is gone",
  );
  await visitLive(page, "/counter");
  assert.equal(await textOf(page, "#flash-info"), null, "the flash shows once");
});
