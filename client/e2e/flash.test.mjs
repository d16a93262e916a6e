// Flash on /counter: #reset puts the info flash `Reset` (#flash-info); a click on it
// sends the reserved `lv:clear-flash` event and the server's diff removes it.
import assert from "node:assert/strict";
import { liveTest, startEmbedded, textOf, useServers, visitLive, waitPresence, waitText } from "./harness.mjs";

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
