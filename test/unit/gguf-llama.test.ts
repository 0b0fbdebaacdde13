// Loads built models with node-llama-cpp itself (our own files are trusted, so
// in-process). Always threads: 1 — the default of 4 is very slow on 2 cores.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaChatSession } from 'node-llama-cpp';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';
import { buildModel } from '../../src/models/builtin/builder.ts';
import { ensureBuiltinModel } from '../../src/models/builtin/recipes.ts';
import { metaGet } from '../../src/gguf/format.ts';
import { readGguf } from '../../src/gguf/reader.ts';
import { SHAPES } from '../../src/models/builtin/shapes.ts';
import type { ModelShape } from '../../src/models/builtin/shapes.ts';

let dir: string;
let llama: Llama;
let chat: LlamaModel;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingot-gguf-llama-'));
  llama = await getLlama({ gpu: false, logLevel: 'error' as never });
  chat = await llama.loadModel({ modelPath: (await ensureBuiltinModel('tiny-chat', dir)).path });
});

after(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function greedy(model: LlamaModel, prompt: string, n: number): Promise<Token[]> {
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const out: Token[] = [];
    for await (const tok of ctx.getSequence().evaluate(model.tokenize(prompt, true), { temperature: 0 })) {
      out.push(tok);
      if (out.length >= n) break;
    }
    return out;
  } finally {
    await ctx.dispose();
  }
}

test('text round-trips through the byte-level tokenizer', () => {
  for (const text of ['Hello, world! 123', 'héllo wörld — 日本語 🎉', ' leading and  double  spaces\n\ttabs', '']) {
    const tokens = chat.tokenize(text);
    assert.equal(tokens.length, Buffer.byteLength(text)); // one token per byte: no merges
    assert.equal(chat.detokenize(tokens), text);
  }
});

test('ChatML control tokens are special only when asked', () => {
  assert.deepEqual(chat.tokenize('<|im_end|>', true), [258]);
  assert.equal(chat.tokenize('<|im_end|>').length, '<|im_end|>'.length);
  assert.equal(chat.tokens.eos, 258);
  assert.ok(chat.isEogToken(258 as Token) && chat.isEogToken(256 as Token));
  assert.ok(!chat.isEogToken(257 as Token));
});

test('greedy generation runs, and the chat template selects ChatML', async () => {
  const tokens = await greedy(chat, 'Once upon a time', 20);
  // tiny-chat is pre-trained on chat turns, so it may end the text (<|im_end|>) early.
  assert.ok(tokens.length >= 1 && tokens.length <= 20, `${tokens.length} tokens`);
  assert.deepEqual(await greedy(chat, 'Once upon a time', 20), tokens); // deterministic
  // One token per byte: node-llama-cpp's default system prompt alone is ~300 tokens.
  const ctx = await chat.createContext({ contextSize: 1024, threads: 1 });
  const session = new LlamaChatSession({ contextSequence: ctx.getSequence() });
  assert.equal(session.chatWrapper.wrapperName, 'ChatML');
  await session.prompt('Hi', { maxTokens: 5, temperature: 0 });
  await ctx.dispose();
});

test('q8_0 and q4_k_m quantizations load and have the expected tensor types', async () => {
  // 256-wide rows so Q4_K applies (the tiny shape's 128/352 fall back to Q5_0/Q8_0).
  const wide: ModelShape = { ...SHAPES.tiny, name: 'wide', embd: 256, ff: 512, layers: 2 };
  const cases = [
    { shape: SHAPES.tiny as ModelShape, type: 'q8_0', fileType: 7, want: ['F32', 'Q8_0'] },
    { shape: SHAPES.tiny as ModelShape, type: 'q4_k_m', fileType: 15, want: ['F32', 'Q5_0', 'Q8_0'] },
    { shape: wide, type: 'q4_k_m', fileType: 15, want: ['F32', 'Q4_K', 'Q6_K'] },
  ] as const;
  for (const c of cases) {
    const out = join(dir, `${c.shape.name}-${c.type}.gguf`);
    const built = await buildModel({ shape: c.shape, seed: 5, type: c.type, out, threads: 1 });
    const info = await readGguf(built.path);
    assert.equal(metaGet(info.metadata, 'general.file_type'), c.fileType);
    assert.deepEqual([...new Set(info.tensors.map((x) => x.typeName))].sort(), c.want, `${c.shape.name} ${c.type}`);
    assert.equal(info.tensors.find((x) => x.name === 'output_norm.weight')?.typeName, 'F32');
    assert.equal(metaGet(info.metadata, 'tokenizer.chat_template'), metaGet((await readGguf(
      (await ensureBuiltinModel('tiny-chat', dir)).path)).metadata, 'tokenizer.chat_template'));
    const model = await llama.loadModel({ modelPath: built.path });
    assert.equal((await greedy(model, 'abc', 4)).length, 4);
    await model.dispose();
  }
  const again = await buildModel({ shape: 'tiny', seed: 5, type: 'q8_0', out: join(dir, 'again.gguf'), threads: 2 });
  assert.equal(again.sha256, (await buildModel({ shape: 'tiny', seed: 5, type: 'q8_0', out: join(dir, 'again2.gguf'), threads: 1 })).sha256);
});

test('the embedding model gives mean-pooled vectors that rank near-duplicates first', async () => {
  const model = await llama.loadModel({ modelPath: (await ensureBuiltinModel('tiny-embed', dir)).path });
  const ctx = await model.createEmbeddingContext({ contextSize: 256, threads: 1 });
  const embed = async (s: string) => [...(await ctx.getEmbeddingFor(s)).vector];
  const cos = (a: number[], b: number[]) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    return d / Math.sqrt(na * nb);
  };
  const [cat, cat2, qcd] = await Promise.all(['The cat sat on the mat.', 'A cat sat on a mat.', 'Quantum chromodynamics of quarks'].map(embed));
  assert.equal(cat.length, 128);
  assert.ok(cos(cat, cat2) > cos(cat, qcd), `${cos(cat, cat2)} vs ${cos(cat, qcd)}`);
  assert.deepEqual(await embed('The cat sat on the mat.'), cat);
  await ctx.dispose();
  await model.dispose();
});
