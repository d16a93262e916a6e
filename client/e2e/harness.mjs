// Shared harness of the browser end-to-end tests (`node --test e2e/`).
//
// - Starts Cinder's binaries as child processes and waits for the "listening"
//   line they print on stdout (never a sleep); every child is killed when the
//   test file ends, on failure too, and on SIGINT/SIGTERM.
// - Drives Debian's chromium (/usr/bin/chromium) through playwright-core.
//   `chromium.launch` gives each browser a fresh temporary profile (user data
//   dir) that playwright deletes on close; one browser per test file, one
//   browser context (cookies, storage) per test.
// - Records, per page, console messages, page errors, LiveView's error-level
//   diagnostics (`phx:live-view:diagnostic` events) and every WebSocket frame,
//   and fails a test when the client logged an error the test did not expect.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { before, after, test } from "node:test";
import { chromium } from "playwright-core";

export const clientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = path.resolve(clientDir, "..");
export const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(process.env.CARGO_TARGET_DIR)
  : path.join(repoRoot, "target");
export const CHROMIUM = process.env.CINDER_E2E_CHROMIUM || "/usr/bin/chromium";

/** Default time for one wait on the page (an element, a text, a frame). */
export const WAIT_MS = 10_000;
/** Time a server gets to print its listening line. */
const START_MS = 30_000;

export function binPath(name) {
  return path.join(targetDir, "debug", name);
}

/** Throws a clear error when a binary the suite needs is not built. */
export function requireBinaries(names) {
  const missing = names.map(binPath).filter((p) => !existsSync(p) || !statSync(p).isFile());
  if (missing.length > 0) {
    throw new Error(
      `e2e: missing binaries: ${missing.join(", ")}.\n` +
        `Build them first, from ${repoRoot}:\n` +
        `    cargo build -p cinder-demo -p cinder-gateway\n` +
        `(the suite looks in $CARGO_TARGET_DIR/debug, else <repo>/target/debug)`,
    );
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `e2e: no browser at ${CHROMIUM}. Install Debian's chromium: apt-get install -y chromium fonts-liberation`,
    );
  }
}

// ---------------------------------------------------------------------------
// Child processes

const children = new Set();

