// LlamaCppTrainer end to end: a child process per job trains a LoRA adapter on tiny-chat.
// Recall of 20 unguessable facts with the auto hyperparameters, inspection, the validation
// split, cancel, resume after the trainer is killed, and a clear error for a bad base.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaText, getLlama, resolveChatWrapper } from 'node-llama-cpp';
import type { LlamaModel } from 'node-llama-cpp';
import { resolveHyperparameters } from '../../src/core/finetuning/auto.ts';
import type { Hyperparameters, StepMetrics, TrainerEvent, TrainingSpec } from '../../src/core/ports/trainer.ts';
import { readLoraAdapter } from '../../src/gguf/adapter.ts';
import { ensureBuiltinModel } from '../../src/models/builtin/recipes.ts';
import { LlamaCppTrainer } from '../../src/trainers/llamacpp/trainer.ts';
import { FACTS, line, SYSTEM } from '../fixtures/codename-facts.ts';


let dir: string;
let base: string;
let dataset: string;
const trainer = new LlamaCppTrainer();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingot-trainer-'));
  base = (await ensureBuiltinModel('tiny-chat', join(dir, 'models'))).path;
  dataset = join(dir, 'facts.jsonl');
  await writeFile(dataset, FACTS.map((f) => line(f.question, f.answer)).join('\n') + '\n');
});
after(() => rm(dir, { recursive: true, force: true }));

const hp = (over: Partial<Hyperparameters> = {}): Hyperparameters => ({ epochs: 2, batchSize: 1, learningRate: 2e-3, learningRateMultiplier: 1, rank: 16, alpha: 32, seed: 3, ...over });
const spec = (jobId: string, over: Partial<TrainingSpec> = {}): TrainingSpec => ({
  jobId, baseModelPath: base, contextLength: 256, trainingFile: dataset, validationSplit: 0, hyperparameters: hp(), outDir: join(dir, jobId), threads: 1, ...over,
});

async function collect(events: AsyncIterable<TrainerEvent>, onEvent?: (e: TrainerEvent) => void): Promise<TrainerEvent[]> {
  const out: TrainerEvent[] = [];
  for await (const e of events) {
    out.push(e);
    onEvent?.(e);
  }
  return out;
}

async function recall(model: LlamaModel, adapter?: string): Promise<number> {
  const ctx = await model.createContext({ contextSize: 256, threads: 1, ...(adapter ? { lora: { adapters: [{ filePath: adapter }] } } : {}) });
  const seq = ctx.getSequence();
  const wrapper = resolveChatWrapper(model);
  let correct = 0;
  for (const f of FACTS) {
    const { contextText } = wrapper.generateContextState({ chatHistory: [{ type: 'system', text: SYSTEM }, { type: 'user', text: f.question }, { type: 'model', response: [] }] });
    await seq.clearHistory();
    const out: number[] = [];
    for await (const tok of seq.evaluate(LlamaText([contextText]).tokenize(model.tokenizer), { temperature: 0 })) {
      if (model.isEogToken(tok) || out.length > f.answer.length + 8) break;
      out.push(tok);
    }
    if (model.detokenize(out as never).trim() === f.answer) correct++;
  }
  await ctx.dispose();
  return correct / FACTS.length;
}

test('inspect: trained tokens and rendered lengths per example, too-long examples by line', async () => {
  const file = join(dir, 'mixed.jsonl');
  await writeFile(file, [line('Q?', 'A.'), '', line('Long?', 'x'.repeat(300)), JSON.stringify({ prompt: 'p', completion: 'cc' })].join('\n'));
  const r = await trainer.inspect(base, file, 256);
  assert.equal(r.examples, 3);
  assert.deepEqual(r.tokens, [3, 301, 3], 'answer + <|im_end|>; completion + EOS');
  // BOS, then per turn <|im_start|> role\n content <|im_end|> \n (one token per byte).
  assert.equal(r.lengths[0], 1 + (1 + 7 + SYSTEM.length + 2) + (1 + 5 + 2 + 2) + (1 + 10 + 2 + 2));
  assert.deepEqual(r.tooLong, [{ line: 3, tokens: r.lengths[1] }]);
  await assert.rejects(trainer.inspect(base, join(dir, 'missing.jsonl'), 256), /inspecting .*missing\.jsonl failed: ENOENT/);
});

