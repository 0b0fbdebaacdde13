// Child-process entry: pre-trains a built-in chat model (full fine-tune of its F32
// weights) on the built-in corpus, single-threaded and seeded so that the result is
// the same bytes every time on a given machine. A native abort kills only this process.
// argv[2]: JSON PretrainJob. Progress lines go to stdout as JSON.
import { loadLibllama } from '../../native/libllama.ts';
import { TrainingSession } from '../../trainers/llamacpp/session.ts';
import { pretrainLr, pretrainWindows } from './pretrain-data.ts';
import type { PretrainJob } from './pretrain-data.ts';

function main(): void {
  const job = JSON.parse(process.argv[2] ?? '{}') as PretrainJob;
  const lib = loadLibllama();
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
