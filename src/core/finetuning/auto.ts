// "auto" (or missing) hyperparameters, resolved from the dataset when training starts.
//
// The rule (LoRA through the llamacpp trainer, one example per window):
// - batch_size: 1 below 512 examples, then doubling per doubling of the data (2 at 512,
//   4 at 1,024), at most 8. Small sets learn best from many small steps; a step costs
//   the same per example either way on CPU.
// - n_epochs: enough passes that a small set is learned by heart — about 1,200 example
//   visits in all (ceil(1200 / examples)), between 2 and 60. Measured with 20 unguessable
//   facts on tiny-chat (exact greedy recall, several seeds): 38 epochs 0.65–1.0, 50 epochs
//   0.9–1.0, 60 epochs 1.0 (~65 s on one core). A request may ask for at most 50, as on
//   Azure; "auto" goes to 60 for sets this small because that is what recall takes.
// - learning rate: the base rate of the model's size class × learning_rate_multiplier
//   (auto 1); an explicit learning_rate wins. Built-in tiny models: 2e-3; other models
//   (real weights): 2e-4, the usual LoRA rate.
// - rank: 16 (tiny models) or 8; alpha: 2 × rank. seed: the job's.
import type { Hyperparameters } from '../ports/trainer.ts';
import type { RequestedHyperparameters } from './types.ts';

export interface DatasetStats {
  examples: number;
  /** Trained tokens per example (from the trainer's inspection). */
  tokensPerExample: number[];
  baseModelName: string;
  seed: number;
}

const TINY_MODELS = new Set(['tiny-chat']);

export const AUTO = {
  exampleVisits: 1200,
  minEpochs: 2,
  maxEpochs: 60,
  maxBatch: 8,
  tinyLearningRate: 2e-3,
  learningRate: 2e-4,
} as const;

export function autoBatchSize(examples: number): number {
  if (examples < 512) return 1;
  return Math.min(AUTO.maxBatch, 2 ** Math.floor(Math.log2(examples / 256)));
}

export function autoEpochs(examples: number): number {
  return Math.min(AUTO.maxEpochs, Math.max(AUTO.minEpochs, Math.ceil(AUTO.exampleVisits / Math.max(1, examples))));
}

export function resolveHyperparameters(requested: RequestedHyperparameters, d: DatasetStats): Hyperparameters {
  const tiny = TINY_MODELS.has(d.baseModelName);
  const rank = requested.rank ?? (tiny ? 16 : 8);
  const multiplier = requested.learning_rate_multiplier === 'auto' ? 1 : requested.learning_rate_multiplier;
  const base = tiny ? AUTO.tinyLearningRate : AUTO.learningRate;
  return {
    epochs: requested.n_epochs === 'auto' ? autoEpochs(d.examples) : requested.n_epochs,
    batchSize: requested.batch_size === 'auto' ? autoBatchSize(d.examples) : requested.batch_size,
    learningRate: requested.learning_rate ?? base * multiplier,
    learningRateMultiplier: multiplier,
    rank,
    alpha: requested.alpha ?? 2 * rank,
    seed: d.seed,
  };
}
