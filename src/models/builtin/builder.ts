// Deterministic random-weight models: same shape + seed + type → byte-identical file.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { GGML_TYPE, f32, str, u32 } from '../../gguf/format.ts';
import type { GgufMetadata } from '../../gguf/format.ts';
import { quantizeGguf } from '../../native/quantize.ts';
import type { QuantType } from '../../native/quantize.ts';
import { fillNormal, rngFor } from '../../lib/random.ts';
import type { RngState } from '../../lib/random.ts';
import { checkShape, getShape, headDim } from './shapes.ts';
import type { ModelShape } from './shapes.ts';
import { buildVocab, tokenizerMetadata } from '../../gguf/tokenizer.ts';
import type { Vocab } from '../../gguf/tokenizer.ts';
import { writeGguf } from '../../gguf/writer.ts';
import type { GgufTensorToWrite, WrittenFile } from '../../gguf/writer.ts';

export type ModelType = 'f32' | 'f16' | QuantType;

/** Bump whenever a change here alters the bytes a recipe produces (built-in models are cached by recipe). */
export const BUILDER_VERSION = 2;
export const MODEL_TYPES: readonly ModelType[] = ['f32', 'f16', 'q8_0', 'q4_k_m'];

export interface BuildOptions {
  shape: string | ModelShape;
  seed: number;
  type: ModelType;
  out: string;
  /** Quantizer threads (q8_0/q4_k_m only); at most 2. */
  threads?: number;
  /** general.name; defaults to `ingot-<shape>`. */
  name?: string;
}

// Float16Array is in Node 24 but not in this project's TS lib (es2024).
declare const Float16Array: {
  new (length: number): { buffer: ArrayBuffer; set(src: ArrayLike<number>): void; length: number };
};

const INIT_STD = 0.02; // GPT-2 style init: keeps a random model's activations sane
// Fixed (and even: fillNormal draws pairs) so the bytes never depend on anything else.
const CHUNK = 1 << 20;

const FTYPE = { f32: 0, f16: 1 } as const;

export interface TensorPlan {
  name: string;
  dims: number[];
  init: 'normal' | 'ones';
  std?: number;
  /** Rows (along dims[1]) forced to zero after the draw. */
  zeroRows?: readonly number[];
}

export function planTensors(s: ModelShape, vocab: Vocab): TensorPlan[] {
  const hd = headDim(s);
  const q = s.heads * hd;
  const kv = s.kvHeads * hd;
  const zeroRows = s.noEndOfText ? [vocab.endOfTextId, vocab.imEndId] : undefined;
  const plan: TensorPlan[] = [
    { name: 'token_embd.weight', dims: [s.embd, s.vocab], init: 'normal', std: s.embedStd, zeroRows },
  ];
  for (let i = 0; i < s.layers; i++) {
    const b = `blk.${i}.`;
    plan.push({ name: `${b}attn_norm.weight`, dims: [s.embd], init: 'ones' });
    plan.push({ name: `${b}attn_q.weight`, dims: [s.embd, q], init: 'normal' });
    if (s.qkvBias) plan.push({ name: `${b}attn_q.bias`, dims: [q], init: 'normal' });
    plan.push({ name: `${b}attn_k.weight`, dims: [s.embd, kv], init: 'normal' });
    if (s.qkvBias) plan.push({ name: `${b}attn_k.bias`, dims: [kv], init: 'normal' });
    plan.push({ name: `${b}attn_v.weight`, dims: [s.embd, kv], init: 'normal' });
    if (s.qkvBias) plan.push({ name: `${b}attn_v.bias`, dims: [kv], init: 'normal' });
    plan.push({ name: `${b}attn_output.weight`, dims: [q, s.embd], init: 'normal' });
    plan.push({ name: `${b}ffn_norm.weight`, dims: [s.embd], init: 'ones' });
    plan.push({ name: `${b}ffn_gate.weight`, dims: [s.embd, s.ff], init: 'normal' });
    plan.push({ name: `${b}ffn_up.weight`, dims: [s.embd, s.ff], init: 'normal' });
    plan.push({ name: `${b}ffn_down.weight`, dims: [s.ff, s.embd], init: 'normal' });
  }
  plan.push({ name: 'output_norm.weight', dims: [s.embd], init: 'ones' });
  if (!s.tiedEmbeddings) plan.push({ name: 'output.weight', dims: [s.embd, s.vocab], init: 'normal', zeroRows });
  return plan;
}

