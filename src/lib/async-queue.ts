// A push-based queue consumed as an async iterator: bridges callback events
// (IPC messages from a runner) to `for await` consumers.
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #failWaiter: ((e: unknown) => void) | undefined;
  #ended = false;
  #error: unknown;
  #hasError = false;

  push(item: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#clearWaiter();
      w({ value: item, done: false });
    } else this.#items.push(item);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#clearWaiter();
      w({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    this.#error = error;
    this.#hasError = true;
    this.#ended = true;
    if (this.#failWaiter) {
      const f = this.#failWaiter;
      this.#clearWaiter();
      f(error);
    }
  }

  #clearWaiter(): void {
    this.#waiter = undefined;
    this.#failWaiter = undefined;
  }

  /** Takes the next item if it is already here and `accept` takes it; otherwise leaves the queue as it is. */
  takeIf(accept: (item: T) => boolean): T | undefined {
    if (this.#items.length && accept(this.#items[0])) return this.#items.shift();
    return undefined;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return { value: this.#items.shift()!, done: false };
    if (this.#hasError) throw this.#error;
    if (this.#ended) return { value: undefined, done: true };
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
