// Self-test for the oracle: spawns the BUILT dist/oracle.cjs and checks exact
// HTML for a few LiveView 1.2 wire-format payloads.
//
//   node oracle/build.mjs && node oracle/selftest.mjs    (npm run test:oracle)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const oraclePath = path.resolve(here, "..", "dist", "oracle.cjs");
if (!existsSync(oraclePath)) {
  console.error(`${oraclePath} missing: run \`node oracle/build.mjs\` first`);
  process.exit(1);
}

// One oracle process, driven line by line.
class Oracle {
  constructor() {
    this.proc = spawn(process.execPath, [oraclePath], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.stderr = "";
    this.proc.stderr.on("data", (d) => (this.stderr += d));
    this.lines = [];
    this.waiters = [];
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    this.exited = new Promise((resolve) => this.proc.on("exit", resolve));
  }

  send(obj) {
    this.proc.stdin.write(
      (typeof obj === "string" ? obj : JSON.stringify(obj)) + "\n",
    );
  }

  next() {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`oracle timeout; stderr: ${this.stderr}`)),
        5000,
      );
      this.waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  join(rendered) {
    this.send({ op: "join", rendered });
  }

  diff(diff) {
    this.send({ op: "diff", diff });
  }

  async html(raw = false) {
    this.send(raw ? { op: "html", raw: true } : { op: "html" });
    const reply = JSON.parse(await this.next());
    assert.equal(reply.error, undefined, `oracle error: ${reply.error}`);
    return reply.html;
  }

  async close() {
    this.proc.stdin.end();
    const code = await this.exited;
    assert.equal(code, 0, `oracle exited with ${code}; stderr: ${this.stderr}`);
    assert.deepEqual(this.lines, [], "unexpected extra output");
  }
}

async function withOracle(fn) {
  const o = new Oracle();
  try {
    await fn(o);
  } finally {
    await o.close();
  }
}

test("counter: join + plain dynamic diff", () =>
  withOracle(async (o) => {
    o.join({ 0: "1", s: ['<h1 id="count">', "</h1>"] });
    assert.equal(await o.html(), '<h1 id="count">1</h1>');
    o.diff({ 0: "2" });
    assert.equal(await o.html(), '<h1 id="count">2</h1>');
  }));

test("keyed comprehension: reversal, move with diff, append, shrink", () =>
  withOracle(async (o) => {
    o.join({
      0: {
        s: ["<li>", "</li>"],
        k: { 0: { 0: "a" }, 1: { 0: "b" }, kc: 2 },
      },
      s: ["<ul>", "</ul>"],
    });
    assert.equal(await o.html(), "<ul><li>a</li><li>b</li></ul>");
    o.diff({ 0: { k: { 0: 1, 1: 0, kc: 2, km: true } } });
    assert.equal(await o.html(), "<ul><li>b</li><li>a</li></ul>");
    // [old_idx, diff]: moved and changed
    o.diff({ 0: { k: { 0: [1, { 0: "A" }], 1: 0, kc: 2, km: true } } });
    assert.equal(await o.html(), "<ul><li>A</li><li>b</li></ul>");
    o.diff({ 0: { k: { 2: { 0: "c" }, kc: 3 } } });
    assert.equal(await o.html(), "<ul><li>A</li><li>b</li><li>c</li></ul>");
    o.diff({ 0: { k: { kc: 1 } } });
    assert.equal(await o.html(), "<ul><li>A</li></ul>");
  }));

test("root-level templates (p) with numeric statics", () =>
  withOracle(async (o) => {
    o.join({
      0: { 0: "a", s: 0 },
      1: { 0: "b", s: 0 },
      s: ["<p>", "", "</p>"],
      p: { 0: ["<b>", "</b>"] },
    });
    assert.equal(await o.html(), "<p><b>a</b><b>b</b></p>");
    o.diff({ 1: { 0: "c" } });
    assert.equal(await o.html(), "<p><b>a</b><b>c</b></p>");
    // A later diff brings its own "p": template 0 now means <i>, but the
    // subtree rendered earlier keeps its resolved <b> statics.
    o.diff({ 1: { 0: "z", s: 0 }, p: { 0: ["<i>", "</i>"] } });
    assert.equal(await o.html(), "<p><b>a</b><i>z</i></p>");
  }));

