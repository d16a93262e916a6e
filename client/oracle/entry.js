// Cinder oracle: drives the OFFICIAL Phoenix LiveView client's `Rendered`
// class (diff merge + HTML rendering) over a line-delimited JSON protocol on
// stdin/stdout, so Rust tests can check server diffs against the real client.
//
// Nothing of the client is copied here: the module is imported straight out of
// node_modules (pinned in package.json) and bundled by oracle/build.mjs.
// See client/README.md for the protocol and the normalization applied.

import { createInterface } from "node:readline";
import Rendered from "../node_modules/phoenix_live_view/assets/js/phoenix_live_view/rendered.js";
import {
  deepClone,
  isEmpty,
} from "../node_modules/phoenix_live_view/assets/js/phoenix_live_view/utils";
import { COMPONENTS } from "../node_modules/phoenix_live_view/assets/js/phoenix_live_view/constants";

// --- Minimal browser shims ---------------------------------------------------
// Nothing the Rendered module graph evaluates at import time touches the DOM;
// these are only reached at call time:
//   * utils.deepClone checks `"structuredClone" in window` (keyed moves, "km");
//   * diagnostics.logError calls `window.dispatchEvent(new CustomEvent(...))`
//     (e.g. a diff referencing a missing component). CustomEvent is a Node
//     global since v19; logError also writes to console.error, i.e. stderr, so
//     stdout stays a clean protocol channel.
if (typeof globalThis.window === "undefined") {
  const win = new EventTarget();
  win.structuredClone = globalThis.structuredClone;
  globalThis.window = win;
}

// The id of the simulated view. It ends up in client-added attributes
// (data-phx-view, magic ids "m1-phx-oracle", "c1-phx-oracle"), which
// normalization removes again.
const VIEW_ID = "phx-oracle";

let rendered = null;

// What the last join or diff patched into the DOM: the HTML the View hands to
// DOMPatch and the stream operations beside it ([ref, inserts, deleteIds,
// reset]). Stream entries live only here: the tree drops them once rendered.
let lastPatch = { html: "", streams: [] };

function patched({ buffer, streams }) {
  lastPatch = { html: normalize(buffer), streams: [...streams] };
}

// What the client's View does with a mount payload (View.onJoin/applyDiff):
// Rendered.extract strips the top-level reply ("r"), events ("e") and title
// ("t"), then a new Rendered is built and rendered once (renderContainer).
// That first toString matters: rendering mutates the tree (templates "p" are
// resolved into statics and dropped, stream entries are dropped, magic ids and
// newRender flags are set), and later merges see that mutated tree.
function join(payload) {
  // A failed join must not leave the previous view around.
  rendered = null;
  const { diff } = Rendered.extract(payload);
  const r = new Rendered(VIEW_ID, diff);
  patched(r.toString(null));
  rendered = r;
}

// What View.update does with an update payload (after applyDiff's extract).
function applyDiff(payload) {
  if (!rendered) throw new Error("diff before join");
  const { diff } = Rendered.extract(payload);
  rendered.mergeDiff(diff);
  lastPatch = { html: "", streams: [] };
  if (rendered.isComponentOnlyDiff(diff)) {
    // The View patches only the outermost components of the diff that exist
    // in the DOM (DOM.findExistingParentCIDs) via componentToString. Rendering
    // every cid of the diff leaves the tree in the same state (a nested cid is
    // rendered again with the same flags), without needing a DOM.
    for (const cid of rendered.componentCIDs(diff)) {
      rendered.componentToString(cid);
    }
  } else if (!isEmpty(diff)) {
    // View.renderContainer(diff, "update")
    patched(rendered.toString(rendered.componentCIDs(diff)));
  }
}

// The HTML of the whole view as it stands in the client's DOM.
//
// The View's patch renders use the "skip" optimization: a root ("r": 1) or
// component untouched by the diff is emitted as an empty
// `<tag data-phx-id=".." data-phx-skip></tag>` placeholder, and morphdom keeps
// the existing DOM element instead. To get the complete markup without a DOM,
// we render a throwaway copy of the current tree (so the real instance's state
// is left exactly as the client would have it) with every root and component
// flagged as newly rendered, via the same toString(null) call the View makes
// on join. mergeDiff/toString run unmodified.
function fullHtml() {
  if (!rendered) throw new Error("html before join");
  const shadow = new Rendered(rendered.viewId, {});
  shadow.rendered = deepClone(rendered.rendered);
  shadow.magicId = rendered.magicId;
  markAllNewRender(shadow.rendered);
  return shadow.toString(null).buffer;
}

function markAllNewRender(node) {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    node.forEach(markAllNewRender);
    return;
  }
  if (node.magicId !== undefined) node.newRender = true;
  for (const key in node) markAllNewRender(node[key]);
}

// Attributes the client injects into the start tag of roots and components
// (rendered/modify_root.ts), always directly after the tag name, in the form
// ` name="value"` or, for `true`, a bare ` name`:
//   data-phx-id         magic id of a root / component (PHX_MAGIC_ID)
//   data-phx-component  component id (PHX_COMPONENT)
//   data-phx-view       owning view id on component roots (PHX_VIEW_REF)
//   data-phx-skip       skip placeholder (PHX_SKIP)
const CLIENT_ATTRS =
  /<([^\s\/>!]+)((?: (?:data-phx-id|data-phx-component|data-phx-view)="[^"]*"| data-phx-skip(?=[\s\/>]))+)/g;

function normalize(html) {
  return html.replace(CLIENT_ATTRS, "<$1");
}

function handle(line) {
  const msg = JSON.parse(line);
  switch (msg.op) {
    case "join":
      join(msg.rendered);
      return null;
    case "diff":
      applyDiff(msg.diff);
      return null;
    case "patch":
      return lastPatch;
    case "html": {
      const html = fullHtml();
      return { html: msg.raw ? html : normalize(html) };
    }
    default:
      throw new Error(`unknown op: ${JSON.stringify(msg.op)}`);
  }
}

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (line.trim() === "") return;
  try {
    const out = handle(line);
    if (out !== null) send(out);
  } catch (e) {
    const message =
      e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
    send({ error: message });
  }
});
