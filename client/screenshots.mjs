// Screenshots of the demo for the README: `scripts/screenshots` runs this after building
// the debug `cinder-demo`. It starts the embedded demo on a free port (the e2e harness's
// `startEmbedded`), drives Debian's chromium through playwright-core as the browser tests
// do, puts a little state on each page, and writes 1280x800 PNGs (and one 390x844 phone
// shot of /counter) into docs/screenshots/.
//
//   node client/screenshots.mjs [output folder]
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { launchBrowser, repoRoot, startEmbedded } from "./e2e/harness.mjs";

const out = path.resolve(process.argv[2] ?? path.join(repoRoot, "docs/screenshots"));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Opens `route`, waits for its LiveView, runs `prepare`, and waits for a still page. */
async function open(page, url, route, prepare) {
  const res = await page.goto(`${url}${route}`, { waitUntil: "load" });
  if (!res || res.status() === 404) return false;
  if (res.status() !== 200) throw new Error(`GET ${route}: HTTP ${res.status()}`);
  await page.waitForSelector("[data-phx-main].phx-connected", { state: "attached" });
  if (prepare) await prepare(page);
  // No hover left on what the preparation clicked.
  await page.mouse.move(0, page.viewportSize().height - 1);
  // Nothing loading, the progress bar gone, no transition running, fonts in.
  await page.waitForFunction(() => {
    const bar = document.getElementById("topbar");
    const idle = !bar || (!bar.classList.contains("running") && !bar.classList.contains("done"));
    return idle && document.getAnimations().every((a) => a.playState !== "running");
  });
  await page.evaluate(() => document.fonts.ready);
  return true;
}

async function count(page, times) {
  for (let i = 1; i <= times; i++) {
    await page.click("#inc");
    await page.waitForFunction((n) => document.querySelector("#count")?.textContent.trim() === String(n), i);
  }
}

async function say(page, body) {
  const before = await page.$$eval('#messages > [id^="messages-"]', (els) => els.length);
  await page.fill('#chat-form [name="body"]', body);
  await page.$eval("#chat-form", (f) => f.requestSubmit());
  await page.waitForFunction((n) => document.querySelectorAll('#messages > [id^="messages-"]').length > n, before);
}

async function addTodo(page, title) {
  const before = await page.$$eval("#todos > li", (els) => els.length);
  await page.fill('#new-todo [name="title"]', title);
  await page.$eval("#new-todo", (f) => f.requestSubmit());
  await page.waitForFunction((n) => document.querySelectorAll("#todos > li").length > n, before);
}

const shots = [
  { file: "home.png", route: "/" },
  { file: "counter.png", route: "/counter", prepare: (page) => count(page, 3) },
  {
    file: "chat.png",
    route: "/chat/lobby?user=ada",
    // Ada speaks from a second tab (the shot's input stays empty) and Grace joins, so
    // both are online; presence lists Ada once for her two tabs.
    prepare: async (page, { context, url }) => {
      const tab = async (user) => {
        const other = await context.newPage();
        await other.goto(`${url}/chat/lobby?user=${user}`, { waitUntil: "load" });
        await other.waitForSelector("[data-phx-main].phx-connected", { state: "attached" });
        return other;
      };
      const ada = await tab("ada");
      const grace = await tab("grace");
      await say(ada, "Hello from the lobby!");
      await say(grace, "Hi Ada. This message went through the pubsub to your page.");
      await say(ada, "And the online list comes from presence.");
      await page.waitForFunction(() => document.querySelectorAll('#messages > [id^="messages-"]').length === 3);
      await page.waitForSelector("#online-grace");
    },
  },
  {
    file: "todos.png",
    route: "/todos",
    prepare: async (page) => {
      for (const title of ["Write the dashboard", "Take screenshots", "Ship it"]) await addTodo(page, title);
      await page.click("#todos-2 .toggle");
      await page.waitForFunction(() => document.querySelector("#open-count")?.textContent.trim() === "2");
    },
  },
  {
    file: "dashboard.png",
    route: "/dashboard",
    // Three counters clicked once a second, so that the figures and their sparklines
    // move, for the ten seconds the sparklines take to show a trend.
    prepare: async (page, { context, url }) => {
      const counters = [];
      for (let i = 0; i < 3; i++) {
        const counter = await context.newPage();
        await counter.goto(`${url}/counter`, { waitUntil: "load" });
        await counter.waitForSelector("[data-phx-main].phx-connected", { state: "attached" });
        counters.push(counter);
      }
      for (let second = 0; second < 10; second++) {
        for (let i = 0; i <= second % 3; i++) await counters[i].click("#inc");
        await page.waitForTimeout(1000);
      }
    },
  },
  { file: "counter-phone.png", route: "/counter", viewport: PHONE, prepare: (page) => count(page, 2) },
];

const demo = await startEmbedded();
const browser = await launchBrowser();
let failed = false;
try {
  await mkdir(out, { recursive: true });
  for (const shot of shots) {
    const context = await browser.newContext({ viewport: shot.viewport ?? DESKTOP, deviceScaleFactor: 1 });
    context.setDefaultTimeout(10_000);
    try {
      const page = await context.newPage();
      const prepare = shot.prepare && ((p) => shot.prepare(p, { context, url: demo.url }));
      if (!(await open(page, demo.url, shot.route, prepare))) {
        console.log(`${shot.route} answered 404`);
        failed = true;
        continue;
      }
      const file = path.join(out, shot.file);
      await page.screenshot({ path: file });
      console.log(`wrote ${path.relative(repoRoot, file)} (${shot.route})`);
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
  await demo.stop();
}
process.exit(failed ? 1 : 0);
