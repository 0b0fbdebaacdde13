// Parses a GGUF header, metadata and tensor infos without touching tensor data.
import { open } from 'node:fs/promises';
import {
  GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, alignUp, ggmlTypeName, tensorBytes,
} from './format.ts';
import type { GgufArray, GgufMetadata, GgufScalar, GgufScalarType, GgufValue } from './format.ts';

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the row length (ne0). */
  dims: number[];
  type: number;
  typeName: string;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  bytes: number;
}

export interface GgufInfo {
  version: number;
  metadata: GgufMetadata;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset where the tensor data section starts. */
  dataOffset: number;
}

const TYPE_BY_ID: readonly (GgufScalarType | 'array')[] = [
  'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64',
];

// Thrown when the buffer ends before the header does; readGguf then reads more.
class NeedMore extends Error {}

// Sanity limits so that a corrupt or hostile file fails fast instead of allocating.
const MAX_STRING = 64 * 1024 * 1024;
const MAX_COUNT = 1 << 28;

class Cursor {
  pos = 0;
  readonly buf: Buffer;
  readonly complete: boolean;
  constructor(buf: Buffer, complete: boolean) {
    this.buf = buf;
    this.complete = complete;
  }
  take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      if (this.complete) throw new Error(`truncated GGUF: need ${n} bytes at offset ${at}`);
      throw new NeedMore();
    }
    this.pos += n;
    return at;
  }
  u32(): number { return this.buf.readUInt32LE(this.take(4)); }
  u64(): number {
    const v = this.buf.readBigUInt64LE(this.take(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`GGUF value too large: ${v}`);
    return Number(v);
  }
  count(what: string): number {
    const n = this.u64();
    if (n > MAX_COUNT) throw new Error(`GGUF ${what} count ${n} is implausible`);
    return n;
  }
  string(): string {
    const n = this.u64();
    if (n > MAX_STRING) throw new Error(`GGUF string of ${n} bytes is implausible`);
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }
  scalar(type: GgufScalarType): GgufScalar {
    const b = this.buf;
    switch (type) {
      case 'u8': return b.readUInt8(this.take(1));
      case 'i8': return b.readInt8(this.take(1));
      case 'u16': return b.readUInt16LE(this.take(2));
      case 'i16': return b.readInt16LE(this.take(2));
      case 'u32': return b.readUInt32LE(this.take(4));
      case 'i32': return b.readInt32LE(this.take(4));
      case 'f32': return b.readFloatLE(this.take(4));
      case 'f64': return b.readDoubleLE(this.take(8));
      case 'u64': return b.readBigUInt64LE(this.take(8));
      case 'i64': return b.readBigInt64LE(this.take(8));
      case 'bool': return b.readUInt8(this.take(1)) !== 0;
      case 'string': return this.string();
    }
  }
  valueType(): GgufScalarType | 'array' {
    const id = this.u32();
    const t = TYPE_BY_ID[id];
    if (t === undefined) throw new Error(`unknown GGUF value type ${id}`);
    return t;
  }
  array(): GgufArray {
    const itemType = this.valueType();
    const n = this.count('array');
    if (itemType === 'array') {
      const value: GgufArray[] = [];
      for (let i = 0; i < n; i++) value.push(this.array());
      return { type: 'array', itemType, value };
    }
    const value: GgufScalar[] = new Array(n);
    for (let i = 0; i < n; i++) value[i] = this.scalar(itemType);
    return { type: 'array', itemType, value };
  }
  value(): GgufValue {
    const t = this.valueType();
    if (t === 'array') return this.array();
    return { type: t, value: this.scalar(t) } as GgufValue;
  }
}

/** Parses GGUF from a buffer holding at least the header (complete=true: the whole file). */
export function parseGguf(buf: Buffer, complete = true): GgufInfo {
  const c = new Cursor(buf, complete);
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) throw new Error('not a GGUF file (bad magic)');
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new Error(`unsupported GGUF version ${version}`);
  const nTensors = c.count('tensor');
  const nKv = c.count('metadata');
  const metadata: GgufMetadata = {};
  for (let i = 0; i < nKv; i++) {
    const key = c.string();
    // defineProperty: a key such as "__proto__" stays a plain entry.
    Object.defineProperty(metadata, key, { value: c.value(), enumerable: true, writable: true, configurable: true });
  }
  const al = metadata['general.alignment'];
  const alignment = al && al.type === 'u32' ? al.value : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new Error(`invalid general.alignment ${alignment}`);
  }
  const raw: { name: string; dims: number[]; type: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.string();
    const nDims = c.u32();
    if (nDims > 4) throw new Error(`tensor ${name} has ${nDims} dims`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64());
    const type = c.u32();
    raw.push({ name, dims, type, rel: c.u64() });
  }
  const dataOffset = alignUp(c.pos, alignment);
  const tensors = raw.map((t) => ({
    name: t.name, dims: t.dims, type: t.type, typeName: ggmlTypeName(t.type),
    offset: dataOffset + t.rel, bytes: tensorBytes(t.type, t.dims),
  }));
  return { version, metadata, tensors, alignment, dataOffset };
}

/** Reads a GGUF file's header, metadata and tensor infos (not the tensor data). */
export async function readGguf(path: string): Promise<GgufInfo> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    // Start small and double: most headers are a few MB at most (big vocabularies).
    for (let want = 1 << 20; ; want *= 2) {
      const n = Math.min(want, size);
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      try {
        return parseGguf(buf.subarray(0, bytesRead), bytesRead >= size);
      } catch (e) {
        if (!(e instanceof NeedMore)) throw e;
      }
    }
  } finally {
    await fh.close();
  }
}
