// `npm run bench`: Ingot's decode speed against node-llama-cpp called directly and
// against llama.cpp's own llama-bench and llama-server, on random-weight models with
// real shapes. Prints a table per model and writes a JSON summary to the cache.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { ensureCacheDirs, LAST_RUN_JSON } from "./cache.ts";
import { killAll, runToEnd } from "./children.ts";
import type { DirectOptions } from "./direct-llama.ts";
import { startIngot } from "./ingot-process.ts";
import { ensureLlamaCpp } from "./llama-cpp-build.ts";
import type { LlamaCppBuild } from "./llama-cpp-build.ts";
import { runLlamaBench, startLlamaServer } from "./llama-cpp-tools.ts";
import { ensureBenchModel } from "./models.ts";
import type { BenchShape } from "./models.ts";
import { parseOptions } from "./options.ts";
import type { BenchOptions } from "./options.ts";
import { computeRatios, renderModel } from "./report.ts";
import type { AggregateRow, ModelResult, SingleStreamRow } from "./report.ts";
import { decodeTps, median, runConcurrent, setStreamClient, streamOnce } from "./streams.ts";
import type { Target } from "./streams.ts";

const PROMPT = "The quick brown fox jumps over the lazy dog. ";
const promptFor = (i: number) => `Stream ${i}: ${PROMPT}`;
const SEQUENCES = 8;
/** The whole run gives up after this long. */
const RUN_DEADLINE_MS = 3 * 60 * 60_000;
const DIRECT_ENTRY = fileURLToPath(new URL("./direct-llama.ts", import.meta.url));

const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

function contextPerSequence(tokens: number): number {
  return Math.max(1024, Math.ceil((PROMPT.length + 32 + tokens + 64) / 256) * 256);
}

function requestTimeoutMs(tokens: number, streams: number): number {
  // Generous: even 2 tokens/s per stream finishes in time.
  return 60_000 + (tokens * streams * 1000) / 2;
}

async function runDirect(modelPath: string, threads: number, o: BenchOptions, env: Record<string, string> = {}): Promise<{ tps: number; runs: number[] }> {
  const args: DirectOptions = { modelPath, threads, tokens: o.tokens, prompt: PROMPT, reps: o.reps, contextSize: contextPerSequence(o.tokens) };
  const r = await runToEnd(process.execPath, ["--no-warnings", DIRECT_ENTRY, JSON.stringify(args)], { timeoutMs: 10 * 60_000, env: { ...process.env, ...env } });
  const m = /RESULT (.+)/.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`node-llama-cpp direct run failed (${r.code}): ${r.stderr.slice(-1500)}`);
  const runs = (JSON.parse(m[1]) as { rates: number[] }).rates;
  return { tps: median(runs), runs };
}

/**
 * Single-stream rounds, each a llama-bench run (one repetition) and then an Ingot stream, so
 * that the machine's drift (llama-bench alone moved 150–200 tok/s on SmolLM2 between runs
 * minutes apart) hits both alike; the ratio is the median of the rounds' ratios.
 */
async function singleStream(target: Target, o: BenchOptions, llamaBench: (() => Promise<number>) | undefined, row: SingleStreamRow): Promise<void> {
  const timeout = requestTimeoutMs(o.tokens, 1);
  await streamOnce(target, PROMPT, Math.min(16, o.tokens), timeout); // warm-up
  const runs: number[] = [];
  const ttfts: number[] = [];
  const lbRuns: number[] = [];
  for (let i = 0; i < o.reps; i++) {
    if (llamaBench) lbRuns.push(await llamaBench());
    const t = await streamOnce(target, PROMPT, o.tokens, timeout);
    runs.push(decodeTps(t));
    ttfts.push(t.first - t.sent);
  }
  row.ingot = { tps: median(runs), runs, ttftMs: median(ttfts) };
  if (lbRuns.length) {
    const mean = lbRuns.reduce((a, b) => a + b, 0) / lbRuns.length;
    const stddev = Math.sqrt(lbRuns.reduce((a, b) => a + (b - mean) ** 2, 0) / lbRuns.length);
    row.llamaBench = { tps: median(lbRuns), stddev, runs: lbRuns };
    row.ingotOverLlamaBenchByRound = median(runs.map((r, k) => r / lbRuns[k]));
  }
}

async function aggregate(target: Target, o: BenchOptions): Promise<Map<number, { tps: number; runs: number[]; perStreamDecodeTps: number }>> {
  const out = new Map<number, { tps: number; runs: number[]; perStreamDecodeTps: number }>();
  const most = Math.max(...o.streams);
  await runConcurrent(target, most, promptFor, Math.min(16, o.tokens), requestTimeoutMs(16, most)); // warm-up: every slot used once
  for (const streams of o.streams) {
    const runs: number[] = [];
    const perStream: number[] = [];
    for (let i = 0; i < o.aggReps; i++) {
      const r = await runConcurrent(target, streams, promptFor, o.tokens, requestTimeoutMs(o.tokens, streams));
      runs.push(r.aggregateTps);
      perStream.push(r.perStreamDecodeTps);
    }
    out.set(streams, { tps: median(runs), runs, perStreamDecodeTps: median(perStream) });
    log(`  ${target.kind} ${streams} streams: ${median(runs).toFixed(1)} tok/s`);
  }
  return out;
}