function killAllNow() {
  for (const child of children) {
    try {
      child.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}
process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    killAllNow();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
}

/** One server process; its stdout and stderr lines are kept for failure reports. */
export class Server {
  constructor(name, file, args, env = {}) {
    this.name = name;
    this.file = file;
    this.args = args;
    this.env = env;
    this.lines = [];
    this.proc = null;
    this.exited = null;
  }

  get command() {
    return [this.file, ...this.args].join(" ");
  }

  /** Spawns the process and resolves with the match of `ready` on a stdout line. */
  start(ready) {
    this.lines = [];
    const proc = spawn(this.file, this.args, {
      cwd: repoRoot,
      env: { NO_COLOR: "1", ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = proc;
    const entry = { proc };
    children.add(entry);
    this.exited = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        children.delete(entry);
        resolve({ code, signal });
      });
    });
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err, value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          try {
            proc.kill("SIGKILL");
          } catch {
            // gone
          }
          reject(err);
        } else {
          resolve(value);
        }
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `${this.name}: no line matching ${ready} on stdout within ${START_MS} ms\n` +
                `  command: ${this.command}\n${this.tail()}`,
            ),
          ),
        START_MS,
      );
      proc.once("error", (e) => finish(new Error(`${this.name}: cannot start ${this.file}: ${e.message}`)));
      readline.createInterface({ input: proc.stdout }).on("line", (line) => {
        this.keep(`[out] ${line}`);
        const m = ready.exec(line);
        if (m) finish(null, m);
      });
      readline.createInterface({ input: proc.stderr }).on("line", (line) => this.keep(`[err] ${line}`));
      this.exited.then(({ code, signal }) =>
        finish(
          new Error(
            `${this.name} exited (code ${code}, signal ${signal}) before printing a line matching ${ready}\n` +
              `  command: ${this.command}\n${this.tail()}`,
          ),
        ),
      );
    });
  }

  keep(line) {
    this.lines.push(line);
    if (this.lines.length > 20_000) this.lines.splice(0, 5_000);
  }

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` (default SIGKILL, i.e. kill -9) and waits for the exit. */
  async kill(signal = "SIGKILL") {
    if (!this.running) return;
    this.proc.kill(signal);
    await this.exited;
  }

  output() {
    return this.lines.join("\n");
  }

  tail(n = 40) {
    const lines = this.lines.slice(-n);
    return `  --- last ${lines.length} output lines of ${this.name} ---\n` + lines.map((l) => `  ${l}`).join("\n");
  }
}

/** The embedded topology: one `cinder-demo` process (gateway + view-node + pubsub). */
export async function startEmbedded() {
  requireBinaries(["cinder-demo"]);
  const demo = new Server("cinder-demo (embedded)", binPath("cinder-demo"), [], {
    PORT: "0",
    CINDER_SECRET: crypto.randomBytes(32).toString("hex"),
  });
  const m = await demo.start(/\blistening on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    url: m[1],
    servers: [demo],
    async stop() {
      await demo.kill();
    },
  };
}

/**
 * The split topology: `nodes` view-node processes (`cinder-demo view-node`) and one
 * `cinder-gateway` in front of them, all sharing one CINDER_SECRET.
 */
export async function startSplit({ nodes = 2 } = {}) {
  requireBinaries(["cinder-demo", "cinder-gateway"]);
  const env = { CINDER_SECRET: crypto.randomBytes(32).toString("hex") };
  const viewNodes = [];
  const addrs = [];
  const topo = {
    url: null,
    port: null,
    gateway: null,
    viewNodes,
    get servers() {
      return [this.gateway, ...viewNodes].filter(Boolean);
    },
    async stop() {
      await Promise.all(this.servers.map((s) => s.kill()));
    },
    /** Kills the gateway with SIGKILL. */
    async killGateway() {
      await this.gateway.kill("SIGKILL");
    },
    /** Starts a new gateway process on the same port as the first one. */
    async restartGateway() {
      await startGateway(`127.0.0.1:${this.port}`, `gateway#${++gatewayCount}`);
    },
  };
  let gatewayCount = 0;
  const startGateway = async (listen, name) => {
    const args = ["--listen", listen];
    for (const a of addrs) args.push("--view-node", a);
    args.push("--assets", clientDir);
    const gw = new Server(`cinder-gateway (${name})`, binPath("cinder-gateway"), args, env);
    topo.gateway = gw;
    const m = await gw.start(/\bgateway listening on (http:\/\/127\.0\.0\.1:(\d+))/);
    return m;
  };
  try {
    for (let i = 0; i < nodes; i++) {
      const vn = new Server(`view-node ${i}`, binPath("cinder-demo"), ["view-node", "--listen", "127.0.0.1:0"], env);
      viewNodes.push(vn);
      const m = await vn.start(/\bview-node listening on (127\.0\.0\.1:\d+)/);
      addrs.push(m[1]);
    }
    const m = await startGateway("127.0.0.1:0", `gateway#${gatewayCount}`);
    topo.url = m[1];
    topo.port = Number(m[2]);
  } catch (e) {
    await topo.stop();
    throw e;
  }
  return topo;
}

