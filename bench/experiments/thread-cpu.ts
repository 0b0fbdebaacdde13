// Experiment: on-CPU time per generated token of every thread of the bench client, the Ingot
// server and the bench model's runner during one single stream (schedstat), with switch counts.
//   node bench/experiments/thread-cpu.ts <shape> <threads> [tokens]
import { readdirSync, readFileSync } from "node:fs";
import { startIngot } from "../ingot-process.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";
import { decodeTps, streamOnce } from "../streams.ts";
import type { Target } from "../streams.ts";
import { benchProcesses } from "./processes.ts";

const [shape = "smollm2-135m", threadsArg = "2", tokensArg = "256"] = process.argv.slice(2);
const tokens = Number(tokensArg);
type ThreadStat = { name: string; ns: number; switches: number };
function threads(pid: number): Map<string, ThreadStat> {
  const out = new Map<string, ThreadStat>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [ns, , slices] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").trim().split(" ").map(Number);
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim();
      out.set(t, { name, ns, switches: slices });
    } catch {
      // thread gone
    }
  }
  return out;
}
const ingot = await startIngot({ modelPath: modelPathFor(shape as BenchShape), threads: Number(threadsArg), sequences: 8, contextLength: 1024 });
try {
  const target: Target = { kind: "ingot", url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment };
  await streamOnce(target, "warm up", 16, 60_000);
  const procs = benchProcesses((pid) => [...threads(pid).values()].reduce((a, t) => a + t.ns, 0));
  const before = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, threads(p)]));
  const t = await streamOnce(target, "The quick brown fox jumps over the lazy dog. ", tokens, 120_000);
  const after = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, threads(p)]));
  console.log(`${decodeTps(t).toFixed(1)} tok/s; per token:`);
  for (const k of Object.keys(procs)) {
    for (const [tid, a] of after[k]) {
      const b = before[k].get(tid) ?? { ns: 0, switches: 0 };
      const us = (a.ns - b.ns) / 1000 / tokens;
      if (us < 1) continue;
      console.log(`  ${k.padEnd(6)} ${a.name.padEnd(16)} ${us.toFixed(0).padStart(6)} µs  ${((a.switches - b.switches) / tokens).toFixed(2)} slices`);
    }
  }
} finally {
  await ingot.stop();
}