export function modelMetadata(s: ModelShape, vocab: Vocab, fileType: number, name: string, seed: number): GgufMetadata {
  const a = s.arch;
  const meta: GgufMetadata = {
    'general.architecture': str(a),
    'general.name': str(name),
    'general.file_type': u32(fileType),
    'general.alignment': u32(32),
    'ingot.shape': str(s.name),
    'ingot.seed': str(String(seed)),
    [`${a}.vocab_size`]: u32(s.vocab),
    [`${a}.context_length`]: u32(s.context),
    [`${a}.embedding_length`]: u32(s.embd),
    [`${a}.block_count`]: u32(s.layers),
    [`${a}.feed_forward_length`]: u32(s.ff),
    [`${a}.attention.head_count`]: u32(s.heads),
    [`${a}.attention.head_count_kv`]: u32(s.kvHeads),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(s.rmsEps),
    [`${a}.rope.freq_base`]: f32(s.ropeTheta),
    [`${a}.rope.dimension_count`]: u32(headDim(s)),
  };
  if (s.poolingType !== undefined) meta[`${a}.pooling_type`] = u32(s.poolingType);
  return { ...meta, ...tokenizerMetadata(vocab) };
}

function* tensorChunks(plan: TensorPlan, rng: RngState, asF16: boolean): Generator<Uint8Array> {
  const total = plan.dims.reduce((x, y) => x * y, 1);
  const rowLen = plan.dims[0];
  const buf = new Float32Array(Math.min(CHUNK, total));
  const half = asF16 ? new Float16Array(buf.length) : undefined;
  for (let start = 0; start < total; start += CHUNK) {
    const n = Math.min(CHUNK, total - start);
    const view = buf.subarray(0, n);
    if (plan.init === 'ones') view.fill(1);
    else fillNormal(rng, view, plan.std ?? INIT_STD);
    for (const r of plan.zeroRows ?? []) {
      const lo = Math.max(r * rowLen, start);
      const hi = Math.min((r + 1) * rowLen, start + n);
      if (lo < hi) view.fill(0, lo - start, hi - start);
    }
    if (half) {
      half.set(view);
      yield new Uint8Array(half.buffer, 0, n * 2);
    } else {
      yield new Uint8Array(buf.buffer, 0, n * 4);
    }
  }
}

/** Writes an F32 or F16 model (1-D tensors stay F32, as llama.cpp's converter does). */
export async function writeFloatModel(s: ModelShape, seed: number, type: 'f32' | 'f16', out: string, name: string): Promise<WrittenFile> {
  const vocab = buildVocab(s.vocab);
  const tensors: GgufTensorToWrite[] = planTensors(s, vocab).map((p) => {
    const asF16 = type === 'f16' && p.dims.length > 1;
    return {
      name: p.name,
      dims: p.dims,
      type: asF16 ? GGML_TYPE.F16 : GGML_TYPE.F32,
      data: () => tensorChunks(p, rngFor(seed, p.name), asF16),
    };
  });
  return writeGguf(out, { metadata: modelMetadata(s, vocab, FTYPE[type], name, seed), tensors });
}

async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

/** Builds a model file at `out` (written under a temp name, then renamed). */
export async function buildModel(opts: BuildOptions): Promise<WrittenFile> {
  const shape = typeof opts.shape === 'string' ? getShape(opts.shape) : checkShape(opts.shape);
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new Error(`seed must be a non-negative integer, got ${opts.seed}`);
  if (!MODEL_TYPES.includes(opts.type)) throw new Error(`unknown type "${opts.type}" (known: ${MODEL_TYPES.join(', ')})`);
  const name = opts.name ?? `ingot-${shape.name}`;
  if (opts.type === 'f32' || opts.type === 'f16') return writeFloatModel(shape, opts.seed, opts.type, opts.out, name);

  // Quantized: an F16 intermediate (the usual convert → quantize route, half the
  // bytes of F32), quantized by libllama into a temp name, hashed, renamed.
  const tag = randomBytes(6).toString('hex');
  const src = `${opts.out}.src-${tag}`;
  const tmp = `${opts.out}.tmp-${tag}`;
  try {
    await writeFloatModel(shape, opts.seed, 'f16', src, name);
    await quantizeGguf(src, tmp, opts.type, { threads: opts.threads });
    const { sha256, bytes } = await sha256File(tmp);
    await rename(tmp, opts.out);
    return { path: opts.out, bytes, sha256 };
  } finally {
    await unlink(src).catch(() => {});
    await unlink(tmp).catch(() => {});
  }
}
