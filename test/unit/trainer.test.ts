// LlamaCppTrainer in its child process: inspection (trained tokens and lengths per example,
// too-long examples by line) and a clear error for a bad base. The training scenarios (recall
// of 20 facts with the auto hyperparameters, the validation split, cancel, resume after the
// trainer is killed) run once, through the whole server, in test/e2e/fine-tuning.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hyperparameters, TrainerEvent, TrainingSpec } from '../../src/core/ports/trainer.ts';
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

async function collect(events: AsyncIterable<TrainerEvent>): Promise<TrainerEvent[]> {
  const out: TrainerEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
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

test('a base that is not a model fails the run with a clear error', async () => {
  const bad = join(dir, 'bad.gguf');
  await writeFile(bad, 'this is not a GGUF file');
  await assert.rejects(collect(trainer.start(spec('bad', { baseModelPath: bad })).events), /training failed: .*not a GGUF file/);
  await assert.rejects(collect(trainer.start(spec('gone', { baseModelPath: join(dir, 'nope.gguf') })).events), /training failed: .*(ENOENT|could not)/);
});
