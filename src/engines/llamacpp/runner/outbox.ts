// The runner's replies to the server, with streamed text coalesced in time.
//
// Every IPC message wakes the server, which then writes an SSE frame and wakes the client.
// With as many decode threads as cores, those wakeups take a core from a ggml thread that
// the others wait for at the next barrier: one message per token cost smollm2-135m ~0.7 ms
// of its ~5.3 ms per token at 2 threads on 2 cores (bench/README.md). So text is held for
// up to `intervalMs` and sent in one message (vLLM's stream_interval does the same for the
// same reason). Each request's first text goes at once (time to first token is not
// delayed); every other kind of message goes at once with what was held before it, so
// order per request is kept. The decode loop calls flushDue() right after each decode, so
// held text leaves while the runner samples rather than as the next decode starts. Interval
// 0: one message per piece.
import type { FromRunner } from "../protocol.ts";

export class Outbox {
  readonly intervalMs: number;
  #write: (messages: FromRunner | FromRunner[]) => void;
  #held: FromRunner[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastFlush = 0;
  /** Requests whose first text went out. */
  #started = new Set<number>();

  #now: () => number;

  constructor(intervalMs: number, write: (messages: FromRunner | FromRunner[]) => void, now: () => number = () => performance.now()) {
    this.intervalMs = intervalMs;
    this.#write = write;
    this.#now = now;
  }

  send(message: FromRunner): void {
    if (message.type !== "text" || this.intervalMs <= 0) {
      if ("id" in message) this.#started.delete(message.id);
      if (this.#held.length === 0) return this.#write(message);
      this.#held.push(message);
      return this.flush();
    }
    this.#held.push(message);
    const first = !this.#started.has(message.id);
    if (first) this.#started.add(message.id);
    const wait = this.intervalMs - (this.#now() - this.#lastFlush);
    if (first || wait <= 0) return this.flush();
    // The decode loop yields to the event loop between steps, so this fires between two
    // llama_decode calls even while generation goes on.
    this.#timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Sends what is held if the interval has passed (called by the decode loop between steps). */
  flushDue(): void {
    if (this.#held.length && this.#now() - this.#lastFlush >= this.intervalMs) this.flush();
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastFlush = this.#now();
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    this.#write(held.length === 1 ? held[0] : held);
  }
}
