// The llamacpp Trainer (parent side): each job, and each dataset inspection, runs in its
// own child process (worker.ts) on the libllama that node-llama-cpp ships. A native abort
// or a kill ends that process only; the job's `events` then throw with the reason.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { DatasetInspection, Trainer, TrainerEvent, TrainingRun, TrainingSpec } from '../../core/ports/trainer.ts';
import { AsyncQueue } from '../../lib/async-queue.ts';
import { EVENTS_FD } from './protocol.ts';
import type { WorkerJob, WorkerMessage } from './protocol.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface LlamaCppTrainerOptions {
  /** The Node binary that runs the worker (default: this one, which runs .ts directly). */
  nodePath?: string;
  /** Extra environment for the worker (e.g. INGOT_LLAMA_LIB_DIR). */
  env?: Record<string, string>;
  /** libllama's log lines of a worker (stderr), e.g. for debugging. */
  onLog?: (jobId: string, line: string) => void;
  /** A dataset inspection (tokenizing every example) still running after this long is killed (default 10 minutes). */
  inspectTimeoutMs?: number;
}

const DEFAULT_INSPECT_TIMEOUT_MS = 10 * 60_000;

interface Child {
  proc: ChildProcess;
  /** Resolves when the process has exited, with a description of how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }>;
}

export class LlamaCppTrainer implements Trainer {
  #opts: LlamaCppTrainerOptions;

  constructor(opts: LlamaCppTrainerOptions = {}) {
    this.#opts = opts;
  }

  #spawn(job: WorkerJob, label: string, onMessage: (m: WorkerMessage) => void): Child {
    const proc = spawn(this.#opts.nodePath ?? process.execPath, ['--no-warnings', WORKER, JSON.stringify(job)], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.#opts.env },
    });
    let tail = '';
    proc.stderr!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      tail = (tail + text).slice(-6000);
      if (this.#opts.onLog) for (const line of text.split('\n')) if (line) this.#opts.onLog(label, line);
    });
    let pending = '';
    (proc.stdio[EVENTS_FD] as Readable).on('data', (d: Buffer) => {
      pending += d.toString('utf8');
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line) continue;
        // A line that is not an event (a native library writing to the wrong descriptor) is
        // logged and skipped: a throw here, in a stream handler, would take the server down.
        let message: WorkerMessage;
        try {
          message = JSON.parse(line) as WorkerMessage;
        } catch {
          this.#opts.onLog?.(label, `ignored an unreadable event line from the worker: ${line.slice(0, 200)}`);
          continue;
        }
        try {
          onMessage(message);
        } catch (e) {
          this.#opts.onLog?.(label, `handling a worker event failed: ${(e as Error).message}`);
        }
      }
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }>((resolve) => {
      // A spawn failure may come without 'close'.
      proc.on('error', (e) => resolve({ code: null, signal: null, stderrTail: `${tail}\n${e.message}` }));
      proc.on('close', (code, signal) => resolve({ code, signal, stderrTail: tail }));
    });
    return { proc, exited };
  }

  async inspect(baseModelPath: string, file: string, contextLength: number): Promise<DatasetInspection> {
    let result: DatasetInspection | undefined;
    let error: string | undefined;
    const child = this.#spawn({ mode: 'inspect', baseModelPath, file, contextLength }, 'inspect', (m) => {
      if (m.type === 'inspection') result = m.result;
      else if (m.type === 'error') error = m.message;
    });
    const timeoutMs = this.#opts.inspectTimeoutMs ?? DEFAULT_INSPECT_TIMEOUT_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.proc.kill('SIGKILL');
    }, timeoutMs);
    const how = await child.exited;
    clearTimeout(timer);
    if (timedOut)
      throw new Error(`inspecting ${file} against the base model took longer than ${timeoutMs / 1000} s and was stopped: upload a smaller training file (fewer or shorter examples).`);
    if (result) return result;
    throw new Error(`inspecting ${file} failed: ${error ?? describeExit(how)}`);
  }

  start(spec: TrainingSpec): TrainingRun {
    const queue = new AsyncQueue<TrainerEvent>();
    let error: string | undefined;
    let done = false;
    let cancelled = false;
    const child = this.#spawn({ mode: 'train', spec }, spec.jobId, (m) => {
      if (m.type === 'error') error = m.message;
      else if (m.type === 'log') this.#opts.onLog?.(spec.jobId, m.message);
      else if (m.type !== 'inspection') {
        if (m.type === 'done') done = true;
        queue.push(m);
      }
    });
    child.exited
      .then((how) => {
        if (done || cancelled) queue.end();
        else queue.fail(new Error(`training failed: ${error ?? describeExit(how)}`));
      })
      .catch((e: Error) => this.#opts.onLog?.(spec.jobId, `ending the training events failed: ${e.message}`));
    return {
      pid: child.proc.pid,
      events: queue,
      async cancel() {
        if (cancelled || done) return;
        cancelled = true;
        // Nothing to save: checkpoints are written atomically; SIGKILL is immediate even mid-step.
        child.proc.kill('SIGKILL');
        await child.exited;
        queue.end();
      },
    };
  }
}

/** How a worker ended, with the interesting part of libllama's log (an assert names the cause). */
function describeExit(how: { code: number | null; signal: NodeJS.Signals | null; stderrTail: string }): string {
  const lines = how.stderrTail.split('\n').filter(Boolean);
  const assert = lines.filter((l) => /GGML_ASSERT|error|abort|failed/i.test(l)).slice(-3);
  const detail = (assert.length ? assert : lines.slice(-3)).join(' | ');
  const end = how.signal ? `the trainer process was killed by ${how.signal}` : `the trainer process exited with code ${how.code}`;
  return detail ? `${end}: ${detail}` : end;
}
