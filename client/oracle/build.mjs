// Bundles oracle/entry.js (and the official LiveView client modules it
// imports from node_modules) into a single Node script: dist/oracle.cjs.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

await build({
  entryPoints: [path.join(here, "entry.js")],
  outfile: path.join(root, "dist", "oracle.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  sourcemap: "inline",
  logLevel: "warning",
});

console.log("built dist/oracle.cjs");
