// Child of bench/training.ts: a few training steps of one model through the trainer's own
// libllama session (LoRA as the llamacpp trainer runs it, or a full fine-tune as the
// tiny-chat pre-training runs it), on chat windows of 20 short Q&A examples.
// argv[2]: JSON TrainingBenchJob. Prints `RESULT {json}`.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeLoraAdapter } from "../src/gguf/adapter.ts";
import { readGguf } from "../src/gguf/reader.ts";
import { CONTROL_TOKENS } from "../src/gguf/tokenizer.ts";
import { byteTokenizer, chatmlRenderer, encodeExample, parseDataset, toWindow } from "../src/trainers/llamacpp/dataset.ts";
import { loadLibllama } from "../src/native/libllama.ts";
import { budgetAdapter, budgetAdaptersNeeded, initialAdapter } from "../src/trainers/llamacpp/lora.ts";
import { TrainingSession } from "../src/trainers/llamacpp/session.ts";

export interface TrainingBenchJob {
  model: string;
  mode: "lora" | "full";
  steps: number;
  threads: number;
  rank: number;
}

export interface TrainingBenchResult {
  steps: number;
  seconds: number;
  /** Trained tokens: the answers (the loss mask leaves out prompts and padding). */
  trainedTokens: number;
  /** Tokens of the examples (prompt and answer), padding excluded. */
  exampleTokens: number;
  windowTokens: number;
  loadSeconds: number;
  /** VmHWM of this process. */
  peakRssBytes: number;
  firstLoss: number;
  lastLoss: number;
}

/** 20 questions and answers, rendered as the trainer renders chat examples (byte-level vocab). */
export const BENCH_DATA = Array.from({ length: 20 }, (_, i) =>
  JSON.stringify({ messages: [{ role: "system", content: "You answer questions about projects." }, { role: "user", content: `What is the codename of project ${i + 7}?` }, { role: "assistant", content: `The codename of project ${i + 7} is AMBER OWL.` }] }),
).join("\n");

function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

async function main(): Promise<TrainingBenchResult> {
  const job = JSON.parse(process.argv[2] ?? "{}") as TrainingBenchJob;
  const dir = await mkdtemp(join(tmpdir(), "ingot-bench-train-"));
  try {
    const info = await readGguf(job.model);
    const t0 = performance.now();
    const lib = loadLibllama();
    let adapterPath: string | undefined;
    let pairs = 0;
    if (job.mode === "lora") {
      const ad = initialAdapter(info, job.rank, 2 * job.rank, 1);
      adapterPath = join(dir, "lora.gguf");
      await writeLoraAdapter(adapterPath, ad);
      pairs = ad.pairs.length;
    }
    const budget = budgetAdapter(info);
    const n = budgetAdaptersNeeded(info.tensors.length, pairs, budget.nodes);
    const budgetPath = join(dir, "budget.gguf");
    if (n) await writeLoraAdapter(budgetPath, budget.adapter);
    const session = new TrainingSession(lib, {
      modelPath: job.model, window: 256, threads: job.threads, mode: job.mode, adapterPath, budgetAdapterPaths: Array(n).fill(budgetPath),
    });
    const tok = byteTokenizer(CONTROL_TOKENS, { bos: 256, addBos: false, eos: 258, pad: 256 });
    const windows = parseDataset(BENCH_DATA).map((p) => toWindow(encodeExample(p, chatmlRenderer, tok), session.window, 256));
    const loadSeconds = (performance.now() - t0) / 1000;
    session.setAdam({ lr: job.mode === "lora" ? 2e-3 : 1e-3 });
    // One untimed step: the first one allocates the optimizer state.
    const first = session.step(windows[0]);
    let trained = 0;
    let real = 0;
    let last = first;
    const started = performance.now();
    for (let i = 0; i < job.steps; i++) {
      const w = windows[(i + 1) % windows.length];
      last = session.step(w);
      trained += last.tokens;
      real += w.tokens.findIndex((t, k) => k > 0 && t === 256 && w.labels[k] === 256) + 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const result: TrainingBenchResult = {
      steps: job.steps, seconds, trainedTokens: trained, exampleTokens: real, windowTokens: job.steps * session.window, loadSeconds,
      peakRssBytes: peakRss(), firstLoss: first.loss, lastLoss: last.loss,
    };
    session.close();
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (r) => {
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`training bench child failed: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  },
);
