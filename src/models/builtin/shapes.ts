// Model shapes the builder knows. The benchmark shapes copy the real models'
// config.json (Hugging Face) exactly, so that random weights cost what the real
// weights cost to run.

export interface ModelShape {
  name: string;
  /** GGUF general.architecture; also the prefix of the hparam keys. */
  arch: 'llama' | 'qwen2';
  embd: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ff: number;
  vocab: number;
  context: number;
  ropeTheta: number;
  rmsEps: number;
  /** No output.weight: llama.cpp reuses token_embd as the output layer. */
  tiedEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2). */
  qkvBias: boolean;
  /** llama_pooling_type for embedding models (1 = mean); absent for chat models. */
  poolingType?: number;
  /**
   * Benchmark shapes: the rows of the end-of-generation tokens (<|endoftext|>,
   * <|im_end|>) in token_embd (and output, if untied) are all zero, so their logit is
   * exactly 0 and greedy decoding never picks them over tens of thousands of random
   * logits, some of which are always positive. Every run then generates its full
   * max_tokens, which is what a throughput benchmark needs.
   */
  noEndOfText: boolean;
  /**
   * Std of token_embd's init (default 0.02, like every other matrix). The embedding
   * model uses 1: the layers then only nudge a residual stream that the token
   * embeddings dominate, so mean pooling gives a bag-of-bytes-like vector and texts
   * that share characters come out similar (fully random layers gave cosine ~0.1
   * for near-duplicate sentences, no better than for unrelated ones).
   */
  embedStd?: number;
}

export const SHAPES = {
  // Small enough to fine-tune in about a minute on 2 cores (0.87 M params).
  // Keeps a separate output.weight so that training can change it.
  'tiny': {
    name: 'tiny', arch: 'llama', embd: 128, layers: 4, heads: 4, kvHeads: 4, ff: 352,
    vocab: 262, context: 2048, ropeTheta: 10000, rmsEps: 1e-5,
    tiedEmbeddings: false, qkvBias: false, noEndOfText: false,
  },
  // Same body, mean-pooled: what node-llama-cpp's embedding context reads.
  'tiny-embed': {
    name: 'tiny-embed', arch: 'llama', embd: 128, layers: 4, heads: 4, kvHeads: 4, ff: 352,
    vocab: 262, context: 2048, ropeTheta: 10000, rmsEps: 1e-5,
    tiedEmbeddings: true, qkvBias: false, poolingType: 1, noEndOfText: false, embedStd: 1,
  },
  // HuggingFaceTB/SmolLM2-135M(-Instruct) config.json.
  'smollm2-135m': {
    name: 'smollm2-135m', arch: 'llama', embd: 576, layers: 30, heads: 9, kvHeads: 3, ff: 1536,
    vocab: 49152, context: 8192, ropeTheta: 100000, rmsEps: 1e-5,
    tiedEmbeddings: true, qkvBias: false, noEndOfText: true,
  },
  // Qwen/Qwen2.5-0.5B(-Instruct) config.json (vocab_size is the padded 151936).
  'qwen2.5-0.5b': {
    name: 'qwen2.5-0.5b', arch: 'qwen2', embd: 896, layers: 24, heads: 14, kvHeads: 2, ff: 4864,
    vocab: 151936, context: 32768, ropeTheta: 1000000, rmsEps: 1e-6,
    tiedEmbeddings: true, qkvBias: true, noEndOfText: true,
  },
} as const satisfies Record<string, ModelShape>;

export type ShapeName = keyof typeof SHAPES;

export function isShapeName(s: string): s is ShapeName {
  return Object.hasOwn(SHAPES, s);
}

export function getShape(name: string): ModelShape {
  if (!isShapeName(name)) throw new Error(`unknown shape "${name}" (known: ${Object.keys(SHAPES).join(', ')})`);
  return SHAPES[name];
}

/** Throws unless a (custom) shape is one llama.cpp can load; returns it. */
export function checkShape(s: ModelShape): ModelShape {
  for (const k of ['embd', 'layers', 'heads', 'kvHeads', 'ff', 'vocab', 'context'] as const) {
    if (!Number.isInteger(s[k]) || s[k] <= 0) throw new Error(`shape ${s.name}: ${k} must be a positive integer`);
  }
  if (s.embd % s.heads !== 0) throw new Error(`shape ${s.name}: embd must be a multiple of heads`);
  if (s.heads % s.kvHeads !== 0) throw new Error(`shape ${s.name}: heads must be a multiple of kvHeads`);
  if (s.vocab < 262) throw new Error(`shape ${s.name}: vocab must hold 256 bytes + 6 control tokens`);
  return s;
}

export function headDim(s: ModelShape): number {
  return s.embd / s.heads;
}

/** Parameter count, for progress and sanity checks. */
export function paramCount(s: ModelShape): number {
  const hd = headDim(s);
  const q = s.embd * s.heads * hd;
  const kv = 2 * s.embd * s.kvHeads * hd;
  const bias = s.qkvBias ? s.heads * hd + 2 * s.kvHeads * hd : 0;
  const layer = 2 * s.embd + q + kv + bias + s.heads * hd * s.embd + 3 * s.embd * s.ff;
  return s.vocab * s.embd * (s.tiedEmbeddings ? 1 : 2) + s.embd + s.layers * layer;
}
