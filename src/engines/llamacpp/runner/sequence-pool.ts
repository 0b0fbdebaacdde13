// Hands out the context's sequences. A new request gets the free sequence whose cached
// tokens share the longest prefix with its prompt, so a repeated system prompt or
// conversation is not evaluated again (reported as usage.prompt_tokens_details.cached_tokens).
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";

export interface Lease {
  sequence: LlamaContextSequence;
  /** Prompt tokens already in the sequence's KV cache. */
  cachedTokens: number;
  release(): void;
}

export class SequencePool {
  #free: LlamaContextSequence[] = [];
  #waiters: (() => void)[] = [];
  readonly size: number;

  constructor(context: LlamaContext) {
    this.size = context.totalSequences;
    for (let i = 0; i < this.size; i++) this.#free.push(context.getSequence());
  }

  get busy(): number {
    return this.size - this.#free.length;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  async acquire(prompt: Token[], signal: { cancelled: boolean }): Promise<Lease | null> {
    while (this.#free.length === 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      if (signal.cancelled) {
        this.#wakeNext();
        return null;
      }
    }
    let best = 0;
    let bestShared = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const shared = this.#free[i].compareContextTokens(prompt).firstDifferentIndex;
      if (shared > bestShared) {
        best = i;
        bestShared = shared;
      }
    }
    const sequence = this.#free.splice(best, 1)[0];
    // The last prompt token is always evaluated again: its logits start the generation.
    const keep = Math.min(bestShared, prompt.length - 1);
    if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    let released = false;
    return {
      sequence,
      cachedTokens: keep,
      release: () => {
        if (released) return;
        released = true;
        this.#free.push(sequence);
        this.#wakeNext();
      },
    };
  }

  /** Wakes every waiter so cancelled ones can leave the queue. */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #wakeNext(): void {
    this.#waiters.shift()?.();
  }
}
