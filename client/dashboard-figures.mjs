// Prints what the dashboard costs (docs/figures.md, "Dashboard"): the bytes per second
// one dashboard session receives, and the server's CPU and memory with no dashboard
// open (the beats alone) and with DASHBOARDS of them open. Run by scripts/dashboard-figures
// against a running server: node dashboard-figures.mjs <url> <pid>.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "./e2e/harness.mjs";

const [url, pid] = process.argv.slice(2);
const SECONDS = Number(process.env.SECONDS_PER_STEP || 20);
const DASHBOARDS = Number(process.env.DASHBOARDS || 20);
const TICKS_PER_SECOND = 100;

/** CPU seconds and resident bytes of the server. */
function usage() {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
  return { cpu, rss };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU of the server over the next SECONDS, in ms per second. */
async function cpuOver() {
  const before = usage();
  await sleep(SECONDS * 1000);
  return ((usage().cpu - before.cpu) * 1000) / SECONDS;
}

async function openDashboard(context) {
  const page = await context.newPage();
  const received = { bytes: 0, frames: 0 };
  page.on("websocket", (ws) =>
    ws.on("framereceived", (frame) => {
      received.bytes += Buffer.byteLength(frame.payload);
      received.frames += 1;
    }),
  );
  await page.goto(`${url}/dashboard`, { waitUntil: "load" });
  await page.waitForSelector("[data-phx-main].phx-connected");
  await page.waitForSelector("#card-sessions");
  return { page, received };
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
try {
  const context = await browser.newContext();
  const idle = await cpuOver();
  const rssIdle = usage().rss;
  console.log(`server, no dashboard open (its beats only): ${idle.toFixed(1)} ms CPU per second, ${(rssIdle / 2 ** 20).toFixed(1)} MiB resident`);

  const first = await openDashboard(context);
  await sleep(5000); // the history fills; the first renders are larger
  const start = { ...first.received };
  await sleep(SECONDS * 1000);
  const bytes = (first.received.bytes - start.bytes) / SECONDS;
  const frames = (first.received.frames - start.frames) / SECONDS;
  console.log(`one dashboard session receives ${bytes.toFixed(0)} bytes/s in ${frames.toFixed(1)} frames/s (mean over ${SECONDS} s, after a 5 s warm-up)`);

  const rssBefore = usage().rss;
  for (let i = 1; i < DASHBOARDS; i++) await openDashboard(context);
  await sleep(3000);
  const busy = await cpuOver();
  const rssPer = (usage().rss - rssBefore) / (DASHBOARDS - 1);
  console.log(`server with ${DASHBOARDS} dashboards open: ${busy.toFixed(1)} ms CPU per second (${((busy - idle) / DASHBOARDS).toFixed(2)} ms/s per dashboard), ~${(rssPer / 1024).toFixed(0)} KiB resident per dashboard session`);
} finally {
  await browser.close();
}
