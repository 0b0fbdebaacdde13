import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, planTensors } from '../../src/models/builtin/builder.ts';
import { BUILTIN_MODELS, ensureBuiltinModel } from '../../src/models/builtin/recipes.ts';
import { metaGet } from '../../src/gguf/format.ts';
import { readGguf } from '../../src/gguf/reader.ts';
import { SHAPES, paramCount } from '../../src/models/builtin/shapes.ts';
import type { ModelShape } from '../../src/models/builtin/shapes.ts';
import { buildVocab, bytesToUnicode } from '../../src/gguf/tokenizer.ts';
import { makeModelCommand } from '../../src/cli/commands/make-model.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ingot-gguf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('same shape + seed + type gives the same bytes; another seed does not', async (t) => {
  const dir = await tempDir(t);
  const a = await buildModel({ shape: 'tiny', seed: 7, type: 'f32', out: join(dir, 'a.gguf') });
  const b = await buildModel({ shape: 'tiny', seed: 7, type: 'f32', out: join(dir, 'b.gguf') });
  const c = await buildModel({ shape: 'tiny', seed: 8, type: 'f32', out: join(dir, 'c.gguf') });
  assert.equal(a.sha256, b.sha256);
  assert.notEqual(a.sha256, c.sha256);
  assert.equal(a.sha256, createHash('sha256').update(await readFile(a.path)).digest('hex'));
  const h1 = await buildModel({ shape: 'tiny', seed: 7, type: 'f16', out: join(dir, 'h1.gguf') });
  const h2 = await buildModel({ shape: 'tiny', seed: 7, type: 'f16', out: join(dir, 'h2.gguf') });
  assert.equal(h1.sha256, h2.sha256);
  assert.ok(h1.bytes < a.bytes * 0.6);
  const info = await readGguf(h1.path);
  const types = new Set(info.tensors.map((x) => `${x.dims.length}:${x.typeName}`));
  assert.deepEqual([...types].sort(), ['1:F32', '2:F16']); // 1-D norms stay F32
  assert.deepEqual((await readdir(dir)).sort(), ['a.gguf', 'b.gguf', 'c.gguf', 'h1.gguf', 'h2.gguf']);
});

