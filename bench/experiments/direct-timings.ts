// Experiment: where a direct node-llama-cpp decode step spends its time: llama.cpp's own
// eval timings (performanceTracking) against the wall time per generated token.
// node bench/experiments/direct-timings.ts <shape> <threads> [tokens]
import { performance } from "node:perf_hooks";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";

const [shape = "smollm2-135m", threadsArg = "1", tokensArg = "256", mmapArg = "default"] = process.argv.slice(2);
const threads = Number(threadsArg);
const tokens = Number(tokensArg);
const lines: string[] = [];
const llama = await getLlama({
  gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.info, progressLogs: false,
  logger: (_level, message) => lines.push(message),
});
const model = await llama.loadModel({ modelPath: modelPathFor(shape as BenchShape), gpuLayers: 0, ...(mmapArg === "default" ? {} : { useMmap: mmapArg === "mmap" }) });
const context = await model.createContext({ contextSize: 1024, sequences: 1, threads, batchSize: 512, flashAttention: false, performanceTracking: true });
const sequence = context.getSequence();
const prompt = model.tokenize("The quick brown fox jumps over the lazy dog. ", false);
for (let rep = 0; rep < 3; rep++) {
  await sequence.clearHistory();
  lines.length = 0;
  const times: number[] = [];
  for await (const _ of sequence.evaluate(prompt, { temperature: 0 })) {
    times.push(performance.now());
    if (times.length >= tokens) break;
  }
  await context.printTimings();
  const wallPerToken = (times[times.length - 1] - times[0]) / (times.length - 1);
  const evalLine = lines.join("").split("\n").find((l) => l.includes(" eval time") && !l.includes("prompt"));
  if (rep === 0) console.log(lines.join("").slice(0, 1500));
  console.log(`rep ${rep}: wall ${wallPerToken.toFixed(3)} ms/token (${(1000 / wallPerToken).toFixed(1)} tok/s) | ${evalLine?.trim()}`);
}
await context.dispose();
await model.dispose();
