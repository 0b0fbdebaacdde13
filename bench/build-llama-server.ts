// Builds (or finds cached) the portable llama-server the upstream-engine tests and the
// gateway-overhead bench use, prints how long the build took, and checks that it starts.
//   node bench/build-llama-server.ts
import { spawnSync } from "node:child_process";
import { ensurePortableLlamaServer } from "./llama-cpp-build.ts";
import { ensureCacheDirs } from "./cache.ts";

ensureCacheDirs();
const started = Date.now();
const built = await ensurePortableLlamaServer((m) => console.log(m));
const minutes = (Date.now() - started) / 60_000;
const run = spawnSync(built.llamaServer, ["--version"], { encoding: "utf8", timeout: 30_000 });
if (run.status !== 0) throw new Error(`${built.llamaServer} --version failed (status ${run.status}, signal ${run.signal}): it does not start on this machine`);
const version = (run.stdout + run.stderr).split("\n").filter((l) => l.startsWith("version") || l.startsWith("built")).join("\n");
console.log(`llama-server ${built.release} (${built.commit.slice(0, 8)}): ${built.llamaServer}`);
console.log(`build: ${minutes.toFixed(1)} min (0 when cached); --version: ${version.trim().split("\n").join(" | ")}`);
