// /dashboard: the cluster as Cinder itself renders it, live. Embedded, sessions come
// and go; in a cluster (Redis, three view-nodes, two gateways) it lists every process,
// shows a view-node down within seconds of kill -9, and asks for its token.
import assert from "node:assert/strict";
import { after, before } from "node:test";
import {
  liveTest,
  startCluster,
  startEmbedded,
  startSplit,
  useServers,
  visitLive,
  waitConnected,
} from "./harness.mjs";

const embedded = useServers(startEmbedded);

/** The dashboard's figure `#id .value`, as a number. */
async function figure(page, id) {
  const text = await page.locator(`#${id} .value`).textContent();
  return Number(text.replaceAll(",", ""));
}

/** Waits until `read()` returns `expected`, failing with the last value seen. */
async function waitFor(what, read, expected, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let seen;
  for (;;) {
    seen = await read().catch((e) => `error: ${e.message}`);
    if (seen === expected) return;
    if (Date.now() > deadline) throw new Error(`${what}: expected ${expected}, last saw ${seen} (after ${timeout} ms)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

liveTest(embedded, "the dashboard's session count rises by ten as ten counters open, and falls as they close", async ({ newPage }) => {
  const dashboard = await newPage("dashboard");
  await visitLive(dashboard, "/dashboard");
  await dashboard.waitForSelector("#card-sessions .value", { timeout: 10_000 });
  // The dashboard's own session is counted once the node's next beat says so.
  await waitFor("sessions before", () => figure(dashboard, "card-sessions"), 1);
  assert.equal(await dashboard.locator("#nodes tr.node").count(), 1);
  assert.equal(await dashboard.locator("#gateways tr.gateway").count(), 1);
  const counters = [];
  for (let i = 0; i < 10; i++) {
    const page = await newPage(`counter ${i}`);
    await visitLive(page, "/counter");
    counters.push(page);
  }
  await waitFor("sessions with ten counters", () => figure(dashboard, "card-sessions"), 11);
  await waitFor("sockets with ten counters", () => figure(dashboard, "card-sockets"), 11);
  await waitFor("the Counter view's row", async () => Number(await dashboard.locator('#views tr[data-view="Counter"] .count').textContent()), 10);
  for (const page of counters) await page.close();
  await waitFor("sessions after closing them", () => figure(dashboard, "card-sessions"), 1);
});

liveTest(embedded, "the dashboard draws its figures' last minute as SVG sparklines", async ({ newPage }) => {
  const page = await newPage("dashboard");
  await visitLive(page, "/dashboard");
  // Two beats make a line.
  await waitFor(
    "a sparkline with points",
    async () => ((await page.locator("#card-sessions polyline").getAttribute("points")) ?? "").split(" ").length >= 2,
    true,
  );
});

describeCluster();

function describeCluster() {
  const token = "dashboard-token-of-the-test";
  const cluster = { topo: null };
  before(async () => {
    cluster.topo = await startCluster({ nodeEnv: { CINDER_DASHBOARD_TOKEN: token } });
  });
  after(async () => {
    if (cluster.topo) await cluster.topo.stop();
  });

  liveTest(embedded, "in a cluster the dashboard asks for its token, lists every process, and shows a view-node down within seconds of kill -9", async ({ newPage }) => {
    const { topo } = cluster;
    const page = await newPage("dashboard");
    await visitLive(page, `${topo.url}/dashboard`);
    await page.waitForSelector("#dashboard-login");
    await page.fill("#dashboard-token", "not-the-token");
    await page.click("#dashboard-login button");
    await page.waitForSelector("#token-refused");
    await page.fill("#dashboard-token", token);
    await page.click("#dashboard-login button");
    await page.waitForSelector("#nodes");
    assert.match(page.url(), /\/dashboard\?token=dashboard-token-of-the-test$/);
    const states = (tier) =>
      page.locator(`#${tier} tr`).evaluateAll((rows) => rows.filter((r) => r.dataset.name).map((r) => `${r.dataset.name}=${r.dataset.state}`).sort().join(" "));
    await waitFor("the view-nodes", () => states("nodes"), "node-0=ready node-1=ready node-2=ready");
    await waitFor("the gateways", async () => (await states("gateways")).split(" ").filter((s) => s.endsWith("=ready")).length, 2);
    // Kill a node the dashboard's own session is not on.
    const servedBy = (await page.locator("#served-by b").textContent()).trim();
    const victim = ["node-0", "node-1", "node-2"].find((n) => n !== servedBy);
    const server = topo.servers.find((s) => s.name === `view-node ${victim.slice(5)}`);
    const killed = Date.now();
    await server.kill("SIGKILL");
    await waitFor(`${victim} down`, async () => (await states("nodes")).includes(`${victim}=down`), true, 8_000);
    console.log(`# ${victim} shown down ${Date.now() - killed} ms after kill -9`);
    await waitConnected(page);
  }, { timeout: 90_000 });
}

liveTest(embedded, "the dashboard is off on a cluster's view-nodes unless a token is set", async ({ url }) => {
  const res = await fetch(`${url}/dashboard`);
  assert.equal(res.status, 404, `GET /dashboard answered ${res.status}`);
}, { topology: () => startSplit({ nodes: 1 }) });
