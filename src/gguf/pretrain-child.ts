// Child-process entry: pre-trains a built-in chat model (full fine-tune of its F32
// weights) on the built-in corpus, single-threaded and seeded so that the result is
// the same bytes every time on a given machine. A native abort kills only this process.
// argv[2]: JSON PretrainJob. Progress lines go to stdout as JSON.
import { loadLlama } from '../trainers/llamacpp/libllama.ts';
import { TrainingSession } from '../trainers/llamacpp/session.ts';
import type { WindowInput } from '../trainers/llamacpp/session.ts';
import { byteTokenizer, chatmlRenderer, encodeExample } from '../trainers/llamacpp/dataset.ts';
import { corpusExamples, loadCorpus } from './pretrain-corpus.ts';
import type { CorpusMix } from './pretrain-corpus.ts';
import { CONTROL_TOKENS, buildVocab } from './tokenizer.ts';

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

function main(): void {
  const job = JSON.parse(process.argv[2] ?? '{}') as PretrainJob;
  const lib = loadLlama();
  const session = new TrainingSession(lib, { modelPath: job.input, window: job.window, threads: 1, mode: 'full' });
  const windows = pretrainWindows(job);
  let loss = 0, acc = 0, n = 0;
  const t0 = Date.now();
  for (let step = 0; step < job.steps; step++) {
    session.setAdam({ lr: pretrainLr(job, step), weightDecay: job.weightDecay });
    const m = session.step(windows.next().value!);
    loss += m.loss;
    acc += m.accuracy;
    n++;
    if ((step + 1) % 50 === 0 || step + 1 === job.steps) {
      process.stdout.write(JSON.stringify({ step: step + 1, steps: job.steps, loss: loss / n, accuracy: acc / n, ms: Date.now() - t0 }) + '\n');
      loss = acc = n = 0;
    }
  }
  session.saveModel(job.output);
  session.close();
}

try {
  main();
} catch (e) {
  process.stderr.write(`pre-training failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
}