test('tiny model metadata: gpt2 byte vocab, ChatML template, hparams', async (t) => {
  const dir = await tempDir(t);
  const m = await buildModel({ shape: 'tiny', seed: 1, type: 'f32', out: join(dir, 'm.gguf') });
  const { metadata: md, tensors } = await readGguf(m.path);
  assert.equal(metaGet(md, 'general.architecture'), 'llama');
  assert.equal(metaGet(md, 'general.alignment'), 32);
  assert.equal(metaGet(md, 'llama.embedding_length'), 128);
  assert.equal(metaGet(md, 'llama.feed_forward_length'), 352);
  assert.equal(metaGet(md, 'tokenizer.ggml.model'), 'gpt2');
  assert.deepEqual(metaGet(md, 'tokenizer.ggml.merges'), []);
  const tokens = metaGet(md, 'tokenizer.ggml.tokens') as string[];
  assert.equal(tokens.length, 262);
  assert.deepEqual(tokens.slice(0, 256), bytesToUnicode());
  assert.deepEqual(tokens.slice(256), ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>']);
  assert.deepEqual((metaGet(md, 'tokenizer.ggml.token_type') as number[]).slice(255), [1, 3, 3, 3, 3, 3, 3]);
  assert.match(metaGet(md, 'tokenizer.chat_template') as string, /add_generation_prompt/);
  assert.equal(tensors.length, 2 + 1 + 4 * 9);
  assert.ok(tensors.some((x) => x.name === 'output.weight'));
});

test('benchmark shapes have the real dimensions and no end-of-text', () => {
  assert.equal(Math.round(paramCount(SHAPES['smollm2-135m']) / 1e5) / 10, 134.5);
  assert.equal(Math.round(paramCount(SHAPES['qwen2.5-0.5b']) / 1e5) / 10, 494.0);
  const q = SHAPES['qwen2.5-0.5b'];
  const plan = planTensors(q, buildVocab(q.vocab));
  assert.ok(!plan.some((p) => p.name === 'output.weight')); // tied
  assert.deepEqual(plan.find((p) => p.name === 'blk.0.attn_k.bias')?.dims, [128]);
  assert.deepEqual(plan.find((p) => p.name === 'blk.0.attn_k.weight')?.dims, [896, 128]);
  assert.deepEqual(plan[0].dims, [896, 151936]);
  const vocab = buildVocab(q.vocab);
  assert.equal(new Set(vocab.tokens).size, 151936);
});

test('noEndOfText zeroes the end-of-generation rows of token_embd', async (t) => {
  const dir = await tempDir(t);
  const shape: ModelShape = { ...SHAPES.tiny, name: 'bench-mini', vocab: 300, tiedEmbeddings: true, noEndOfText: true };
  const m = await buildModel({ shape, seed: 3, type: 'f32', out: join(dir, 'b.gguf') });
  const info = await readGguf(m.path);
  const emb = info.tensors.find((x) => x.name === 'token_embd.weight')!;
  const buf = Buffer.alloc(emb.bytes);
  const fh = await open(m.path, 'r');
  await fh.read(buf, 0, emb.bytes, emb.offset);
  await fh.close();
  const rows = new Float32Array(buf.buffer, buf.byteOffset, emb.bytes / 4);
  const row = (r: number) => rows.subarray(r * 128, (r + 1) * 128);
  const vocab = buildVocab(300);
  for (const r of [vocab.endOfTextId, vocab.imEndId]) assert.ok(row(r).every((x) => x === 0));
  for (const r of [0, vocab.imStartId, 299]) assert.ok(row(r).some((x) => x !== 0));
});

test('ensureBuiltinModel builds once, then finds the file by its index', async (t) => {
  const dir = await tempDir(t);
  const first = await ensureBuiltinModel('tiny-chat', dir);
  assert.equal(first.path, join(dir, `${first.sha256}.gguf`));
  const t0 = performance.now();
  const again = await ensureBuiltinModel('tiny-chat', dir);
  assert.ok(performance.now() - t0 < 50);
  assert.deepEqual(again, first);
  assert.equal(createHash('sha256').update(await readFile(first.path)).digest('hex'), first.sha256);
  const files = await readdir(dir);
  assert.equal(files.filter((f) => f.endsWith('.gguf')).length, 1);
  assert.equal(files.filter((f) => /^builtin-tiny-chat-[0-9a-f]{16}\.json$/.test(f)).length, 1);
  const embed = await ensureBuiltinModel('tiny-embed', dir);
  assert.notEqual(embed.sha256, first.sha256);
  assert.equal(metaGet((await readGguf(embed.path)).metadata, 'llama.pooling_type'), 1);
  assert.equal(BUILTIN_MODELS['tiny-chat'].contextLength, 2048);
});

test('make-model: usage errors exit 2, a build prints sha256 and size', async (t) => {
  const dir = await tempDir(t);
  let printed = '';
  let errors = '';
  const io = { out: (s: string) => void (printed += s), err: (s: string) => void (errors += s) };
  const run = (...argv: string[]) => makeModelCommand(argv, io);
  assert.equal(await run('--shape', 'nope', '--seed', '1', '--type', 'f32', '--out', 'x'), 2);
  assert.equal(await run('--shape', 'tiny', '--seed', '-1', '--type', 'f32', '--out', 'x'), 2);
  assert.equal(await run('--shape', 'tiny', '--seed', '1', '--type', 'q2', '--out', 'x'), 2);
  assert.equal(await run('--shape', 'tiny', '--seed', '1', '--type', 'f32'), 2);
  assert.equal(await run('--frobnicate'), 2);
  assert.equal(await run('--help'), 0);
  const out = join(dir, 'm.gguf');
  assert.equal(await run('--shape', 'tiny', '--seed', '1', '--type', 'f32', '--out', out), 0);
  const sha = createHash('sha256').update(await readFile(out)).digest('hex');
  assert.match(printed, new RegExp(`sha256 ${sha}`));
  assert.match(errors, /unknown --shape "nope"/);
});
