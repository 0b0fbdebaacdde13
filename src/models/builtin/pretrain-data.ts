// What one pre-training step sees: the job, the learning-rate schedule, and the packed
// windows of corpus conversations (pure; the child process runs them through libllama).
import type { WindowInput } from '../../trainers/llamacpp/session.ts';
import { byteTokenizer, chatmlRenderer, encodeExample } from '../../trainers/llamacpp/dataset.ts';
import { corpusExamples, loadCorpus } from './pretrain-corpus.ts';
import type { CorpusMix } from './pretrain-corpus.ts';
import { CONTROL_TOKENS, buildVocab } from '../../gguf/tokenizer.ts';

export interface PretrainJob {
  /** The random-weight F32 model to start from. */
  input: string;
  /** Where libllama saves the trained model (its metadata is rebuilt by the parent). */
  output: string;
  steps: number;
  lr: number;
  /** Final learning rate as a share of lr (cosine decay). */
  lrFloor: number;
  warmup: number;
  weightDecay: number;
  seed: number;
  /** Conversations packed into one window (each starts with its own BOS). */
  pack: number;
  window: number;
  vocab: number;
  /** Turn kinds of the corpus (default DEFAULT_MIX). */
  mix?: CorpusMix;
}

/** Cosine decay from lr to lr·floor after a linear warm-up. */
export function pretrainLr(job: PretrainJob, step: number): number {
  if (step < job.warmup) return (job.lr * (step + 1)) / job.warmup;
  const t = (step - job.warmup) / Math.max(1, job.steps - job.warmup);
  return job.lr * (job.lrFloor + (1 - job.lrFloor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** The window of one step: `pack` conversations back to back (assistant turns trained), then padding. */
export function* pretrainWindows(job: PretrainJob): Generator<WindowInput> {
  const v = buildVocab(job.vocab);
  const tok = byteTokenizer(CONTROL_TOKENS, { bos: v.bosId, addBos: false, eos: v.eosId, pad: v.endOfTextId });
  const examples = corpusExamples(loadCorpus(), job.seed, job.mix);
  for (;;) {
    const tokens: number[] = [];
    const trained: number[] = [];
    for (let k = 0; k < job.pack; k++) {
      const e = encodeExample({ line: 0, example: { kind: 'chat', messages: examples.next().value! } }, chatmlRenderer, tok);
      if (tokens.length + e.tokens.length > job.window + 1) break;
      tokens.push(...e.tokens);
      trained.push(...e.trained);
    }
    const w: WindowInput = {
      tokens: new Int32Array(job.window).fill(v.endOfTextId),
      labels: new Int32Array(job.window).fill(v.endOfTextId),
      mask: new Uint8Array(job.window),
    };
    for (let i = 0; i + 1 < tokens.length; i++) {
      w.tokens[i] = tokens[i];
      w.labels[i] = tokens[i + 1];
      w.mask[i] = trained[i + 1];
    }
    yield w;
  }
}
