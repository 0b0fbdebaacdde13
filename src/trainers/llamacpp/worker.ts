// Child-process entry of the llamacpp trainer: LoRA training (or a dataset inspection)
// through the libllama that node-llama-cpp ships. One process per job, so that a native
// abort fails the job and never the server. argv[2]: JSON WorkerJob; messages go to fd 3.
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetInspection, StepMetrics, TrainingSpec } from '../../core/ports/trainer.ts';
import { readLoraAdapter, writeLoraAdapter } from '../../gguf/adapter.ts';
import type { LoraAdapter } from '../../gguf/adapter.ts';
import { str, u32 } from '../../gguf/format.ts';
import { readGguf } from '../../gguf/reader.ts';
import { encodeExample, parseDataset, shuffled, splitValidation, toWindow, trainedTokens, windowFor } from './dataset.ts';
import type { EncodedExample } from './dataset.ts';
import { loadLibllama } from '../../native/libllama.ts';
import { budgetAdapter, budgetAdaptersNeeded, checkAdapterFits, initialAdapter, writeTrained } from './lora.ts';
import { EVENTS_FD } from './protocol.ts';
import type { WorkerJob, WorkerMessage } from './protocol.ts';
import { TrainingSession } from './session.ts';
import type { WindowInput, WindowMetrics } from './session.ts';
import { openVocab } from './vocab.ts';

