// Experiment: runner CPU in the 2 s after a 2-thread stream ends (ggml workers polling for work
// before they sleep; the runner now pauses them when its lanes go idle).
// node bench/experiments/idle-spin.ts
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { startIngot } from "../ingot-process.ts";
import { modelPathFor } from "../models.ts";
import { streamOnce } from "../streams.ts";
const cpuMs = (pid: number) => { let ns = 0; for (const t of readdirSync(`/proc/${pid}/task`)) { try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]); } catch {} } return ns / 1e6; };
const ingot = await startIngot({ modelPath: modelPathFor("smollm2-135m"), threads: 2, sequences: 8, contextLength: 1024 });
const target = { kind: "ingot" as const, url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment };
await streamOnce(target, "warm up", 16, 60_000);
const children = (pid: number) => execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
const serverPid = children(process.pid).find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes("ingot-server.ts"))!;
const runner = children(serverPid).sort((a, b) => cpuMs(b) - cpuMs(a))[0];
await streamOnce(target, "The quick brown fox", 128, 60_000);
let prev = cpuMs(runner);
for (let i = 0; i < 8; i++) { await new Promise((r) => setTimeout(r, 250)); const c = cpuMs(runner); console.log(`${(i + 1) * 250} ms after: runner CPU ${(c - prev).toFixed(0)} ms in 250 ms`); prev = c; }
await ingot.stop();
