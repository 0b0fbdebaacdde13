// Experiment: CPU time per generated token in each process of an Ingot HTTP stream
// (bench client, Ingot server, runner), and the decode rate, at a given thread count.
// node bench/experiments/http-cpu.ts <shape> <threads> [tokens] [streams]
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { startIngot } from "../ingot-process.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";
import { decodeTps, runConcurrent, streamOnce } from "../streams.ts";
import type { Target } from "../streams.ts";
import { benchProcesses } from "./processes.ts";

const [shape = "smollm2-135m", threadsArg = "1", tokensArg = "256", streamsArg = "1"] = process.argv.slice(2);
const tokens = Number(tokensArg);
const streams = Number(streamsArg);
const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
// On-CPU time of all the process's threads, in ns precision (schedstat), as ms.
const cpuMs = (pid: number) => {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread gone
    }
  }
  return ns / 1e6;
};
void TICK_MS;
const ingot = await startIngot({ modelPath: modelPathFor(shape as BenchShape), threads: Number(threadsArg), sequences: 8, contextLength: 1024 });
try {
  const target: Target = { kind: "ingot", url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment };
  await streamOnce(target, "warm up", 16, 60_000);
  const { server: serverPid, runner: runnerPid } = benchProcesses(cpuMs);
  for (let rep = 0; rep < Number(process.env.REPS ?? 3); rep++) {
    const before = [cpuMs(process.pid), cpuMs(serverPid), cpuMs(runnerPid)];
    const t0 = performance.now();
    let rate: string;
    if (streams === 1) rate = `${decodeTps(await streamOnce(target, "The quick brown fox jumps over the lazy dog. ", tokens, 120_000)).toFixed(1)} tok/s decode`;
    else rate = `${(await runConcurrent(target, streams, (i) => `Stream ${i}: The quick brown fox`, tokens, 300_000)).aggregateTps.toFixed(1)} tok/s aggregate`;
    const wall = performance.now() - t0;
    const after = [cpuMs(process.pid), cpuMs(serverPid), cpuMs(runnerPid)];
    const per = after.map((a, i) => ((a - before[i]) * 1000) / (tokens * streams));
    console.log(`${rate}; CPU µs/token: client ${per[0].toFixed(0)}, server ${per[1].toFixed(0)}, runner ${per[2].toFixed(0)}; wall µs/token ${((wall * 1000) / (tokens * streams)).toFixed(0)}`);
  }
} finally {
  await ingot.stop();
}