async function benchModel(shape: BenchShape, o: BenchOptions, llamaCpp: LlamaCppBuild | undefined): Promise<ModelResult> {
  const file = await ensureBenchModel(shape, log);
  const ctx = contextPerSequence(o.tokens);
  const single: SingleStreamRow[] = [];
  const aggRows = new Map<number, AggregateRow>(o.streams.map((s) => [s, { streams: s }]));
  const result: Omit<ModelResult, "ratios"> = { model: shape, engine: o.engine, file, tokens: o.tokens, single, aggregate: { threads: o.aggThreads, rows: [...aggRows.values()] } };

  const ingotAggregate = async (ingotTarget: Target) => {
    for (const [s, r] of await aggregate(ingotTarget, o)) aggRows.get(s)!.ingot = r;
  };

  for (const threads of o.threads) {
    const row: SingleStreamRow = { threads };
    single.push(row);
    try {
      log(`${shape}: node-llama-cpp direct, ${threads} thread(s)`);
      row.nodeLlamaCpp = await runDirect(file, threads, o);
      row.nodeLlamaCppUv1 = await runDirect(file, threads, o, { UV_THREADPOOL_SIZE: "1" });
      log(`${shape}: Ingot (${o.engine} engine) over HTTP${llamaCpp ? ` and llama-bench tg${o.tokens}, round by round` : ""}, ${threads} thread(s), ${SEQUENCES} sequences`);
      const ingot = await startIngot({ modelPath: file, threads, sequences: SEQUENCES, contextLength: ctx, engine: o.engine });
      try {
        const target: Target = { kind: "ingot", url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment };
        const llamaBench = llamaCpp ? async () => (await runLlamaBench(llamaCpp.llamaBench, file, threads, o.tokens, 1)).medianTps : undefined;
        await singleStream(target, o, llamaBench, row);
        if (threads === o.aggThreads) await ingotAggregate(target);
      } finally {
        await ingot.stop();
      }
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
      log(`${shape}, ${threads} thread(s): ${row.error}`);
    }
  }

  try {
    if (!o.threads.includes(o.aggThreads)) {
      log(`${shape}: Ingot concurrent streams, ${o.aggThreads} threads`);
      const ingot = await startIngot({ modelPath: file, threads: o.aggThreads, sequences: SEQUENCES, contextLength: ctx, engine: o.engine });
      try {
        await ingotAggregate({ kind: "ingot", url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment });
      } finally {
        await ingot.stop();
      }
    }
    if (llamaCpp) {
      log(`${shape}: llama-server concurrent streams, ${o.aggThreads} threads, ${SEQUENCES} slots`);
      const server = await startLlamaServer(llamaCpp.llamaServer, file, { threads: o.aggThreads, slots: SEQUENCES, ctxPerSlot: ctx });
      result.aggregate.llamaServerArgs = server.args.map((a) => (a === file ? "<model>" : a));
      try {
        for (const [s, r] of await aggregate({ kind: "llama-server", url: server.url }, o)) aggRows.get(s)!.llamaServer = r;
      } finally {
        await server.stop();
      }
    }
  } catch (e) {
    result.aggregate.error = e instanceof Error ? e.message : String(e);
    log(`${shape}, concurrent streams: ${result.aggregate.error}`);
  }
  return { ...result, ratios: computeRatios(result) };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  setStreamClient(o.client);
  ensureCacheDirs();
  const deadline = setTimeout(() => {
    log(`still running after ${RUN_DEADLINE_MS / 60_000} min; giving up`);
    killAll();
    process.exit(2);
  }, RUN_DEADLINE_MS);
  deadline.unref();

  let llamaCpp: LlamaCppBuild | undefined;
  let llamaCppError: string | undefined;
  if (!o.skipLlamaCpp) {
    try {
      llamaCpp = await ensureLlamaCpp(log);
    } catch (e) {
      llamaCppError = e instanceof Error ? e.message : String(e);
      log(`llama.cpp unavailable, comparing without it (use --skip-llama-cpp to not try): ${llamaCppError}`);
    }
  }
  const results: ModelResult[] = [];
  for (const shape of o.models) {
    const r = await benchModel(shape, o, llamaCpp);
    results.push(r);
    console.log(renderModel(r));
  }
  const summary = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), node: process.version },
    options: o,
    llamaCpp: llamaCpp ? { release: llamaCpp.release, commit: llamaCpp.commit, binDir: llamaCpp.binDir } : { skipped: true, error: llamaCppError },
    results,
  };
  const out = o.engine === "src" ? LAST_RUN_JSON : LAST_RUN_JSON.replace(/\.json$/, `-${o.engine}.json`);
  writeFileSync(out, JSON.stringify(summary, null, 2) + "\n");
  console.log(`\nJSON summary: ${out}`);
  // Training throughput (LoRA vs full fine-tune) is part of the benchmark; it runs on its own too: npm run bench:training.
  console.log("\nTraining throughput (bench/training.ts):");
  execFileSync(process.execPath, [fileURLToPath(new URL("./training.ts", import.meta.url))], { stdio: "inherit" });
}

try {
  await main();
} finally {
  killAll();
}
