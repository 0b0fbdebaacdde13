// The registry mirror these machines use lacks node-llama-cpp's macOS, Windows and riscv64
// binary packages, so `npm install` leaves them out of package-lock.json and `npm ci` then
// refuses the lock as out of sync. This adds the lock entries a full registry would have
// written: optional, platform-restricted, and therefore never fetched on linux-x64.
// Run after changing dependencies: node scripts/lock-foreign-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const llama = lock.packages["node_modules/node-llama-cpp"];
const platforms = {
  "linux-riscv64": { os: ["linux"], cpu: ["riscv64"] },
  "mac-arm64-metal": { os: ["darwin"], cpu: ["arm64"] },
  "mac-x64": { os: ["darwin"], cpu: ["x64"] },
  "win-arm64": { os: ["win32"], cpu: ["arm64", "x64"] },
  "win-x64": { os: ["win32"], cpu: ["x64"] },
  "win-x64-cuda": { os: ["win32"], cpu: ["x64"] },
  "win-x64-cuda-ext": { os: ["win32"], cpu: ["x64"] },
  "win-x64-vulkan": { os: ["win32"], cpu: ["x64"] },
};
let added = 0;
for (const [name, restriction] of Object.entries(platforms)) {
  const key = `node_modules/@node-llama-cpp/${name}`;
  const version = llama.optionalDependencies?.[`@node-llama-cpp/${name}`];
  if (!version || lock.packages[key]) continue;
  lock.packages[key] = { version, optional: true, ...restriction, engines: { node: ">=20.0.0" } };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`lock: added ${added} foreign-platform entries`);
