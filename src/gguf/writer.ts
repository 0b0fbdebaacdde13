// Writes GGUF v3, streaming tensor data so that a model never sits whole in memory.
// The file appears under its final name only once complete (temp name + rename).
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_TYPE_IDS, GGUF_VERSION, alignUp, tensorBytes,
} from './format.ts';
import type { GgufArray, GgufMetadata, GgufScalar, GgufScalarType, GgufValue } from './format.ts';

export type TensorChunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface GgufTensorToWrite {
  name: string;
  /** ggml order: dims[0] is the row length (ne0). */
  dims: readonly number[];
  type: number;
  /** The bytes, or a producer of chunks called once when the tensor's turn comes. */
  data: Uint8Array | (() => TensorChunks);
}

export interface GgufToWrite {
  metadata: GgufMetadata;
  tensors: readonly GgufTensorToWrite[];
}

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

const GGML_MAX_NAME = 64; // includes the NUL terminator in ggml_tensor.name

/** Growable little-endian byte builder for the header. */
class Bytes {
  buf = Buffer.alloc(1 << 16);
  len = 0;
  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  // room() may swap this.buf, so always take the offset before touching the buffer.
  u32(v: number): void { const at = this.room(4); this.buf.writeUInt32LE(v, at); }
  u64(v: number | bigint): void { const at = this.room(8); this.buf.writeBigUInt64LE(BigInt(v), at); }
  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.u64(n);
    const at = this.room(n);
    this.buf.write(s, at, n, 'utf8');
  }
  scalar(type: GgufScalarType, v: GgufScalar): void {
    switch (type) {
      case 'u8': { const at = this.room(1); this.buf.writeUInt8(v as number, at); return; }
      case 'i8': { const at = this.room(1); this.buf.writeInt8(v as number, at); return; }
      case 'u16': { const at = this.room(2); this.buf.writeUInt16LE(v as number, at); return; }
      case 'i16': { const at = this.room(2); this.buf.writeInt16LE(v as number, at); return; }
      case 'u32': this.u32(v as number); return;
      case 'i32': { const at = this.room(4); this.buf.writeInt32LE(v as number, at); return; }
      case 'f32': { const at = this.room(4); this.buf.writeFloatLE(v as number, at); return; }
      case 'f64': { const at = this.room(8); this.buf.writeDoubleLE(v as number, at); return; }
      case 'u64': this.u64(v as bigint); return;
      case 'i64': { const at = this.room(8); this.buf.writeBigInt64LE(v as bigint, at); return; }
      case 'bool': { const at = this.room(1); this.buf.writeUInt8(v ? 1 : 0, at); return; }
      case 'string': this.string(v as string); return;
    }
  }
  array(a: GgufArray): void {
    this.u32(GGUF_VALUE_TYPE_IDS[a.itemType]);
    this.u64(a.value.length);
    if (a.itemType === 'array') for (const x of a.value as readonly GgufArray[]) this.array(x);
    else for (const x of a.value as readonly GgufScalar[]) this.scalar(a.itemType, x);
  }
  value(v: GgufValue): void {
    this.u32(GGUF_VALUE_TYPE_IDS[v.type]);
    if (v.type === 'array') this.array(v);
    else this.scalar(v.type, v.value);
  }
  bytes(): Buffer { return this.buf.subarray(0, this.len); }
}

/** Buffers small writes into large ones and hashes everything that passes. */
class Sink {
  private readonly fh: FileHandle;
  private readonly buf = Buffer.alloc(8 << 20);
  private fill = 0;
  readonly hash = createHash('sha256');
  written = 0;
  constructor(fh: FileHandle) { this.fh = fh; }
  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.written += chunk.length;
    if (this.fill + chunk.length > this.buf.length) await this.flush();
    if (chunk.length >= this.buf.length) {
      await this.writeAll(chunk);
      return;
    }
    this.buf.set(chunk, this.fill);
    this.fill += chunk.length;
  }
  async pad(n: number): Promise<void> {
    if (n > 0) await this.write(Buffer.alloc(n));
  }
  async flush(): Promise<void> {
    if (this.fill > 0) await this.writeAll(this.buf.subarray(0, this.fill));
    this.fill = 0;
  }
  private async writeAll(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length;) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
  }
}

export function encodeGgufHeader(gguf: GgufToWrite): { header: Buffer; alignment: number; sizes: number[] } {
  const al = gguf.metadata['general.alignment'];
  const alignment = al && al.type === 'u32' ? al.value : GGUF_DEFAULT_ALIGNMENT;
  const names = new Set<string>();
  const h = new Bytes();
  h.u32(GGUF_MAGIC);
  h.u32(GGUF_VERSION);
  h.u64(gguf.tensors.length);
  h.u64(Object.keys(gguf.metadata).length);
  for (const [key, v] of Object.entries(gguf.metadata)) {
    h.string(key);
    h.value(v);
  }
  const sizes: number[] = [];
  let rel = 0;
  for (const t of gguf.tensors) {
    if (names.has(t.name)) throw new Error(`duplicate tensor name ${t.name}`);
    if (Buffer.byteLength(t.name) >= GGML_MAX_NAME) throw new Error(`tensor name too long: ${t.name}`);
    names.add(t.name);
    const size = tensorBytes(t.type, t.dims);
    sizes.push(size);
    h.string(t.name);
    h.u32(t.dims.length);
    for (const d of t.dims) h.u64(d);
    h.u32(t.type);
    h.u64(rel);
    rel = alignUp(rel + size, alignment);
  }
  return { header: h.bytes(), alignment, sizes };
}

/** Writes `gguf` to `out` via `<out>.tmp-<random>` and a rename; returns size and sha256. */
export async function writeGguf(out: string, gguf: GgufToWrite): Promise<WrittenFile> {
  const { header, alignment, sizes } = encodeGgufHeader(gguf);
  const tmp = `${out}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx');
  let ok = false;
  try {
    const sink = new Sink(fh);
    await sink.write(header);
    await sink.pad(alignUp(header.length, alignment) - header.length);
    for (let i = 0; i < gguf.tensors.length; i++) {
      const t = gguf.tensors[i];
      const start = sink.written;
      if (t.data instanceof Uint8Array) await sink.write(t.data);
      else for await (const chunk of t.data()) await sink.write(chunk);
      const got = sink.written - start;
      if (got !== sizes[i]) throw new Error(`tensor ${t.name}: expected ${sizes[i]} bytes, got ${got}`);
      await sink.pad(alignUp(got, alignment) - got);
    }
    await sink.flush();
    await fh.sync();
    await fh.close();
    await rename(tmp, out);
    ok = true;
    return { path: out, bytes: sink.written, sha256: sink.hash.digest('hex') };
  } finally {
    if (!ok) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    }
  }
}
