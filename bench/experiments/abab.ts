// Experiment: single-stream decode tokens/s along the path from llama.cpp to an SSE event,
// interleaved round by round (ABAB) so that machine noise hits every method alike; each
// sample is retaken until nothing outside this process tree ran during it (quiet.ts).
//   node bench/experiments/abab.ts <shape> [threads 1,2] [rounds 3] [tokens 128] [methods]
// Methods (comma-separated; default lb,direct,koffi,ingot):
//   lb             llama-bench tg<tokens> (one repetition per sample)
//   koffi[:P:S]    koffi-decode.ts: the runner's decode loop in one process (threadpool poll P
//                  or "-", sampling S: greedy | argmax | none)
//   direct         node-llama-cpp called directly (UV_THREADPOOL_SIZE=1), as bench/run.ts does
//   ipc / oldipc   the runner through IPC only (runner-ipc.ts), this checkout's / INGOT_OLD_DIR's
//   ingot[:ENV]    Ingot over HTTP; ENV = NAME=VALUE+NAME=VALUE for the runner (INGOT_RUNNER_*)
//   old            Ingot over HTTP from another checkout (INGOT_OLD_DIR: e.g. `git archive HEAD`
//                  unpacked with node_modules linked), to compare a change with what it replaces
//   ingot and old take a suffix @http or @fetch: the streaming client (streams.ts).
// Every Ingot (one per method and thread count) stays up, idle, while the others run.
import { fileURLToPath } from "node:url";
import { runToEnd } from "../children.ts";
import type { DirectOptions } from "../direct-llama.ts";
import { startIngot } from "../ingot-process.ts";
import type { IngotProcess } from "../ingot-process.ts";
import { ensureLlamaCpp } from "../llama-cpp-build.ts";
import { runLlamaBench } from "../llama-cpp-tools.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";
import { decodeTps, median, streamOnce } from "../streams.ts";
import { quietly } from "./quiet.ts";

const [shape = "smollm2-135m", threadsArg = "1,2", roundsArg = "3", tokensArg = "128", methodsArg = "lb,direct,koffi,ingot"] = process.argv.slice(2);
const threads = threadsArg.split(",").map(Number);
const tokens = Number(tokensArg);
const methods = methodsArg.split(",");
const file = modelPathFor(shape as BenchShape);
const PROMPT = "The quick brown fox jumps over the lazy dog. ";
const DIRECT = fileURLToPath(new URL("../direct-llama.ts", import.meta.url));
const KOFFI = fileURLToPath(new URL("./koffi-decode.ts", import.meta.url));
const RUNNER_IPC = fileURLToPath(new URL("./runner-ipc.ts", import.meta.url));
/** Each sample is one run (one llama-bench repetition, one stream), taken while the machine is quiet (quiet.ts). */
const REPS = 1;

const llamaCpp = methods.includes("lb") ? await ensureLlamaCpp(() => {}) : undefined;
const ingots = new Map<string, IngotProcess>();
// "ingot", or "ingot:NAME=VALUE+NAME=VALUE": Ingot with these environment variables (runner knobs).
// A suffix "@http" or "@fetch" picks the streaming client (streams.ts) for that method.
const clientOf = (m: string) => (m.includes("@") ? (m.split("@")[1] as "http" | "fetch") : undefined);
const ingotKey = (m: string) => m.split("@")[0];
for (const m of [...new Set(methods.filter((x) => x === "ingot" || x.startsWith("ingot:") || x.startsWith("ingot@")).map(ingotKey))]) {
  const env = Object.fromEntries((m.split(":")[1] ?? "").split("+").filter(Boolean).map((kv) => kv.split("=") as [string, string]));
  for (const t of threads) ingots.set(`${m} ${t}`, await startIngot({ modelPath: file, threads: t, sequences: 8, contextLength: 1024, env }));
}
if (methods.some((m) => ingotKey(m) === "old")) {
  const dir = process.env.INGOT_OLD_DIR;
  if (!dir) throw new Error("method old: set INGOT_OLD_DIR");
  const old = (await import(`${dir}/bench/ingot-process.ts`)) as { startIngot: typeof startIngot };
  for (const t of threads) ingots.set(`old ${t}`, await old.startIngot({ modelPath: file, threads: t, sequences: 8, contextLength: 1024 }));
}

async function sample(m: string, t: number, ingot: IngotProcess | undefined): Promise<number> {
  if (m === "lb") return (await runLlamaBench(llamaCpp!.llamaBench, file, t, tokens, REPS)).medianTps;
  if (m === "direct") {
    const args: DirectOptions = { modelPath: file, threads: t, tokens, prompt: PROMPT, reps: REPS, contextSize: 1024 };
    const r = await runToEnd(process.execPath, ["--no-warnings", DIRECT, JSON.stringify(args)], { timeoutMs: 300_000, env: { ...process.env, UV_THREADPOOL_SIZE: "1" } });
    return median((JSON.parse(/RESULT (.+)/.exec(r.stdout)![1]) as { rates: number[] }).rates);
  }
  if (m === "ipc" || m === "oldipc") {
    const entry = m === "ipc" ? RUNNER_IPC : `${process.env.INGOT_OLD_DIR}/bench/experiments/runner-ipc.ts`;
    // A first stream warms the fresh runner up (JIT, first graphs); the second one counts.
    const r = await runToEnd(process.execPath, ["--no-warnings", entry, shape, String(t), String(tokens), "1,1"], { timeoutMs: 300_000 });
    return Number([...r.stdout.matchAll(/per-stream decode ([\d.]+)/g)].at(-1)![1]);
  }
  if (m.startsWith("koffi")) {
    const [, pool = "-", sampling = "greedy"] = m.split(":");
    const r = await runToEnd(process.execPath, ["--no-warnings", KOFFI, shape, String(t), String(tokens), String(REPS), "1", pool, sampling], { timeoutMs: 300_000 });
    return Number(/median ([\d.]+)/.exec(r.stdout)![1]);
  }
  if (!ingot) throw new Error(`unknown method ${m}`);
  const target = { kind: "ingot" as const, url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment };
  return decodeTps(await streamOnce(target, PROMPT, tokens, 120_000, clientOf(m)));
}

const results = new Map<string, number[]>();
const add = (k: string, v: number) => results.set(k, [...(results.get(k) ?? []), v]);
try {
  for (let round = 0; round < Number(roundsArg); round++) {
    for (const t of threads) {
      for (const m of methods) {
        const ingot = ingots.get(`${ingotKey(m)} ${t}`);
        if (ingot) await streamOnce({ kind: "ingot", url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment }, PROMPT, 16, 60_000, clientOf(m));
        const q = await quietly(() => sample(m, t, ingot), { log: (l) => console.log(l) });
        const tps = q.value;
        add(`${m} t=${t}`, tps);
        console.log(`round ${round} ${m.padEnd(6)} t=${t}: ${tps.toFixed(1)} (foreign ${(q.foreign * 100).toFixed(1)}%)`);
      }
    }
  }
} finally {
  for (const i of ingots.values()) await i.stop();
}
console.log(`\n${shape}, ${tokens} tokens, medians over rounds (one quiet run each):`);
for (const [k, v] of results) console.log(`${k.padEnd(12)} ${median(v).toFixed(1).padStart(7)}  [${v.map((x) => x.toFixed(0)).join(" ")}]`);
process.exit(0);
