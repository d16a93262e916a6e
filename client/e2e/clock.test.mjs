// /clock: the server pushes a new #now every second, without client events.
import assert from "node:assert/strict";
import { assertWindowMarker, liveTest, markWindow, startEmbedded, textOf, useServers, visitLive } from "./harness.mjs";

const env = useServers(startEmbedded);

/** Polls the DOM until #now reads something other than `previous`; returns it. */
async function nextValue(page, previous, timeout) {
  try {
    const handle = await page.waitForFunction(
      (prev) => {
        const el = document.querySelector("#now");
        const text = el && el.textContent.trim();
        return text && text !== prev ? text : false;
      },
      previous,
      { timeout, polling: 100 },
    );
    return await handle.jsonValue();
  } catch (e) {
    throw new Error(`#now still reads ${JSON.stringify(await textOf(page, "#now"))} after ${timeout} ms`, { cause: e });
  }
}

liveTest(env, "#now changes every second", async ({ newPage }) => {
  const page = await newPage();
  await visitLive(page, "/clock");
  const first = await textOf(page, "#now");
  assert.ok(first, "#now is missing or empty");
  const marker = await markWindow(page);
  // Each tick must come within 1 s (plus slack); three distinct values in a row.
  const second = await nextValue(page, first, 2500);
  const third = await nextValue(page, second, 2500);
  assert.equal(new Set([first, second, third]).size, 3, `values: ${first}, ${second}, ${third}`);
  await assertWindowMarker(page, marker, "while the clock ticked");
});
