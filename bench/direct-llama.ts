// Child-process entry: single-stream greedy decode with node-llama-cpp called directly
// (no Ingot, no IPC, no HTTP) on the bench model. argv[2]: JSON DirectOptions.
// Prints one line `RESULT {json}`.
import { performance } from "node:perf_hooks";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { Token } from "node-llama-cpp";

export interface DirectOptions {
  modelPath: string;
  threads: number;
  tokens: number;
  prompt: string;
  reps: number;
  contextSize: number;
  /** Experiment knobs; defaults are the plain call from the benchmark brief. */
  threadsAsIdealMin?: boolean;
  flashAttention?: boolean;
  withMetadata?: boolean;
  batchSize?: number;
  /** Sequences in the context (Ingot uses 8); the measurement uses the first. */
  sequences?: number;
}

const o = JSON.parse(process.argv[2]) as DirectOptions;
const llama = await getLlama({ gpu: false, build: "never", maxThreads: o.threads, logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: o.modelPath, gpuLayers: 0 });
const context = await model.createContext({
  contextSize: o.contextSize,
  sequences: o.sequences ?? 1,
  threads: o.threadsAsIdealMin ? { ideal: o.threads, min: o.threads } : o.threads,
  batchSize: o.batchSize ?? Math.min(512, o.contextSize),
  flashAttention: o.flashAttention ?? false,
});
const sequence = context.getSequence();
const prompt = model.tokenize(o.prompt, false);

async function once(tokens: number): Promise<number> {
  await sequence.clearHistory();
  const times: number[] = [];
  const iterator = o.withMetadata
    ? (sequence.evaluateWithMetadata(prompt, {}, { temperature: 0 }) as AsyncGenerator<{ token: Token }>)
    : (sequence.evaluate(prompt, { temperature: 0 }) as AsyncGenerator<Token>);
  for await (const _ of iterator) {
    times.push(performance.now());
    if (times.length >= tokens) break;
  }
  return ((times.length - 1) * 1000) / (times[times.length - 1] - times[0]);
}

await once(Math.min(16, o.tokens)); // warm-up
const rates: number[] = [];
for (let i = 0; i < o.reps; i++) rates.push(await once(o.tokens));
process.stdout.write(`RESULT ${JSON.stringify({ rates, threads: context.currentThreads, promptTokens: prompt.length })}\n`);
await context.dispose();
await model.dispose();
process.exit(0);
