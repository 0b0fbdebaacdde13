// "auto" hyperparameters (src/core/finetuning/auto.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoBatchSize, autoEpochs, resolveHyperparameters } from '../../src/core/finetuning/auto.ts';
import type { RequestedHyperparameters } from '../../src/core/finetuning/types.ts';

const AUTO: RequestedHyperparameters = { n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto' };
const stats = (examples: number, baseModelName = 'tiny-chat') => ({ examples, tokensPerExample: Array(examples).fill(40), baseModelName, seed: 42 });

test('epochs: about 1,200 example visits, between 2 and 60', () => {
  assert.equal(autoEpochs(20), 60);
  assert.equal(autoEpochs(10), 60);
  assert.equal(autoEpochs(40), 30);
  assert.equal(autoEpochs(100), 12);
  assert.equal(autoEpochs(1000), 2);
  assert.equal(autoEpochs(0), 60);
});

test('batch size: 1 below 512 examples, then doubling with the data, at most 8', () => {
  assert.deepEqual([1, 100, 511, 512, 1023, 1024, 2048, 100_000].map(autoBatchSize), [1, 1, 1, 2, 2, 4, 8, 8]);
});

test('tiny-chat with 20 examples resolves to what recalls 20 facts: 60 epochs, batch 1, lr 2e-3, rank 16, alpha 32', () => {
  assert.deepEqual(resolveHyperparameters(AUTO, stats(20)), {
    epochs: 60, batchSize: 1, learningRate: 2e-3, learningRateMultiplier: 1, rank: 16, alpha: 32, seed: 42,
  });
});

test('explicit values win; the multiplier scales the base rate; other models get the usual LoRA rate and rank 8', () => {
  const h = resolveHyperparameters({ n_epochs: 3, batch_size: 4, learning_rate_multiplier: 0.5, rank: 4 }, stats(20));
  assert.deepEqual([h.epochs, h.batchSize, h.learningRate, h.learningRateMultiplier, h.rank, h.alpha], [3, 4, 1e-3, 0.5, 4, 8]);
  assert.equal(resolveHyperparameters({ ...AUTO, learning_rate: 5e-4, alpha: 3 }, stats(20)).learningRate, 5e-4);
  assert.equal(resolveHyperparameters({ ...AUTO, alpha: 3 }, stats(20)).alpha, 3);
  const real = resolveHyperparameters(AUTO, stats(20, 'qwen2.5-0.5b-instruct'));
  assert.deepEqual([real.learningRate, real.rank, real.alpha], [2e-4, 8, 16]);
});