function send(msg: WorkerMessage): void {
  const buf = Buffer.from(JSON.stringify(msg) + '\n');
  for (let off = 0; off < buf.length;) {
    try {
      off += writeSync(EVENTS_FD, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** Each file's examples as training tokenizes them, and the pad token. */
async function encodeFiles(lib: ReturnType<typeof loadLibllama>, baseModelPath: string, files: string[]): Promise<{ sets: EncodedExample[][]; pad: number }> {
  const vocab = openVocab(lib, baseModelPath);
  try {
    const sets: EncodedExample[][] = [];
    for (const f of files) {
      const parsed = parseDataset(await readFile(f, 'utf8'));
      sets.push(parsed.map((p) => encodeExample(p, vocab.render, vocab.tokenizer)));
    }
    return { sets, pad: vocab.tokenizer.pad };
  } finally {
    vocab.close();
  }
}

async function inspect(baseModelPath: string, file: string, contextLength: number): Promise<DatasetInspection> {
  await readGguf(baseModelPath); // a clear error for a file that is not a model, before libllama sees it
  const [examples] = (await encodeFiles(loadLibllama(), baseModelPath, [file])).sets;
  return {
    examples: examples.length,
    tokens: examples.map(trainedTokens),
    lengths: examples.map((e) => e.tokens.length),
    tooLong: examples.filter((e) => e.tokens.length > contextLength).map((e) => ({ line: e.line, tokens: e.tokens.length })),
  };
}

/** Warm-up, then cosine decay to a tenth (the schedule runs over all steps, resumes included). */
export function learningRate(base: number, step: number, total: number): number {
  const warmup = Math.min(10, Math.max(1, Math.ceil(total * 0.05)));
  if (step < warmup) return (base * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return base * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

function mean(ms: WindowMetrics[]): { loss: number; acc: number } {
  let loss = 0, acc = 0, n = 0;
  for (const m of ms) {
    if (!m.tokens) continue;
    loss += m.loss * m.tokens;
    acc += m.accuracy * m.tokens;
    n += m.tokens;
  }
  return { loss: n ? loss / n : NaN, acc: n ? acc / n : NaN };
}

function checkHyperparameters(h: TrainingSpec['hyperparameters']): void {
  const bad = (what: string) => {
    throw new Error(`invalid hyperparameters: ${what}`);
  };
  if (!Number.isInteger(h.epochs) || h.epochs < 1) bad(`epochs ${h.epochs}`);
  if (!Number.isInteger(h.batchSize) || h.batchSize < 1) bad(`batchSize ${h.batchSize}`);
  if (!(h.learningRate > 0 && h.learningRate < 1)) bad(`learningRate ${h.learningRate}`);
  if (!Number.isInteger(h.rank) || h.rank < 1) bad(`rank ${h.rank}`);
  if (!(h.alpha > 0)) bad(`alpha ${h.alpha}`);
}

async function train(spec: TrainingSpec): Promise<void> {
  const h = spec.hyperparameters;
  checkHyperparameters(h);
  const lib = loadLibllama();
  const base = await readGguf(spec.baseModelPath);
  await mkdir(spec.outDir, { recursive: true });
  // Temp files of a checkpoint write that was killed midway.
  for (const f of await readdir(spec.outDir)) if (f.includes('.tmp-')) await unlink(join(spec.outDir, f)).catch(() => {});

  const files = [spec.trainingFile, ...(spec.validationFile ? [spec.validationFile] : [])];
  const { sets: [all, validFile], pad } = await encodeFiles(lib, spec.baseModelPath, files);
  const split = validFile ? { train: all, valid: validFile } : splitValidation(all, spec.validationSplit, h.seed);
  // Examples with nothing to train (every assistant turn weight 0) would only add NaN metrics.
  const trainSet = split.train.filter((e) => trainedTokens(e) > 0);
  const validSet = split.valid.filter((e) => trainedTokens(e) > 0);
  const skipped = split.train.length + split.valid.length - trainSet.length - validSet.length;
  if (skipped) send({ type: 'log', message: `${skipped} examples have no trained tokens (every assistant turn has weight 0) and are skipped` });
  if (!trainSet.length) throw new Error(all.length ? 'no example has a trained token: every assistant turn has weight 0' : 'the training file has no examples');
  const window = windowFor([...trainSet, ...validSet].map((e) => e.tokens.length), spec.contextLength);
  const cut = [...trainSet, ...validSet].filter((e) => e.tokens.length > window + 1);
  if (cut.length) send({ type: 'log', message: `${cut.length} examples are longer than the ${window}-token window and were cut (first: line ${cut[0].line})` });

  // The starting adapter: a checkpoint to resume, a parent model to continue, or a fresh one.
  let start: LoraAdapter;
  let startPath: string;
  if (spec.resume) {
    startPath = spec.resume.adapterPath;
    start = await readLoraAdapter(startPath);
  } else if (spec.initialAdapter) {
    startPath = spec.initialAdapter;
    start = await readLoraAdapter(startPath);
  } else {
    start = initialAdapter(base, h.rank, h.alpha, h.seed);
    startPath = join(spec.outDir, 'initial.gguf');
    await writeLoraAdapter(startPath, start);
  }
  checkAdapterFits(start, base);

  const budget = budgetAdapter(base);
  const nBudget = budgetAdaptersNeeded(base.tensors.length, start.pairs.length, budget.nodes);
  const budgetPaths: string[] = [];
  if (nBudget) {
    const p = join(spec.outDir, 'budget.gguf');
    await writeLoraAdapter(p, budget.adapter);
    for (let i = 0; i < nBudget; i++) budgetPaths.push(p);
  }

  const session = new TrainingSession(lib, {
    modelPath: spec.baseModelPath, window, threads: Math.max(1, spec.threads), mode: 'lora', adapterPath: startPath, budgetAdapterPaths: budgetPaths,
  });
  const tw = trainSet.map((e) => toWindow(e, session.window, pad));
  const vw = validSet.map((e) => toWindow(e, session.window, pad));
  const batch = Math.max(1, Math.min(h.batchSize, tw.length));
  const stepsPerEpoch = Math.ceil(tw.length / batch);
  const totalSteps = h.epochs * stepsPerEpoch;
  const tokensPerEpoch = tw.reduce((a, w) => a + w.mask.reduce((x, y) => x + y, 0), 0);
  send({ type: 'started', totalSteps, trainExamples: tw.length, validExamples: vw.length, tokensPerEpoch });

  let step = spec.resume?.step ?? 0;
  let trained = spec.resume?.trainedTokens ?? 0;
  const firstEpoch = (spec.resume?.epoch ?? 0) + 1;
  const validEvery = Math.max(1, Math.ceil(stepsPerEpoch / 4));
  const sampleSize = Math.min(8, vw.length);
  let validCursor = 0;
  let last: StepMetrics | undefined;
  let lastPath = spec.resume?.adapterPath;
  const t0 = Date.now();
  const meta = (epoch: number) => ({ 'ingot.training.epoch': u32(epoch), 'ingot.training.step': u32(step), 'ingot.training.job': str(spec.jobId) });

  for (let epoch = firstEpoch; epoch <= h.epochs; epoch++) {
    const order = shuffled(tw.map((_, i) => i), h.seed * 7919 + epoch);
    for (let i = 0; i < order.length; i += batch) {
      const wins: WindowInput[] = order.slice(i, i + batch).map((k) => tw[k]);
      session.setAdam({ lr: learningRate(h.learningRate, step, totalSteps) });
      const m = session.step(wins);
      step++;
      trained += m.tokens;
      const metrics: StepMetrics = { step, epoch, trainLoss: m.loss, trainMeanTokenAccuracy: m.accuracy };
      if (vw.length && step % validEvery === 0) {
        const sample: WindowMetrics[] = [];
        for (let k = 0; k < sampleSize; k++) sample.push(session.evaluate(vw[validCursor++ % vw.length]));
        const v = mean(sample);
        metrics.validLoss = v.loss;
        metrics.validMeanTokenAccuracy = v.acc;
      }
      last = metrics;
      send({ type: 'step', metrics, trainedTokens: trained, elapsedMs: Date.now() - t0 });
    }
    const metrics: StepMetrics = { ...last!, step, epoch };
    if (vw.length) {
      const v = mean(vw.map((w) => session.evaluate(w)));
      metrics.fullValidLoss = v.loss;
      metrics.fullValidMeanTokenAccuracy = v.acc;
    }
    lastPath = join(spec.outDir, `checkpoint-${epoch}.gguf`);
    await writeTrained(lastPath, start, (name) => session.readLora(name), meta(epoch));
    send({ type: 'checkpoint', epoch, step, adapterPath: lastPath, metrics });
  }
  session.close();
  if (!lastPath) throw new Error('nothing was trained');
  // The final adapter is the last checkpoint's weights under its own name (written atomically).
  const final = join(spec.outDir, 'adapter.gguf');
  await writeLoraAdapter(final, await readLoraAdapter(lastPath));
  send({ type: 'done', adapterPath: final, trainedTokens: trained });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as WorkerJob;
  if (job.mode === 'inspect') send({ type: 'inspection', result: await inspect(job.baseModelPath, job.file, job.contextLength) });
  else await train(job.spec);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  },
);
