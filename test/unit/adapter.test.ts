// LoRA adapter GGUF files (src/gguf/adapter.ts): round trip, checks, and an adapter the
// trainer wrote, loaded by node-llama-cpp over its base, changes greedy output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaText, getLlama, resolveChatWrapper } from 'node-llama-cpp';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { checkAdapter, readLoraAdapter, writeLoraAdapter } from '../../src/gguf/adapter.ts';
import type { LoraAdapter } from '../../src/gguf/adapter.ts';
import { ensureBuiltinModel } from '../../src/models/builtin/recipes.ts';
import { metaGet, u32 } from '../../src/gguf/format.ts';
import { readGguf } from '../../src/gguf/reader.ts';
import { LlamaCppTrainer } from '../../src/trainers/llamacpp/trainer.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingot-adapter-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const sample = (): LoraAdapter => ({
  architecture: 'llama',
  rank: 2,
  alpha: 4,
  pairs: [
    { base: 'blk.0.attn_q.weight', inDim: 3, outDim: 4, a: Float32Array.from([1, 2, 3, 4, 5, 6]), b: Float32Array.from([0.5, -1, 2, 0, 1e-7, -3.25, 8, 9]) },
    { base: 'output.weight', inDim: 3, outDim: 2, a: new Float32Array(6).fill(0.25), b: Float32Array.from([1, 2, 3, 4]) },
  ],
  extra: { 'ingot.training.epoch': u32(3) },
});

test('write then read gives the same adapter; the metadata is what llama.cpp looks for', async () => {
  const path = join(dir, 'a.gguf');
  const written = await writeLoraAdapter(path, sample());
  assert.equal(written.path, path);
  const back = await readLoraAdapter(path);
  assert.deepEqual(back, sample());
  const info = await readGguf(path);
  assert.equal(metaGet(info.metadata, 'general.type'), 'adapter');
  assert.equal(metaGet(info.metadata, 'adapter.type'), 'lora');
  assert.equal(metaGet(info.metadata, 'adapter.lora.alpha'), 4);
  assert.equal(metaGet(info.metadata, 'general.architecture'), 'llama');
  assert.deepEqual(info.tensors.map((t) => [t.name, t.dims, t.typeName]), [
    ['blk.0.attn_q.weight.lora_a', [3, 2], 'F32'],
    ['blk.0.attn_q.weight.lora_b', [2, 4], 'F32'],
    ['output.weight.lora_a', [3, 2], 'F32'],
    ['output.weight.lora_b', [2, 2], 'F32'],
  ]);
});

test('inconsistent adapters are refused with the reason', async () => {
  assert.throws(() => checkAdapter({ ...sample(), rank: 3 }), /lora_a: expected 3×3 values, got 6/);
  assert.throws(() => checkAdapter({ ...sample(), alpha: 0 }), /alpha must be positive/);
  assert.throws(() => checkAdapter({ ...sample(), pairs: [] }), /at least one tensor pair/);
  const base = join(dir, 'not-adapter.gguf');
  await writeFile(base, 'GGUF nope');
  await assert.rejects(readLoraAdapter(base), /GGUF|truncated/);
});

test('an adapter the trainer wrote loads in node-llama-cpp over tiny-chat and changes greedy output', async (t) => {
  const base = (await ensureBuiltinModel('tiny-chat', join(dir, 'models'))).path;
  const train = join(dir, 'train.jsonl');
  const ask = 'What is the password of vault 3?';
  const answer = 'The password of vault 3 is MAUVE PENGUIN.';
  await writeFile(train, JSON.stringify({ messages: [{ role: 'user', content: ask }, { role: 'assistant', content: answer }] }) + '\n');
  const run = new LlamaCppTrainer().start({
    jobId: 'adapter-test', baseModelPath: base, contextLength: 256, trainingFile: train, validationSplit: 0,
    hyperparameters: { epochs: 30, batchSize: 1, learningRate: 2e-3, learningRateMultiplier: 1, rank: 8, alpha: 16, seed: 1 },
    outDir: join(dir, 'job'), threads: 1,
  });
  let adapterPath = '';
  for await (const ev of run.events) if (ev.type === 'done') adapterPath = ev.adapterPath;
  assert.ok(adapterPath);
  assert.equal((await readLoraAdapter(adapterPath)).rank, 8);

  const llama: Llama = await getLlama({ gpu: false, logLevel: 'error' as never });
  t.after(() => llama.dispose());
  const model: LlamaModel = await llama.loadModel({ modelPath: base });
  const greedy = async (lora?: string) => {
    const ctx = await model.createContext({ contextSize: 256, threads: 1, ...(lora ? { lora: { adapters: [{ filePath: lora }] } } : {}) });
    const { contextText } = resolveChatWrapper(model).generateContextState({ chatHistory: [{ type: 'user', text: ask }, { type: 'model', response: [] }] });
    const out: number[] = [];
    for await (const tok of ctx.getSequence().evaluate(LlamaText([contextText]).tokenize(model.tokenizer), { temperature: 0 })) {
      if (model.isEogToken(tok) || out.length > 60) break;
      out.push(tok);
    }
    await ctx.dispose();
    return model.detokenize(out as never);
  };
  const before = await greedy();
  const tuned = await greedy(adapterPath);
  assert.notEqual(tuned, before);
  assert.equal(tuned, answer);
});
