// Grammar compilation off the event loop. Compile time grows faster than a schema's size: at
// the request limits (core/generation/schema-limits.ts: 1,000 properties) one compile took
// about 0.2 s of a core, and 128 tools of 150 schema nodes each 0.4 s; on the event loop that
// stalls every other request. Small jobs (most requests) compile inline, where a worker's
// round trip would cost more than the compile; the rest go to one long-lived worker thread.
import { Worker } from "node:worker_threads";
import type { GrammarResult } from "./grammarResult.ts";
import { compileJsonSchema } from "./jsonSchemaToGbnf.ts";
import { toolCallGrammar } from "./toolCallGrammar.ts";
import type { ToolCallMode, ToolDefinition } from "./toolCallGrammar.ts";

export type GrammarJob =
  | { kind: "schema"; schema: unknown }
  | { kind: "tools"; tools: readonly ToolDefinition[]; mode: ToolCallMode; parallel: boolean };

/** Serialized jobs below this size compile inline (measured: under 5 ms once warm). */
const INLINE_MAX_CHARS = 4096;
/** A compile within the limits ends well within this; past it the worker is replaced. */
const COMPILE_TIMEOUT_MS = 30_000;

export class GrammarTimeout extends Error {
  constructor() {
    super(`compiling the grammar took longer than ${COMPILE_TIMEOUT_MS / 1000} s`);
  }
}

export function compileGrammarJob(job: GrammarJob): GrammarResult {
  return job.kind === "schema" ? compileJsonSchema(job.schema) : toolCallGrammar(job.tools, job.mode, job.parallel);
}

type Pending = { resolve: (r: GrammarResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

function failAll(error: Error): void {
  worker = undefined;
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    pending.delete(id);
    p.reject(error);
  }
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./off-thread-worker.ts", import.meta.url));
  // Idle, it must not keep the process alive.
  w.unref();
  w.on("message", (m: { id: number; result?: GrammarResult; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.result) p.resolve(m.result);
    else p.reject(new Error(m.error ?? "grammar compilation failed"));
  });
  w.on("error", (e) => failAll(e));
  w.on("exit", (code) => {
    if (worker === w) failAll(new Error(`the grammar compiler thread exited (code ${code})`));
  });
  worker = w;
  return w;
}

/** Compiles inline when small, otherwise on the worker thread. Rejects only on a worker failure or timeout. */
export function compileGrammar(job: GrammarJob): Promise<GrammarResult> {
  let size: number;
  try {
    size = JSON.stringify(job).length;
  } catch {
    size = Infinity;
  }
  if (size <= INLINE_MAX_CHARS) return Promise.resolve(compileGrammarJob(job));
  return new Promise((resolve, reject) => {
    const w = getWorker();
    const id = nextId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new GrammarTimeout());
      // The worker may be stuck in that compile: the jobs queued behind it fail, the next gets a fresh one.
      if (worker === w) {
        failAll(new Error("the grammar compiler thread was restarted after a compile timed out"));
        w.terminate().catch(() => {});
      }
    }, COMPILE_TIMEOUT_MS);
    timer.unref();
    pending.set(id, { resolve, reject, timer });
    // While a compile is pending the thread keeps the process alive; idle, it does not.
    w.ref();
    w.postMessage({ id, job });
  }).finally(() => {
    if (pending.size === 0) worker?.unref();
  }) as Promise<GrammarResult>;
}
