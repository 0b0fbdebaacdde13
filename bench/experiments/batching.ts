// Experiment: node-llama-cpp's own batching with N concurrent greedy sequences in one
// process (no Ingot): aggregate rate, batch sizes formed, and time inside decodeBatch.
// node bench/experiments/batching.ts <shape> <threads> [tokens] [streams] [variant]
// variants (combinable, e.g. "sorted+wait"): plain | ideal-min | fa (flash attention)
//   sorted: batch items in increasing sequence id (llama.cpp splits a batch into one ubatch
//           per run of consecutive ids when the KV cache is not unified, as node-llama-cpp's is)
//   lockstep: streams advance together (a step barrier released in sequence-id order)
//   wait:   dispatch only when every active sequence has queued its token (or after 2 ms)
import { performance } from "node:perf_hooks";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { BatchItem, LlamaContext, LlamaContextSequence, PrioritizedBatchItem, Token } from "node-llama-cpp";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";

const [shape = "smollm2-135m", threadsArg = "1", tokensArg = "128", streamsArg = "8", variant = "plain"] = process.argv.slice(2);
const threads = Number(threadsArg);
const tokens = Number(tokensArg);
const streams = Number(streamsArg);
const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: modelPathFor(shape as BenchShape), gpuLayers: 0 });
let ctxRef: LlamaContext | undefined;
// node-llama-cpp builds `items` from its internal queue in order; the queue knows the sequence ids.
const queued = () => (ctxRef as unknown as { _queuedDecodes: { sequenceId: number }[] })._queuedDecodes;
function sortedStrategy({ items, size }: { items: readonly BatchItem[]; size: number }): PrioritizedBatchItem[] {
  const ids = queued().map((q) => q.sequenceId);
  const order = items.map((item, i) => ({ item, id: ids[i] ?? i })).sort((a, b) => a.id - b.id);
  let left = size;
  const share = Math.max(1, Math.floor(size / Math.max(1, items.length)));
  const out: PrioritizedBatchItem[] = [];
  for (const { item } of order) {
    if (left <= 0) break;
    const n = Math.min(item.tokens.length, left, share);
    out.push({ item, processAmount: n });
    left -= n;
  }
  return out;
}
function waitForAll(dispatch: () => void): void {
  const started = performance.now();
  let polls = 0;
  const check = () => {
    if (new Set(queued().map((q) => q.sequenceId)).size >= streams || performance.now() - started > 2 || ++polls > 1000) dispatch();
    else setImmediate(check);
  };
  setImmediate(check);
}
const context = await model.createContext({
  contextSize: 1024,
  sequences: 8,
  threads: variant.includes("ideal-min") ? { ideal: threads, min: threads } : threads,
  batching: {
    itemPrioritizationStrategy: variant.includes("sorted") ? sortedStrategy : "maximumParallelism",
    dispatchSchedule: variant.includes("wait") ? waitForAll : "nextCycle",
  },
  batchSize: 512,
  flashAttention: variant.includes("fa"),
});
ctxRef = context;
// Instrumentation: wrap the addon context's batch calls.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const native = (context as any)._ctx as { initBatch(n: number): void; decodeBatch(): Promise<void>; setThreads(n: number): void };
const sizes: number[] = [];
const threadsUsed: number[] = [];
let decodeMs = 0;
const msBySize = new Map<number, number[]>();
let sampleMs = 0;
let lastDecodeEnd = 0;
let gapMs = 0;
let initToDecodeMs = 0;
let lastInit = 0;
let samples = 0;
const wrapped: Record<string, unknown> = {
  initBatch(n: number) {
    lastInit = performance.now();
    if (lastDecodeEnd) gapMs += lastInit - lastDecodeEnd;
    sizes.push(n);
    native.initBatch(n);
  },
  setThreads(n: number) {
    threadsUsed.push(n);
    native.setThreads(n);
  },
  async sampleToken(...args: unknown[]) {
    const t = performance.now();
    const r = await (native as unknown as { sampleToken(...a: unknown[]): Promise<unknown> }).sampleToken(...args);
    sampleMs += performance.now() - t;
    samples++;
    return r;
  },
  async decodeBatch() {
    const t = performance.now();
    initToDecodeMs += t - lastInit;
    await native.decodeBatch();
    lastDecodeEnd = performance.now();
    const ms = lastDecodeEnd - t;
    decodeMs += ms;
    const n = sizes[sizes.length - 1];
    msBySize.set(n, [...(msBySize.get(n) ?? []), ms]);
  },
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
(context as any)._ctx = new Proxy(native, {
  get(target, prop) {
    if (typeof prop === "string" && prop in wrapped) return wrapped[prop];
    const v = Reflect.get(target, prop, target);
    return typeof v === "function" ? v.bind(target) : v;
  },
});

const sequences: LlamaContextSequence[] = Array.from({ length: 8 }, () => context.getSequence());

/** Lockstep: every active stream waits until all have their token, then all ask for the next one together. */
class StepBarrier {
  #active = new Set<number>();
  #waiting = new Map<number, () => void>();
  join(id: number): void {
    this.#active.add(id);
  }
  leave(id: number): void {
    this.#active.delete(id);
    this.#maybeRelease();
  }
  arrive(id: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#maybeRelease();
    });
  }
  #maybeRelease(): void {
    if (this.#waiting.size === 0 || this.#waiting.size < this.#active.size) return;
    const release = [...this.#waiting.entries()].sort((a, b) => a[0] - b[0]);
    this.#waiting.clear();
    setImmediate(() => {
      for (const [, r] of release) r();
    });
  }
}
const barrier = new StepBarrier();
async function one(seq: LlamaContextSequence, i: number): Promise<number> {
  await seq.clearHistory();
  let n = 0;
  const prompt = model.tokenize(`Stream ${i}: The quick brown fox jumps over the lazy dog. `, false);
  const lockstep = variant.includes("lockstep");
  let joined = false;
  try {
    for await (const _ of seq.evaluateWithMetadata(prompt, {}, { temperature: 0 }) as AsyncGenerator<{ token: Token }>) {
      if (++n >= tokens) break;
      if (lockstep) {
        if (!joined) barrier.join(i);
        joined = true;
        await barrier.arrive(i);
      }
    }
  } finally {
    if (joined) barrier.leave(i);
  }
  return n;
}
for (let round = 0; round < 2; round++) {
  sizes.length = 0;
  msBySize.clear();
  sampleMs = 0;
  samples = 0;
  gapMs = 0;
  initToDecodeMs = 0;
  lastDecodeEnd = 0;
  threadsUsed.length = 0;
  decodeMs = 0;
  const t0 = performance.now();
  const counts = await Promise.all(sequences.slice(0, streams).map((s, i) => one(s, i)));
  const wall = performance.now() - t0;
  const total = counts.reduce((a, b) => a + b, 0);
  const hist = new Map<number, number>();
  for (const s of sizes) hist.set(s, (hist.get(s) ?? 0) + 1);
  console.log(
    `round ${round}: ${streams} streams, ${((total * 1000) / wall).toFixed(1)} tok/s aggregate; ${sizes.length} batches, ` +
      `${((decodeMs / wall) * 100).toFixed(0)}% of wall in decodeBatch; batch sizes ${[...hist.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`).join(" ")}; ` +
      `threads set ${[...new Set(threadsUsed)].join(",") || "never"}`,
  );
  console.log(`  sampleToken: ${samples} calls, ${(sampleMs / Math.max(1, samples)).toFixed(3)} ms each (wall, incl. the libuv hop); wall per step ${(wall / Math.max(1, sizes.length)).toFixed(2)} ms; decode end → next initBatch ${(gapMs / Math.max(1, sizes.length - 1)).toFixed(3)} ms; initBatch → decodeBatch ${(initToDecodeMs / Math.max(1, sizes.length)).toFixed(3)} ms`);
  console.log(`  ms per decodeBatch by size: ${[...msBySize.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}: ${(v.reduce((x, y) => x + y, 0) / v.length).toFixed(1)}`).join(", ")}`);
}
await context.dispose();
await model.dispose();
