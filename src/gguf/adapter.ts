// LoRA adapter GGUF files, as llama.cpp (and so node-llama-cpp) loads them:
// general.type=adapter, adapter.type=lora, adapter.lora.alpha, and per adapted weight W
// (ggml dims [in, out]) the pair `W.lora_a` [in, r] and `W.lora_b` [r, out], all F32.
// llama.cpp applies W·x + (alpha / r)·B·A·x.
import { open } from 'node:fs/promises';
import { GGML_TYPE, f32, metaGet, str, u32 } from './format.ts';
import type { GgufMetadata } from './format.ts';
import { readGguf } from './reader.ts';
import { writeGguf } from './writer.ts';
import type { WrittenFile } from './writer.ts';

export interface LoraPair {
  /** The adapted base tensor, e.g. `blk.0.attn_q.weight`. */
  base: string;
  inDim: number;
  outDim: number;
  /** [in × r] in ggml order (in varies fastest). */
  a: Float32Array;
  /** [r × out] in ggml order (r varies fastest). */
  b: Float32Array;
}

export interface LoraAdapter {
  /** general.architecture of the base model (llama.cpp refuses a mismatch). */
  architecture: string;
  rank: number;
  alpha: number;
  pairs: LoraPair[];
  /** Extra metadata (e.g. `ingot.*` training provenance), written as is. */
  extra?: GgufMetadata;
}

export function checkAdapter(ad: LoraAdapter): void {
  if (!Number.isInteger(ad.rank) || ad.rank <= 0) throw new Error(`LoRA rank must be a positive integer, got ${ad.rank}`);
  if (!(ad.alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${ad.alpha}`);
  if (ad.pairs.length === 0) throw new Error('a LoRA adapter needs at least one tensor pair');
  for (const p of ad.pairs) {
    if (p.a.length !== p.inDim * ad.rank) throw new Error(`${p.base}.lora_a: expected ${p.inDim}×${ad.rank} values, got ${p.a.length}`);
    if (p.b.length !== ad.rank * p.outDim) throw new Error(`${p.base}.lora_b: expected ${ad.rank}×${p.outDim} values, got ${p.b.length}`);
  }
}

/** Writes the adapter atomically (temp name + rename). */
export function writeLoraAdapter(path: string, ad: LoraAdapter): Promise<WrittenFile> {
  checkAdapter(ad);
  const metadata: GgufMetadata = {
    'general.architecture': str(ad.architecture),
    'general.type': str('adapter'),
    'general.alignment': u32(32),
    'adapter.type': str('lora'),
    'adapter.lora.alpha': f32(ad.alpha),
    'ingot.lora.rank': u32(ad.rank),
    ...ad.extra,
  };
  const bytes = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const tensors = ad.pairs.flatMap((p) => [
    { name: `${p.base}.lora_a`, dims: [p.inDim, ad.rank], type: GGML_TYPE.F32, data: bytes(p.a) },
    { name: `${p.base}.lora_b`, dims: [ad.rank, p.outDim], type: GGML_TYPE.F32, data: bytes(p.b) },
  ]);
  return writeGguf(path, { metadata, tensors });
}

/** Reads an adapter written by writeLoraAdapter (or any F32 LoRA GGUF). */
export async function readLoraAdapter(path: string): Promise<LoraAdapter> {
  const info = await readGguf(path);
  const md = info.metadata;
  if (metaGet(md, 'general.type') !== 'adapter' || metaGet(md, 'adapter.type') !== 'lora') {
    throw new Error(`${path} is not a LoRA adapter (general.type/adapter.type)`);
  }
  const architecture = metaGet(md, 'general.architecture');
  const alpha = metaGet(md, 'adapter.lora.alpha');
  if (typeof architecture !== 'string') throw new Error(`${path}: no general.architecture`);
  const byName = new Map(info.tensors.map((t) => [t.name, t]));
  const fh = await open(path, 'r');
  try {
    const read = async (name: string): Promise<{ dims: number[]; data: Float32Array }> => {
      const t = byName.get(name);
      if (!t) throw new Error(`${path}: missing tensor ${name}`);
      if (t.type !== GGML_TYPE.F32) throw new Error(`${path}: ${name} is ${t.typeName}, only F32 adapters are supported`);
      const buf = new Uint8Array(t.bytes);
      const { bytesRead } = await fh.read(buf, 0, t.bytes, t.offset);
      if (bytesRead !== t.bytes) throw new Error(`${path}: truncated tensor ${name}`);
      return { dims: t.dims, data: new Float32Array(buf.buffer) };
    };
    const pairs: LoraPair[] = [];
    let rank = 0;
    for (const t of info.tensors) {
      if (!t.name.endsWith('.lora_a')) continue;
      const base = t.name.slice(0, -'.lora_a'.length);
      const a = await read(t.name);
      const b = await read(`${base}.lora_b`);
      const [inDim, r] = a.dims;
      const [rb, outDim] = b.dims;
      if (r !== rb) throw new Error(`${path}: ${base} has lora_a rank ${r} but lora_b rank ${rb}`);
      if (rank && r !== rank) throw new Error(`${path}: mixed ranks (${rank} and ${r})`);
      rank = r;
      pairs.push({ base, inDim, outDim, a: a.data, b: b.data });
    }
    if (!pairs.length) throw new Error(`${path}: no LoRA tensor pairs`);
    const extra: GgufMetadata = {};
    for (const [k, v] of Object.entries(md)) if (k.startsWith('ingot.') && k !== 'ingot.lora.rank') extra[k] = v;
    return { architecture, rank, alpha: typeof alpha === 'number' ? alpha : 0, pairs, extra };
  } finally {
    await fh.close();
  }
}