/** A free loopback port (bound, then released). */
async function freePort() {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The cluster topology: a `redis-server` on a free port, `nodes` view-nodes and
 * `gateways` gateways that find the nodes in Redis (membership), all sharing one
 * CINDER_SECRET (`nodeEnv` adds variables to the view-nodes'). `urls[i]` is gateway i;
 * `url` is the first.
 */
export async function startCluster({ nodes = 3, gateways = 2, nodeEnv = {} } = {}) {
  requireBinaries(["cinder-demo", "cinder-gateway"]);
  const env = { CINDER_SECRET: crypto.randomBytes(32).toString("hex") };
  const servers = [];
  const topo = {
    url: null,
    urls: [],
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.kill()));
    },
  };
  try {
    const port = await freePort();
    const redis = new Server("redis-server", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    servers.push(redis);
    await redis.start(/Ready to accept connections/);
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < nodes; i++) {
      const args = ["view-node", "--listen", "127.0.0.1:0", "--redis", url, "--name", `node-${i}`, "--presence-period-ms", "200"];
      const vn = new Server(`view-node ${i}`, binPath("cinder-demo"), args, { ...env, ...nodeEnv });
      servers.push(vn);
      await vn.start(/\bview-node listening on (127\.0\.0\.1:\d+)/);
    }
    for (let i = 0; i < gateways; i++) {
      const args = ["--listen", "127.0.0.1:0", "--redis", url, "--assets", clientDir];
      const gw = new Server(`cinder-gateway ${i}`, binPath("cinder-gateway"), args, env);
      servers.push(gw);
      const m = await gw.start(/\bgateway listening on (http:\/\/127\.0\.0\.1:\d+)/);
      topo.urls.push(m[1]);
      await waitLinks(m[1], nodes);
    }
    topo.url = topo.urls[0];
  } catch (e) {
    await topo.stop();
    throw e;
  }
  return topo;
}

