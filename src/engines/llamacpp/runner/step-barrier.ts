// Lockstep decoding for the sequences of one context. node-llama-cpp batches whatever
// sequences have queued a token when it dispatches; streams that resume at slightly
// different times (sampling finishes one by one) end up split over two batches per step.
// Every generating sequence waits here after its token until all have theirs, then all
// ask for the next token in the same tick, in increasing sequence id: one batch per step,
// with the ids in the order llama.cpp needs to keep them in one ubatch.
const MAX_WAIT_MS = 20;

export class StepBarrier {
  #active = new Set<number>();
  #waiting = new Map<number, () => void>();
  #timer: NodeJS.Timeout | undefined;

  join(id: number): void {
    this.#active.add(id);
  }

  leave(id: number): void {
    this.#active.delete(id);
    this.#waiting.get(id)?.();
    this.#waiting.delete(id);
    this.#maybeRelease();
  }

  /** Resolves when every active sequence has arrived (or after MAX_WAIT_MS, as a safety net). */
  arrive(id: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#timer ??= setTimeout(() => this.#release(), MAX_WAIT_MS);
      this.#maybeRelease();
    });
  }

  #maybeRelease(): void {
    if (this.#waiting.size > 0 && this.#waiting.size >= this.#active.size) this.#release();
  }

  #release(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const release = [...this.#waiting.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    this.#waiting.clear();
    // Next macrotask: the batch loop that delivered these tokens has finished by then, so
    // all the next tokens are queued before node-llama-cpp dispatches.
    setImmediate(() => {
      for (const r of release) r();
    });
  }
}
