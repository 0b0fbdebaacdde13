// Starts an async iterable and waits for its first item, so that errors a generation raises
// before producing anything (bad schema, model not loaded) surface as a plain rejected promise,
// while the http layer can still choose an error status instead of a mid-stream error frame.
export async function primed<T>(source: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    [Symbol.asyncIterator]() {
      let sentFirst = false;
      return {
        next: () => {
          if (!sentFirst) {
            sentFirst = true;
            return Promise.resolve(first);
          }
          return iterator.next();
        },
        return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}

/** Interleaves several async iterables, tagging each item with its source index. */
export async function* merge<T>(sources: AsyncIterable<T>[]): AsyncGenerator<[number, T]> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<[number, IteratorResult<T>]>>();
  const pull = (i: number) => pending.set(i, iterators[i].next().then((r) => [i, r] as [number, IteratorResult<T>]));
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size) {
      const [i, result] = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield [i, result.value];
    }
  } finally {
    // Not awaited: a source may be parked on a runner reply; the abort signal releases it.
    for (const it of iterators) it.return?.().catch(() => {});
  }
}