/** Waits until the gateway at `url` has a link up to `count` view-nodes. */
async function waitLinks(url, count) {
  const deadline = Date.now() + START_MS;
  for (;;) {
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text()).catch(() => "");
    if (metrics.split("\n").includes(`cinder_gateway_links_up ${count}`)) return;
    if (Date.now() > deadline) throw new Error(`${url}: fewer than ${count} view-node links after ${START_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------
// Browser

export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Errors that mean nothing is wrong with the client; never reported. */
const ALWAYS_ALLOWED = [];

/**
 * Everything a page showed: console, page errors, LiveView error diagnostics and
 * WebSocket frames (`{dir: "sent"|"recv", t, ws, msg: [join_ref, ref, topic, event, payload]}`).
 */
class PageLog {
  constructor(label) {
    this.label = label;
    this.console = [];
    this.pageErrors = [];
    this.diagnostics = [];
    this.frames = [];
    this.sockets = [];
    this.wsCount = 0;
    this.httpErrors = [];
    this.waiters = new Set();
  }

  pushFrame(frame) {
    this.frames.push(frame);
    for (const w of this.waiters) w.check();
  }

  /** Resolves with the first frame (already seen or future) matching `pred`. */
  waitForFrame(pred, { timeout = WAIT_MS, what = "a matching WebSocket frame", since = 0 } = {}) {
    return new Promise((resolve, reject) => {
      let seen = since;
      const w = {
        check: () => {
          for (; seen < this.frames.length; seen++) {
            if (pred(this.frames[seen])) {
              clearTimeout(timer);
              this.waiters.delete(w);
              resolve(this.frames[seen]);
              return;
            }
          }
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`${this.label}: timed out after ${timeout} ms waiting for ${what}`));
      }, timeout);
      this.waiters.add(w);
      w.check();
    });
  }

  sent(event, since = 0) {
    return this.frames.slice(since).filter((f) => f.dir === "sent" && f.msg && f.msg[3] === event);
  }

  /** `phx_join` frames this page sent for LiveView topics (`lv:`), from frame index `since`. */
  lvJoins(since = 0) {
    return this.sent("phx_join", since).filter((f) => String(f.msg[2]).startsWith("lv:"));
  }

  /** The reply to a sent frame (matched by ref and topic on the same socket), if any. */
  replyTo(frame) {
    const [, ref, topic] = frame.msg;
    return this.frames.find(
      (f) => f.dir === "recv" && f.ws === frame.ws && f.msg && f.msg[1] === ref && f.msg[2] === topic && f.msg[3] === "phx_reply",
    );
  }

  /** Client-side errors: console errors, uncaught exceptions, LiveView error diagnostics. */
  errors() {
    const out = [];
    for (const c of this.console) {
      if (c.type === "error") out.push(`console.error: ${c.text}`);
      else if (c.type === "warning" && /asset version mismatch/i.test(c.text)) out.push(`console.warn: ${c.text}`);
    }
    for (const e of this.pageErrors) out.push(`page error: ${e}`);
    for (const d of this.diagnostics) out.push(`LiveView diagnostic ${d.code}: ${d.message}`);
    return out;
  }

  report({ frames = 30 } = {}) {
    const lines = [`  --- ${this.label} ---`];
    if (this.console.length) {
      lines.push("  console:");
      for (const c of this.console.slice(-40)) lines.push(`    [${c.type}] ${c.text.slice(0, 500)}${c.url ? ` (${c.url})` : ""}`);
    }
    if (this.pageErrors.length) lines.push("  page errors:", ...this.pageErrors.map((e) => `    ${e.slice(0, 1000)}`));
    if (this.diagnostics.length) {
      lines.push("  LiveView diagnostics:", ...this.diagnostics.map((d) => `    ${JSON.stringify(d).slice(0, 500)}`));
    }
    if (this.httpErrors.length) lines.push("  HTTP errors:", ...this.httpErrors.map((e) => `    ${e}`));
    if (this.sockets.length) lines.push("  websockets:", ...this.sockets.map((s) => `    ${s}`));
    if (this.frames.length) {
      lines.push(`  last ${Math.min(frames, this.frames.length)} of ${this.frames.length} WebSocket frames:`);
      for (const f of this.frames.slice(-frames)) {
        const text = typeof f.raw === "string" ? f.raw : `<binary ${f.raw.length} bytes>`;
        const at = new Date(f.t).toISOString().slice(11, 23);
        lines.push(`    ${at} ws${f.ws} ${f.dir === "sent" ? "->" : "<-"} ${text.slice(0, 400)}`);
      }
    }
    return lines.join("\n");
  }
}

async function instrument(context) {
  // LiveView dispatches its error-level diagnostics as window events; most of them
  // (join failures, crashes, reload fallbacks) never reach the console unless the
  // client's debug mode is on.
  await context.exposeBinding("__cinderDiagnostic", ({ page }, detail) => {
    const log = page && page.__cinderLog;
    if (log) log.diagnostics.push(detail);
  });
  await context.addInitScript(() => {
    window.addEventListener("phx:live-view:diagnostic", (e) => {
      const d = e.detail || {};
      if (d.level !== "error") return;
      let metadata;
      try {
        metadata = JSON.stringify(d.metadata, (k, v) => (v instanceof Node ? `<${v.nodeName}>` : v));
      } catch {
        metadata = String(d.metadata);
      }
      window.__cinderDiagnostic({
        code: d.code,
        message: d.message,
        attribution: d.attribution,
        viewId: d.viewId,
        metadata: metadata && metadata.slice(0, 300),
      });
    });
  });
}

function watchPage(page, label) {
  const log = new PageLog(label);
  page.__cinderLog = log;
  page.on("console", (m) => {
    const url = m.location()?.url ?? "";
    // Chromium asks for /favicon.ico on its own; the demo need not have one.
    if (m.type() === "error" && /^Failed to load resource/.test(m.text()) && /\/favicon\.ico$/.test(url)) return;
    log.console.push({ type: m.type(), text: m.text(), url });
  });
  page.on("pageerror", (e) => log.pageErrors.push(String((e && e.stack) || e)));
  page.on("response", (r) => {
    if (r.status() >= 400) log.httpErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on("requestfailed", (r) => log.httpErrors.push(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on("websocket", (ws) => {
    const id = log.wsCount++;
    log.sockets.push(`ws${id} ${ws.url()}`);
    const onFrame = (dir) => (data) => {
      const raw = data.payload;
      let msg = null;
      if (typeof raw === "string") {
        try {
          msg = JSON.parse(raw);
        } catch {
          msg = null;
        }
      }
      log.pushFrame({ dir, t: Date.now(), ws: id, raw, msg });
    };
    ws.on("framesent", onFrame("sent"));
    ws.on("framereceived", onFrame("recv"));
    ws.on("socketerror", (e) => log.sockets.push(`ws${id} socket error: ${e}`));
    ws.on("close", () => {
      log.sockets.push(`ws${id} closed`);
      log.pushFrame({ dir: "close", t: Date.now(), ws: id, raw: "<closed>", msg: null });
    });
  });
  return log;
}

/** A test's browser context and its pages. */
class Session {
  constructor(context, baseURL, servers) {
    this.context = context;
    this.baseURL = baseURL;
    this.servers = servers;
    this.pages = [];
    this.allow = [];
  }

  /** Opens a new tab; its log is `page.__cinderLog` (also `session.log(page)`). */
  async newPage(label = `page ${this.pages.length + 1}`) {
    const page = await this.context.newPage();
    watchPage(page, label);
    this.pages.push(page);
    return page;
  }

  log(page) {
    return page.__cinderLog;
  }

  /** Client errors matching one of `patterns` (RegExp) are expected in this test. */
  allowErrors(...patterns) {
    this.allow.push(...patterns);
  }

  unexpectedErrors() {
    const out = [];
    for (const page of this.pages) {
      for (const e of page.__cinderLog.errors()) {
        if (![...ALWAYS_ALLOWED, ...this.allow].some((re) => re.test(e))) out.push(`${page.__cinderLog.label}: ${e}`);
      }
    }
    return out;
  }

  async report() {
    const parts = [];
    for (const page of this.pages) {
      parts.push(page.__cinderLog.report());
      if (!page.isClosed()) {
        let html;
        try {
          html = await page.evaluate(() => {
            const main = document.querySelector("[data-phx-main]") || document.body;
            return `title=${JSON.stringify(document.title)}\n${main ? main.outerHTML : "<no body>"}`;
          });
        } catch (e) {
          html = `<cannot read the DOM: ${e.message}>`;
        }
        parts.push(`  url: ${page.url()}\n  DOM (container): ${html.slice(0, 4000)}`);
      }
    }
    for (const s of this.servers()) parts.push(s.tail(25));
    return parts.join("\n");
  }
}

/**
 * Declares the file's fixtures: a topology started by `start()` (none when `start`
 * is null: each test then passes its own `topology`) and a browser,
 * both created before the first test and torn down after the last. Returns the
 * object tests use (`env.topo`, `env.url`, `env.browser`) once `before` ran.
 */
export function useServers(start) {
  const env = { topo: null, browser: null, url: null, extraServers: [] };
  before(async () => {
    if (start) {
      env.topo = await start();
      env.url = env.topo.url;
    }
    env.browser = await launchBrowser();
  });
  after(async () => {
    if (env.browser) await env.browser.close().catch(() => {});
    if (env.topo) await env.topo.stop();
  });
  return env;
}

/**
 * A test that gets a fresh browser context. Fails when the body throws or when a
 * page logged a client error not allowed by `session.allowErrors(...)`; failures
 * carry the pages' console, frames and DOM, and the servers' last output lines.
 * `opts.topology`: a function starting a per-test topology (instead of `env.topo`);
 * with neither, the test gets `topo: null` and manages servers itself (absolute URLs).
 */
export function liveTest(env, name, body, { timeout = 60_000, topology = null } = {}) {
  test(name, { timeout }, async (t) => {
    let topo = env.topo;
    let ownTopo = null;
    if (topology) {
      ownTopo = await topology();
      topo = ownTopo;
    }
    const context = await env.browser.newContext(topo ? { baseURL: topo.url } : {});
    context.setDefaultTimeout(WAIT_MS);
    await instrument(context);
    const session = new Session(context, topo?.url, () => [...(topo ? topo.servers : []), ...env.extraServers]);
    try {
      try {
        await body({ t, session, topo, url: topo?.url, newPage: (l) => session.newPage(l) });
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        err.message += `\n${await session.report()}`;
        throw err;
      }
      const errors = session.unexpectedErrors();
      if (errors.length > 0) {
        throw new Error(`the client logged unexpected errors:\n  ${errors.join("\n  ")}\n${await session.report()}`);
      }
    } finally {
      await context.close().catch(() => {});
      if (ownTopo) await ownTopo.stop();
    }
  });
}

// ---------------------------------------------------------------------------
// Page helpers (each fails with a message saying what was expected and seen)

/** Navigates with a full page load and checks the HTTP status. */
export async function visit(page, pathAndQuery) {
  const res = await page.goto(pathAndQuery, { waitUntil: "load" });
  if (!res) throw new Error(`GET ${pathAndQuery}: no response`);
  if (res.status() !== 200) {
    throw new Error(`GET ${pathAndQuery}: HTTP ${res.status()}\n${(await res.text()).slice(0, 2000)}`);
  }
  return res;
}

/** Waits until the main LiveView container is joined (`phx-connected`). */
export async function waitConnected(page, timeout = WAIT_MS) {
  try {
    await page.waitForSelector("[data-phx-main].phx-connected", { state: "attached", timeout });
  } catch (e) {
    const state = await page
      .evaluate(() => {
        const main = document.querySelector("[data-phx-main]");
        if (!main) return "no [data-phx-main] element in the page";
        return `container #${main.id} has classes "${main.className}"`;
      })
      .catch((err) => `cannot read the page: ${err.message}`);
    throw new Error(`the LiveView did not connect within ${timeout} ms (${state})`, { cause: e });
  }
}

