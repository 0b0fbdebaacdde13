// How much memory loading a GGUF will take, estimated before loading so that Ingot refuses
// with a message instead of being killed mid-load. On the CPU backend llama.cpp maps the
// weights (every page is touched), allocates one f16 K and V cache of contextLength cells
// per sequence, and a compute buffer that grows with the batch and the vocabulary.
import { stat } from "node:fs/promises";
import { IngotError } from "../core/errors.ts";
import { metaGet } from "../gguf/format.ts";
import type { GgufMetadata } from "../gguf/format.ts";
import { readGguf } from "../gguf/reader.ts";
import { gib } from "./download.ts";

export interface MemoryEstimate {
  weightsBytes: number;
  kvCacheBytes: number;
  computeBytes: number;
  totalBytes: number;
  contextLength: number;
  sequences: number;
}

/** The shape facts the estimate needs, read from GGUF metadata. */
export interface ModelDimensions {
  architecture: string;
  layers: number;
  embedding: number;
  heads: number;
  /** Per layer when the file gives an array (some models vary KV heads by layer). */
  kvHeads: number | number[];
  keyLength: number;
  valueLength: number;
  vocab: number;
  trainedContext: number | undefined;
}

const BATCH = 512; // the runner's batch size (min(512, contextLength))
const F16 = 2;
const OVERHEAD = 64 * 1024 * 1024; // runtime, threads, grammar state: measured tiny models use tens of MB

export function dimensionsOf(metadata: GgufMetadata): ModelDimensions {
  const arch = String(metaGet(metadata, "general.architecture") ?? "");
  if (!arch) throw new Error("the GGUF has no general.architecture");
  const num = (key: string): number | undefined => {
    const v = metaGet(metadata, `${arch}.${key}`);
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    return undefined;
  };
  const numOrArray = (key: string): number | number[] | undefined => {
    const v = metaGet(metadata, `${arch}.${key}`);
    if (Array.isArray(v)) return v.map(Number);
    if (typeof v === "number" || typeof v === "bigint") return Number(v);
    return undefined;
  };
  const layers = num("block_count") ?? 0;
  const embedding = num("embedding_length") ?? 0;
  const headsRaw = numOrArray("attention.head_count");
  const heads = Array.isArray(headsRaw) ? Math.max(...headsRaw) : (headsRaw ?? 0);
  const kvHeads = numOrArray("attention.head_count_kv") ?? heads;
  const headDim = heads > 0 ? Math.floor(embedding / heads) : 0;
  const tokens = metaGet(metadata, "tokenizer.ggml.tokens");
  const vocab = num("vocab_size") ?? (Array.isArray(tokens) ? tokens.length : 0);
  return {
    architecture: arch,
    layers,
    embedding,
    heads,
    kvHeads,
    keyLength: num("attention.key_length") ?? headDim,
    valueLength: num("attention.value_length") ?? headDim,
    vocab,
    trainedContext: num("context_length"),
  };
}

/** Weights (the file), f16 KV cache for contextLength × sequences cells, and a compute-buffer margin. */
export function estimateFromDimensions(d: ModelDimensions, fileBytes: number, contextLength: number, sequences: number): MemoryEstimate {
  const cells = contextLength * sequences;
  const kvPerLayer = (i: number) => {
    const kv = Array.isArray(d.kvHeads) ? (d.kvHeads[i] ?? 0) : d.kvHeads;
    return kv * (d.keyLength + d.valueLength) * F16;
  };
  let kvPerCell = 0;
  for (let i = 0; i < d.layers; i++) kvPerCell += kvPerLayer(i);
  const kvCacheBytes = kvPerCell * cells;
  const batch = Math.min(BATCH, contextLength);
  // Logits for a batch plus activations of a few embedding-wide tensors per token (f32).
  const computeBytes = batch * (d.vocab + 8 * d.embedding) * 4 + OVERHEAD;
  const weightsBytes = fileBytes;
  return { weightsBytes, kvCacheBytes, computeBytes, totalBytes: weightsBytes + kvCacheBytes + computeBytes, contextLength, sequences };
}

export async function estimateMemory(path: string, contextLength: number, sequences: number): Promise<MemoryEstimate> {
  const [info, st] = await Promise.all([readGguf(path), stat(path)]);
  return estimateFromDimensions(dimensionsOf(info.metadata), st.size, contextLength, sequences);
}

/**
 * One more context over loaded weights, for a LoRA adapter: the adapter file (loaded into
 * memory), and the base's per-context KV cache and compute buffers for `sequences`.
 */
export async function estimateAdapterMemory(basePath: string, adapterPath: string, contextLength: number, sequences: number): Promise<MemoryEstimate> {
  const [info, st] = await Promise.all([readGguf(basePath), stat(adapterPath)]);
  return estimateFromDimensions(dimensionsOf(info.metadata), st.size, contextLength, sequences);
}

/** Memory this process may still use: free memory, capped by a cgroup limit when there is one. */
export function availableMemory(): number {
  return process.availableMemory();
}

/** Throws an IngotError that says what to do when the estimate does not fit in `available` bytes. */
export function checkMemory(estimate: MemoryEstimate, available: number = availableMemory(), label = "the model"): void {
  if (estimate.totalBytes <= available) return;
  const e = estimate;
  throw new IngotError(
    "unavailable",
    "InsufficientMemory",
    `Not enough memory to load ${label}: it needs about ${gib(e.totalBytes)} (weights ${gib(e.weightsBytes)}, KV cache ${gib(e.kvCacheBytes)} for ${e.sequences} sequences × ${e.contextLength} tokens, compute buffers ${gib(e.computeBytes)}) and ${gib(available)} is free. Free memory, choose a smaller quantization, or lower --sequences or the model's context length.`,
  );
}
