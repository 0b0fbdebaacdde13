// Child-process entry for bench/deploy-ready.ts: what loading a model costs without Ingot —
// a fresh process that loads the GGUF with node-llama-cpp and creates the same context Ingot's
// runner creates, then generates one token. argv[2]: JSON {modelPath, contextSize, sequences, threads}.
// The parent times it from spawn to exit.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const o = JSON.parse(process.argv[2]) as { modelPath: string; contextSize: number; sequences: number; threads: number };
const llama = await getLlama({ gpu: false, build: "never", maxThreads: o.threads, logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: o.modelPath, gpuLayers: 0 });
const context = await model.createContext({ contextSize: o.contextSize, sequences: o.sequences, threads: { ideal: o.threads, min: o.threads }, batchSize: Math.min(512, o.contextSize), flashAttention: true });
// Ingot's Succeeded means "loaded and answers": one token of generation.
const sequence = context.getSequence();
for await (const _ of sequence.evaluate(model.tokenize("hi", false), { temperature: 0 })) break;
process.exit(0);
