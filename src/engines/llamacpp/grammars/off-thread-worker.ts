// The grammar compiler thread (off-thread.ts): compiles one job per message, in order.
import { parentPort } from "node:worker_threads";
import { compileGrammarJob } from "./off-thread.ts";
import type { GrammarJob } from "./off-thread.ts";

parentPort!.on("message", ({ id, job }: { id: number; job: GrammarJob }) => {
  try {
    parentPort!.postMessage({ id, result: compileGrammarJob(job) });
  } catch (e) {
    parentPort!.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