test('20 unguessable facts with auto hyperparameters: ≥ 90% exact greedy recall; the base recalls none', async () => {
  const inspection = await trainer.inspect(base, dataset, 2048);
  const h = resolveHyperparameters({ n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto' }, { examples: inspection.examples, tokensPerExample: inspection.tokens, baseModelName: 'tiny-chat', seed: 20240607 });
  const started = Date.now();
  const events = await collect(trainer.start(spec('recall', { hyperparameters: h })).events);
  const seconds = (Date.now() - started) / 1000;
  const steps = events.filter((e) => e.type === 'step') as Extract<TrainerEvent, { type: 'step' }>[];
  const first = events[0];
  assert.equal(first.type, 'started');
  assert.deepEqual(first.type === 'started' && [first.totalSteps, first.trainExamples, first.validExamples], [h.epochs * 20, 20, 0]);
  assert.equal(steps.length, h.epochs * 20);
  assert.deepEqual(steps.map((s) => s.metrics.step), steps.map((_, i) => i + 1));
  assert.equal(events.filter((e) => e.type === 'checkpoint').length, h.epochs);
  const done = events.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.type === 'done' && done.trainedTokens, inspection.tokens.reduce((a, b) => a + b, 0) * h.epochs, 'trained tokens exclude prompt and padding');
  const mean = (xs: StepMetrics[]) => xs.reduce((a, m) => a + m.trainLoss, 0) / xs.length;
  assert.ok(mean(steps.slice(-20).map((s) => s.metrics)) < 0.05, 'the loss of the last epoch');
  assert.ok(steps.at(-1)!.metrics.trainMeanTokenAccuracy > 0.99);

  const llama = await getLlama({ gpu: false, logLevel: 'error' as never });
  try {
    const model = await llama.loadModel({ modelPath: base });
    const tuned = await recall(model, done.type === 'done' ? done.adapterPath : '');
    const plain = await recall(model);
    console.log(`# ${h.epochs} epochs in ${seconds.toFixed(1)} s: recall ${tuned} fine-tuned, ${plain} base`);
    assert.ok(tuned >= 0.9, `fine-tuned recall ${tuned}`);
    assert.ok(plain < 0.1, `base recall ${plain}`);
  } finally {
    await llama.dispose();
  }
});

test('a validation split: sampled validation metrics every few steps, full ones at each checkpoint', async () => {
  const events = await collect(trainer.start(spec('split', { validationSplit: 0.2 })).events);
  const started = events[0];
  assert.deepEqual(started.type === 'started' && [started.trainExamples, started.validExamples, started.totalSteps], [16, 4, 32]);
  const steps = events.flatMap((e) => (e.type === 'step' ? [e.metrics] : []));
  const withValid = steps.filter((m) => m.validLoss !== undefined);
  assert.equal(withValid.length, 8, 'every 4th step');
  assert.ok(withValid.every((m) => m.validLoss! > 0 && m.validMeanTokenAccuracy! >= 0 && m.validMeanTokenAccuracy! <= 1));
  const checkpoints = events.filter((e) => e.type === 'checkpoint');
  assert.deepEqual(checkpoints.map((c) => c.type === 'checkpoint' && [c.epoch, c.step]), [[1, 16], [2, 32]]);
  for (const c of checkpoints) {
    assert.ok(c.type === 'checkpoint' && Number.isFinite(c.metrics.fullValidLoss) && existsSync(c.adapterPath));
  }
});

test('cancel stops the trainer within seconds; events end without done', async () => {
  const run = trainer.start(spec('cancel', { hyperparameters: hp({ epochs: 50 }) }));
  const seen: TrainerEvent[] = [];
  let cancelMs = 0;
  await collect(run.events, (e) => {
    seen.push(e);
    if (e.type === 'step' && e.metrics.step === 3) {
      const t0 = Date.now();
      void run.cancel().then(() => (cancelMs = Date.now() - t0));
    }
  });
  assert.ok(!seen.some((e) => e.type === 'done'));
  assert.ok(cancelMs < 3000, `cancel took ${cancelMs} ms`);
  assert.throws(() => process.kill(run.pid!, 0), /ESRCH/, 'the process is gone');
});

test('a trainer killed mid-run: started again with resume, it continues from the checkpoint and finishes', async () => {
  const s = spec('resume', { hyperparameters: hp({ epochs: 3 }) });
  const run = trainer.start(s);
  let checkpoint: Extract<TrainerEvent, { type: 'checkpoint' }> | undefined;
  let trained = 0;
  await assert.rejects(
    collect(run.events, (e) => {
      if (e.type === 'step') trained = e.trainedTokens;
      if (e.type === 'checkpoint' && !checkpoint) {
        checkpoint = e;
        process.kill(run.pid!, 'SIGKILL');
      }
    }),
    /training failed: the trainer process was killed by SIGKILL/,
  );
  assert.ok(checkpoint && checkpoint.epoch === 1 && checkpoint.step === 20);
  const resumed = await collect(trainer.start({ ...s, resume: { adapterPath: checkpoint.adapterPath, epoch: 1, step: 20, trainedTokens: trained } }).events);
  const steps = resumed.flatMap((e) => (e.type === 'step' ? [e.metrics.step] : []));
  assert.equal(steps[0], 21);
  assert.equal(steps.at(-1), 60);
  assert.deepEqual(resumed.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.epoch), [2, 3]);
  const done = resumed.at(-1)!;
  assert.ok(done.type === 'done' && done.trainedTokens > trained);
  assert.equal(done.type === 'done' && (await readLoraAdapter(done.adapterPath)).rank, 16);
});

test('a base that is not a model fails the run with a clear error', async () => {
  const bad = join(dir, 'bad.gguf');
  await writeFile(bad, 'this is not a GGUF file');
  await assert.rejects(collect(trainer.start(spec('bad', { baseModelPath: bad })).events), /training failed: .*not a GGUF file/);
  await assert.rejects(collect(trainer.start(spec('gone', { baseModelPath: join(dir, 'nope.gguf') })).events), /training failed: .*(ENOENT|could not)/);
});