test("templates (p) on a keyed comprehension", () =>
  withOracle(async (o) => {
    o.join({
      0: {
        s: ["<li>", "</li>"],
        k: { 0: { 0: { 0: "x", s: 0 } }, 1: { 0: { 0: "y", s: 0 } }, kc: 2 },
        p: { 0: ["<em>", "</em>"] },
      },
      s: ["<ul>", "</ul>"],
    });
    assert.equal(
      await o.html(),
      "<ul><li><em>x</em></li><li><em>y</em></li></ul>",
    );
    o.diff({
      0: { k: { 2: { 0: { 0: "w", s: 0 } }, kc: 3 }, p: { 0: ["<em>", "</em>"] } },
    });
    assert.equal(
      await o.html(),
      "<ul><li><em>x</em></li><li><em>y</em></li><li><em>w</em></li></ul>",
    );
  }));

test("roots (r: 1): client magic ids are normalized away, untouched roots stay rendered", () =>
  withOracle(async (o) => {
    o.join({
      0: { 0: "x", s: ['<div class="a">', "</div>"], r: 1 },
      1: { 0: "y", s: ["<!-- c -->\n<span>", "</span>\n"], r: 1 },
      2: { 0: "t", s: ['<input type="', '">'], r: 1 },
      s: ["<main>", "", "", "</main>"],
    });
    assert.equal(
      await o.html(true),
      '<main><div data-phx-id="m1-phx-oracle" class="a">x</div>' +
        '<!-- c -->\n<span data-phx-id="m2-phx-oracle">y</span>\n' +
        '<input data-phx-id="m3-phx-oracle" type="t"></main>',
    );
    assert.equal(
      await o.html(),
      '<main><div class="a">x</div><!-- c -->\n<span>y</span>\n<input type="t"></main>',
    );
    // Only root 0 changes; the client would emit roots 1 and 2 as
    // data-phx-skip placeholders, the oracle still reports their content.
    o.diff({ 0: { 0: "z" } });
    assert.equal(
      await o.html(),
      '<main><div class="a">z</div><!-- c -->\n<span>y</span>\n<input type="t"></main>',
    );
  }));

test("top-level r and t are stripped by Rendered.extract (r is also REPLY)", () =>
  withOracle(async (o) => {
    o.join({ 0: "t", s: ["<div>", "</div>"], r: 1, t: "Title" });
    assert.equal(await o.html(true), "<div>t</div>");
  }));

test("components: shared statics, component-only diffs, normalization", () =>
  withOracle(async (o) => {
    o.join({
      0: 1,
      1: 2,
      s: ["<main>", "", "</main>"],
      c: {
        1: { 0: "one", s: ['<div class="c">', "</div>"], r: 1 },
        2: { 0: "two", s: 1 },
      },
    });
    assert.equal(
      await o.html(true),
      '<main><div data-phx-id="c1-phx-oracle" data-phx-component="1" data-phx-view="phx-oracle" class="c">one</div>' +
        '<div data-phx-id="c2-phx-oracle" data-phx-component="2" data-phx-view="phx-oracle" class="c">two</div></main>',
    );
    assert.equal(
      await o.html(),
      '<main><div class="c">one</div><div class="c">two</div></main>',
    );
    o.diff({ c: { 2: { 0: "TWO" } } });
    assert.equal(
      await o.html(),
      '<main><div class="c">one</div><div class="c">TWO</div></main>',
    );
    // New cid 3 shares statics with the OLD cid 2 (negative s), replacing it.
    o.diff({ 1: 3, c: { 3: { 0: "three", s: -2 } } });
    assert.equal(
      await o.html(),
      '<main><div class="c">one</div><div class="c">three</div></main>',
    );
  }));

test("errors are reported per line and the oracle keeps going", () =>
  withOracle(async (o) => {
    o.send("not json");
    assert.match(JSON.parse(await o.next()).error, /JSON/);
    o.send({ op: "html" });
    assert.match(JSON.parse(await o.next()).error, /before join/);
    o.send({ op: "bogus" });
    assert.match(JSON.parse(await o.next()).error, /unknown op/);
    o.join({ 0: 7, s: ["<p>", "</p>"] }); // cid 7 does not exist
    assert.match(JSON.parse(await o.next()).error, /missing component: 7/);
    o.join({ 0: "ok", s: ["<p>", "</p>"] });
    assert.equal(await o.html(), "<p>ok</p>");
  }));