/** Opens `path` and waits for its LiveView to connect. */
export async function visitLive(page, pathAndQuery) {
  await visit(page, pathAndQuery);
  await waitConnected(page);
}

export async function textOf(page, selector) {
  return page.evaluate((s) => {
    const el = document.querySelector(s);
    return el ? el.textContent.trim() : null;
  }, selector);
}

/** Waits until `selector`'s trimmed text equals `expected`. */
export async function waitText(page, selector, expected, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(
      ([s, t]) => {
        const el = document.querySelector(s);
        return !!el && el.textContent.trim() === t;
      },
      [selector, String(expected)],
      { timeout, polling: 50 },
    );
  } catch (e) {
    const seen = await textOf(page, selector).catch(() => "<page gone>");
    throw new Error(
      `expected ${selector} to read ${JSON.stringify(String(expected))} within ${timeout} ms; ` +
        (seen === null ? "the element is missing" : `it reads ${JSON.stringify(seen)}`),
      { cause: e },
    );
  }
}

/** Waits until an element matching `selector` is present (`present`) or absent. */
export async function waitPresence(page, selector, present, timeout = WAIT_MS) {
  try {
    await page.waitForSelector(selector, { state: present ? "attached" : "detached", timeout });
  } catch (e) {
    throw new Error(`expected ${selector} to be ${present ? "present" : "absent"} within ${timeout} ms`, { cause: e });
  }
}

