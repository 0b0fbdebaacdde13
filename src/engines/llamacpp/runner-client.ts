// The parent's handle on one runner child process: starts it, loads the model, routes
// replies to their requests, and fails every in-flight request if the process dies.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { errors } from "../../core/errors.ts";
import type { FromRunner, LoadOptions, RunnerOutput, ToRunner } from "./protocol.ts";
import type { RunnerLog } from "./runner-log.ts";

const RUNNER_MAIN = fileURLToPath(new URL("./runner/main.ts", import.meta.url));

type Listener = { onMessage(m: FromRunner): void; onDeath(error: Error): void };

export class RunnerClient {
  readonly options: LoadOptions;
  #child: ChildProcess | undefined;
  #listeners = new Map<number, Listener>();
  #nextId = 1;
  #onExit: (code: number | null, signal: string | null) => void;
  hasFim = false;

  #log: RunnerLog | undefined;

  /** `log`: where the process's output is kept as well (it still goes to the server's stdout/stderr). */
  constructor(options: LoadOptions, onExit: (code: number | null, signal: string | null) => void, log?: RunnerLog) {
    this.options = options;
    this.#onExit = onExit;
    this.#log = log;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get inFlight(): number {
    return this.#listeners.size;
  }

  /**
   * Starts the process and loads the model; rejects with the runner's reason on failure, or
   * after `timeoutMs` (the runner is killed: a load that hangs must not hold the model forever).
   */
  start(timeoutMs?: number): Promise<void> {
    // One libuv worker: the runner decodes on its main thread (runner/lane.ts) and leaves
    // the pool to node-llama-cpp's few async calls (loading the vocabulary); a larger pool
    // would only add idle threads. (When node-llama-cpp decoded there, each decode and each
    // sampling was a work item, and a pool of 4 rotating them over threads halved a 2-thread
    // decode: 75 → 145 tok/s on smollm2-135m, 2 cores.)
    const env = { ...process.env, UV_THREADPOOL_SIZE: "1" };
    const log = this.#log;
    const child = fork(RUNNER_MAIN, [], { serialization: "advanced", stdio: ["ignore", log ? "pipe" : "inherit", log ? "pipe" : "inherit", "ipc"], env });
    this.#child = child;
    if (log) {
      // Passed on to the server's own streams, and kept for getLogs.
      child.stdout?.on("data", (d: Buffer) => {
        process.stdout.write(d);
        log.write(d.toString());
      });
      child.stderr?.on("data", (d: Buffer) => {
        process.stderr.write(d);
        log.write(d.toString());
      });
      log.note(`runner started (pid ${child.pid}) for ${this.options.modelPath}`);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              if (settled) return;
              settled = true;
              reject(
                new Error(
                  `The model runner did not finish loading ${this.options.modelPath} within ${timeoutMs / 1000} s and was stopped. Check that the file is a complete GGUF on a readable disk; a very large model on a slow disk needs a longer load timeout (loadTimeoutMs).`,
                ),
              );
              child.kill("SIGKILL");
            }, timeoutMs);
      timer?.unref();
      const receive = (m: FromRunner) => {
        if (m.type === "loaded") {
          if (settled) return; // timed out already
          clearTimeout(timer);
          this.#log?.note(`model loaded (context ${this.options.contextLength} tokens, ${this.options.sequences} sequences)`);
          this.hasFim = m.hasFim;
          settled = true;
          resolve();
        } else if (m.type === "load_failed") {
          if (settled) return;
          clearTimeout(timer);
          this.#log?.note(`model load failed: ${m.message}`);
          settled = true;
          reject(new Error(m.message));
          child.kill("SIGKILL");
        } else if ("id" in m) this.#listeners.get(m.id)?.onMessage(m);
      };
      child.on("message", (m: RunnerOutput) => {
        if (Array.isArray(m)) for (const one of m) receive(one);
        else receive(m);
      });
      // A message sent while the runner is dying fails with EPIPE, emitted here; unhandled it
      // would crash the server. The 'exit' handler below already fails what was in flight.
      child.on("error", () => {});
      child.on("exit", (code, signal) => {
        this.#child = undefined;
        this.#log?.note(`runner exited (${signal ?? `exit code ${code}`})`);
        const death = errors.internal(
          `The model runner stopped unexpectedly (${signal ?? `exit code ${code}`}) while serving this request. Retry the request; the model is being reloaded.`,
        );
        const listeners = [...this.#listeners.values()];
        this.#listeners.clear();
        for (const l of listeners) l.onDeath(death);
        if (!settled) {
          clearTimeout(timer);
          settled = true;
          reject(new Error(`runner exited during load (${signal ?? `exit code ${code}`})`));
        }
        this.#onExit(code, signal);
      });
      this.#send({ type: "load", ...this.options });
    });
  }

  /** Sends a request; the listener gets every reply carrying its id until it unsubscribes. */
  request(build: (id: number) => ToRunner, listener: Listener): { id: number; done(): void } {
    const id = this.#nextId++;
    if (!this.#child) {
      listener.onDeath(errors.unavailable("The model runner is restarting. Retry the request in a few seconds."));
      return { id, done: () => {} };
    }
    this.#listeners.set(id, listener);
    this.#send(build(id));
    return { id, done: () => this.#listeners.delete(id) };
  }

  /** Sends a request answered by one message of type `expect`; an `error` reply (or the runner's death) rejects. */
  call<T extends FromRunner["type"]>(build: (id: number) => ToRunner, expect: T): Promise<Extract<FromRunner, { type: T }>> {
    return new Promise((resolve, reject) => {
      const req = this.request(build, {
        onMessage: (m) => {
          if (m.type === expect) {
            req.done();
            resolve(m as Extract<FromRunner, { type: T }>);
          } else if (m.type === "error") {
            req.done();
            reject(new Error(m.message));
          }
        },
        onDeath: reject,
      });
    });
  }

  cancel(id: number): void {
    this.#listeners.delete(id);
    this.#send({ type: "cancel", id });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.#send({ type: "shutdown" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  #send(message: ToRunner): void {
    if (this.#child?.connected) this.#child.send(message);
  }
}
