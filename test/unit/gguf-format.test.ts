import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { GGML_TYPE, arr, bool, f32, metaGet, str, tensorBytes, u32, u64 } from '../../src/gguf/format.ts';
import type { GgufMetadata } from '../../src/gguf/format.ts';
import { parseGguf, readGguf } from '../../src/gguf/reader.ts';
import { writeGguf } from '../../src/gguf/writer.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ingot-gguf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const metadata: GgufMetadata = {
  'general.architecture': str('llama'),
  'general.alignment': u32(32),
  'test.u8': { type: 'u8', value: 255 },
  'test.i8': { type: 'i8', value: -128 },
  'test.u16': { type: 'u16', value: 65535 },
  'test.i16': { type: 'i16', value: -32768 },
  'test.u32': u32(4294967295),
  'test.i32': { type: 'i32', value: -2147483648 },
  'test.f32': f32(0.5),
  'test.f64': { type: 'f64', value: Math.PI },
  'test.u64': u64(18446744073709551615n),
  'test.i64': { type: 'i64', value: -9223372036854775808n },
  'test.bool': bool(true),
  'test.string': str('héllo wörld — 日本語 🎉'),
  'test.empty': arr('string', []),
  'test.strings': arr('string', ['a', '', 'ü']),
  'test.ints': arr('i32', [1, -2, 3]),
  'test.nested': { type: 'array', itemType: 'array', value: [arr('u8', [1, 2]), arr('bool', [false])] },
};

test('metadata and tensor infos survive a write → read round trip', async (t) => {
  const dir = await tempDir(t);
  const a = new Float32Array([1, 2, 3, 4, 5, 6]);
  const b = new Uint8Array(tensorBytes(GGML_TYPE.F16, [3, 5])).fill(7);
  const written = await writeGguf(join(dir, 'x.gguf'), {
    metadata,
    tensors: [
      { name: 'a', dims: [3, 2], type: GGML_TYPE.F32, data: new Uint8Array(a.buffer) },
      // streamed in uneven chunks
      { name: 'b', dims: [3, 5], type: GGML_TYPE.F16, data: function* () { yield b.subarray(0, 7); yield b.subarray(7); } },
      { name: 'c', dims: [64], type: GGML_TYPE.Q8_0, data: async function* () { yield new Uint8Array(68).fill(9); } },
    ],
  });
  const info = await readGguf(written.path);
  assert.equal(info.version, 3);
  assert.deepEqual(info.metadata, metadata);
  assert.equal(metaGet(info.metadata, 'test.string'), 'héllo wörld — 日本語 🎉');
  assert.deepEqual(metaGet(info.metadata, 'test.nested'), [[1, 2], [false]]);
  assert.deepEqual(info.tensors.map((x) => [x.name, x.dims, x.typeName, x.bytes]), [
    ['a', [3, 2], 'F32', 24], ['b', [3, 5], 'F16', 30], ['c', [64], 'Q8_0', 68],
  ]);
  assert.equal(info.dataOffset % 32, 0);
  const fh = await open(written.path, 'r');
  try {
    for (const [tensor, want] of [[info.tensors[0], new Uint8Array(a.buffer)], [info.tensors[1], b]] as const) {
      assert.equal(tensor.offset % 32, 0);
      const got = Buffer.alloc(tensor.bytes);
      await fh.read(got, 0, tensor.bytes, tensor.offset);
      assert.deepEqual(new Uint8Array(got), want);
    }
  } finally {
    await fh.close();
  }
  const bytes = await readFile(written.path);
  assert.equal(written.bytes, bytes.length);
  assert.equal(written.sha256, createHash('sha256').update(bytes).digest('hex'));
});

test('a header larger than the first read is parsed (reader reads more)', async (t) => {
  const dir = await tempDir(t);
  const tokens = Array.from({ length: 150_000 }, (_, i) => `token-${i}`);
  const w = await writeGguf(join(dir, 'big.gguf'), {
    metadata: { 'tokenizer.ggml.tokens': arr('string', tokens) },
    tensors: [{ name: 'w', dims: [4], type: GGML_TYPE.F32, data: new Uint8Array(16) }],
  });
  const info = await readGguf(w.path);
  assert.equal((metaGet(info.metadata, 'tokenizer.ggml.tokens') as string[])[149_999], 'token-149999');
  assert.ok(info.tensors[0].offset > 1 << 20);
});

test('a tensor with the wrong byte count fails and leaves no file behind', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(
    writeGguf(join(dir, 'bad.gguf'), {
      metadata: {},
      tensors: [{ name: 'w', dims: [4], type: GGML_TYPE.F32, data: () => [new Uint8Array(12)] }],
    }),
    /expected 16 bytes, got 12/,
  );
  assert.deepEqual(await readdir(dir), []);
});

test('the reader rejects garbage and truncated files', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'junk'), 'not a gguf at all');
  await assert.rejects(readGguf(join(dir, 'junk')), /bad magic/);
  const w = await writeGguf(join(dir, 'ok.gguf'), { metadata, tensors: [] });
  const whole = await readFile(w.path);
  assert.throws(() => parseGguf(whole.subarray(0, 100)), /truncated/);
  assert.throws(() => tensorBytes(GGML_TYPE.Q8_0, [31]), /multiple of 32/);
});