/** The main LiveView container's id (the channel topic is `lv:<id>`). */
export async function mainViewId(page) {
  return page.evaluate(() => {
    const main = document.querySelector("[data-phx-main]");
    return main ? main.id : null;
  });
}

/** Sets a marker on `window`; a full page load loses it, live navigation keeps it. */
export async function markWindow(page) {
  const marker = crypto.randomBytes(8).toString("hex");
  await page.evaluate((m) => {
    window.__cinderMarker = m;
  }, marker);
  return marker;
}

export async function assertWindowMarker(page, marker, what) {
  const seen = await page.evaluate(() => window.__cinderMarker ?? null);
  if (seen !== marker) {
    throw new Error(`${what}: the page was fully reloaded (the window marker set before is gone)`);
  }
}

/** Waits for the reply to `joinFrame` and checks it is `ok`. */
export async function expectJoinOk(log, joinFrame, timeout = WAIT_MS) {
  const [, ref, topic] = joinFrame.msg;
  const reply = await log.waitForFrame(
    (f) => f.dir === "recv" && f.ws === joinFrame.ws && f.msg && f.msg[1] === ref && f.msg[2] === topic && f.msg[3] === "phx_reply",
    { timeout, what: `the reply to phx_join ref ${ref} on ${topic}` },
  );
  const status = reply.msg[4] && reply.msg[4].status;
  if (status !== "ok") throw new Error(`phx_join on ${topic} was refused: ${reply.raw.slice(0, 500)}`);
  return reply;
}
