// Hands out the context's sequences. A new request gets the free sequence whose cached
// tokens share the longest prefix with its prompt, so a repeated system prompt or
// conversation is not evaluated again (reported as usage.prompt_tokens_details.cached_tokens).
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { StepBarrier } from "./step-barrier.ts";

/**
 * A cached prefix shorter than this does not outweigh a non-contiguous sequence id: with
 * node-llama-cpp's per-sequence KV cache, llama.cpp computes each run of consecutive ids
 * in a batch as a separate ubatch (one more pass over the weights per step).
 */
const MIN_PREFIX_TO_SKIP_LOWER_ID = 64;

export interface Lease {
  sequence: LlamaContextSequence;
  /** The sequence's id in the context (creation order). */
  id: number;
  /** Prompt tokens already in the sequence's KV cache. */
  cachedTokens: number;
  release(): void;
}

export class SequencePool {
  #free: LlamaContextSequence[] = [];
  #ids = new Map<LlamaContextSequence, number>();
  readonly barrier = new StepBarrier();
  #waiters: (() => void)[] = [];
  #idle: (() => void)[] = [];
  readonly size: number;

  constructor(context: LlamaContext) {
    this.size = context.totalSequences;
    for (let i = 0; i < this.size; i++) {
      const sequence = context.getSequence();
      this.#ids.set(sequence, i);
      this.#free.push(sequence);
    }
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
    let lowest = 0;
    for (let i = 0; i < this.#free.length; i++) {
      const shared = this.#free[i].compareContextTokens(prompt).firstDifferentIndex;
      if (shared > bestShared) {
        best = i;
        bestShared = shared;
      }
      if (this.#ids.get(this.#free[i])! < this.#ids.get(this.#free[lowest])!) lowest = i;
    }
    if (bestShared < MIN_PREFIX_TO_SKIP_LOWER_ID) {
      best = lowest;
      bestShared = this.#free[lowest].compareContextTokens(prompt).firstDifferentIndex;
    }
    const sequence = this.#free.splice(best, 1)[0];
    // The last prompt token is always evaluated again: its logits start the generation.
    const keep = Math.min(bestShared, prompt.length - 1);
    if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    let released = false;
    return {
      sequence,
      id: this.#ids.get(sequence)!,
      cachedTokens: keep,
      release: () => {
        if (released) return;
        released = true;
        this.#free.push(sequence);
        this.#wakeNext();
        this.#checkIdle();
      },
    };
  }

  /** Resolves once no sequence is leased (before the context is disposed). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    if (this.#free.length < this.size) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const r of idle) r();
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
