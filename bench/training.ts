// `npm run bench:training`: training throughput of the llamacpp trainer — trained tokens
// per second (padding and prompt excluded) and the trainer process's peak RSS — for LoRA
// on random-weight models with the tiny and SmolLM2-135M shapes at F32 and Q8_0, next to
// a full fine-tune of the same model through the same library in the same run (F32 only:
// libllama silently trains only the norm vectors of a quantized model). Each measurement
// is a few steps in its own process.
//
//   npm run bench:training -- [--models tiny,smollm2-135m] [--threads 1] [--steps 20,3]
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildModel } from "../src/models/builtin/builder.ts";
import type { ModelType } from "../src/models/builtin/builder.ts";
import { CACHE_DIR, MODELS_DIR, ensureCacheDirs } from "./cache.ts";
import { killAll, runToEnd } from "./children.ts";
import type { TrainingBenchJob, TrainingBenchResult } from "./training-child.ts";

const CHILD = fileURLToPath(new URL("./training-child.ts", import.meta.url));
const log = (m: string) => process.stderr.write(`bench:training: ${m}\n`);

interface Row {
  model: string;
  type: ModelType;
  mode: "lora" | "full";
  result: TrainingBenchResult;
}

async function ensureModel(shape: string, type: ModelType): Promise<string> {
  const out = join(MODELS_DIR, `${shape}-seed1-${type}.gguf`);
  if (!existsSync(out)) {
    log(`building ${shape} ${type} (random weights, seed 1) → ${out}`);
    await buildModel({ shape, seed: 1, type, out, threads: 2 });
  }
  return out;
}

async function measure(job: TrainingBenchJob): Promise<TrainingBenchResult> {
  const r = await runToEnd(process.execPath, ["--no-warnings", CHILD, JSON.stringify(job)], { timeoutMs: 20 * 60_000 });
  const m = /RESULT (.+)/.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`training bench child failed (${r.code}): ${r.stderr.slice(-1500)}`);
  return JSON.parse(m[1]) as TrainingBenchResult;
}

const tps = (r: TrainingBenchResult) => r.trainedTokens / r.seconds;
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

function table(rows: Row[]): string {
  const out = [
    "| model | weights | training | steps | s/step | trained tok/s | example tok/s | window tok/s | peak RSS | trained tok/s vs full | RSS vs full |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const full = rows.find((x) => x.model === r.model && x.mode === "full");
    const ratio = (a: number, b: number) => (full && r !== full ? `${(a / b).toFixed(2)}×` : "—");
    out.push(
      `| ${r.model} | ${r.type.toUpperCase()} | ${r.mode === "lora" ? "LoRA r16" : "full"} | ${r.result.steps} | ${(r.result.seconds / r.result.steps).toFixed(3)} | ${tps(r.result).toFixed(0)} | ${(r.result.exampleTokens / r.result.seconds).toFixed(0)} | ${(r.result.windowTokens / r.result.seconds).toFixed(0)} | ${mib(r.result.peakRssBytes)} | ${full ? ratio(tps(r.result), tps(full.result)) : "—"} | ${full ? ratio(r.result.peakRssBytes, full.result.peakRssBytes) : "—"} |`,
    );
  }
  return out.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { models: { type: "string", default: "tiny,smollm2-135m" }, threads: { type: "string", default: "1" }, steps: { type: "string", default: "20,3" }, help: { type: "boolean" } },
  });
  if (values.help) {
    process.stdout.write("npm run bench:training -- [--models tiny,smollm2-135m] [--threads 1] [--steps 20,3]  (steps: tiny, larger models)\n");
    return;
  }
  ensureCacheDirs();
  const threads = Number(values.threads);
  const [tinySteps, bigSteps] = values.steps!.split(",").map(Number);
  const rows: Row[] = [];
  for (const model of values.models!.split(",")) {
    const steps = model === "tiny" ? tinySteps : bigSteps;
    for (const [type, mode] of [["f32", "full"], ["f32", "lora"], ["q8_0", "lora"]] as const) {
      const path = await ensureModel(model, type);
      log(`${model} ${type} ${mode}: ${steps} steps, ${threads} thread(s)`);
      const result = await measure({ model: path, mode, steps, threads, rank: 16 });
      log(`  ${tps(result).toFixed(0)} trained tok/s, ${(result.seconds / steps).toFixed(3)} s/step, peak RSS ${mib(result.peakRssBytes)}, loss ${result.firstLoss.toFixed(2)} → ${result.lastLoss.toFixed(2)}`);
      rows.push({ model, type, mode, result });
    }
  }
  process.stdout.write(
    `\nTraining throughput, ${threads} thread(s). One chat example per 256-token window (~142 tokens, padded);\n` +
      `trained = answer tokens (~42 per example, the loss mask leaves out prompt and padding); example = prompt + answer.\n\n${table(rows)}\n`,
  );
  writeFileSync(join(CACHE_DIR, "last-training-run.json"), JSON.stringify({ threads, rows }, null, 2));
}

main().then(
  () => killAll(),
  (e: unknown) => {
    log(e instanceof Error ? e.message : String(e));
    killAll();
    process.exitCode = 1;
  },
);
