// One llama context and its sequences (the base's, or an adapter's), and the decode loop that
// serves them: continuous batching in lockstep. Each step puts every generating sequence's
// last token in one batch (in increasing sequence id), fills what room is left with prompt
// tokens of sequences that are starting, calls llama_decode synchronously on this thread,
// samples every sequence whose logits came out, and hands the tokens to their requests.
// Between two steps the event loop runs once (setImmediate): new requests, cancellations
// and the IPC writes get in there.
//
// A new request gets the free sequence whose cached tokens share the longest prefix with its
// prompt, so a repeated system prompt or conversation is not evaluated again (reported as
// usage.prompt_tokens_details.cached_tokens).
import { allocBytes, freeBytes } from "../../../native/libllama.ts";
import type { LlamaLib, Ptr } from "../../../native/libllama.ts";

/**
 * A cached prefix shorter than this does not outweigh a non-contiguous sequence id: with a
 * per-sequence KV cache (kv_unified off), llama.cpp computes each run of consecutive ids in
 * a batch as a separate ubatch (one more pass over the weights per step).
 */
const MIN_PREFIX_TO_SKIP_LOWER_ID = 64;

/**
 * INGOT_RUNNER_TRACE=1: when a lane goes idle it writes where its steps spent their time to
 * stderr: the wait between steps (event loop), building the batch, llama_decode, and the
 * sampling and sending after it, each as a mean per step.
 */
class StepTrace {
  steps = 0;
  tokens = 0;
  gap = 0;
  build = 0;
  decode = 0;
  after = 0;
  #last = 0;

  add(start: number, decoding: number, decoded: number, end: number, tokens: number): void {
    if (this.#last) this.gap += start - this.#last;
    this.#last = end;
    this.steps++;
    this.tokens += tokens;
    this.build += decoding - start;
    this.decode += decoded - decoding;
    this.after += end - decoded;
  }

  flush(): void {
    const us = (ms: number, n: number) => ((ms * 1000) / Math.max(1, n)).toFixed(0);
    process.stderr.write(
      `runner trace: ${this.steps} steps, ${this.tokens} tokens; per step µs: between ${us(this.gap, this.steps - 1)}, batch ${us(this.build, this.steps)}, decode ${us(this.decode, this.steps)}, sample+send ${us(this.after, this.steps)}\n`,
    );
    Object.assign(this, { steps: 0, tokens: 0, gap: 0, build: 0, decode: 0, after: 0 });
    this.#last = 0;
  }
}

export interface LaneHooks {
  /** Right after each successful llama_decode, before sampling. */
  afterDecode?(): void;
  /** When the last running sequence has finished its step (no decode is coming). */
  idle?(): void;
}

/** A generation running on a sequence of this lane. */
export interface Job {
  /** Called when the logits for its next token are at batch index `idx`: returns the token to evaluate next, or null when the generation is over. */
  onLogits(idx: number): number | null;
  /** Checked before each step: a cancelled job leaves without another call. */
  cancelled(): boolean;
}

interface Slot {
  id: number;
  /** The tokens in this sequence's KV cache, in order. */
  tokens: number[];
}

interface Running {
  slot: Slot;
  job: Job;
  /** Tokens still to evaluate: the rest of the prompt, then each sampled token. */
  pending: number[];
  settle(error?: Error): void;
}

export interface Lease {
  /** The sequence's id in the context. */
  id: number;
  /** Prompt tokens already in the sequence's KV cache. */
  cachedTokens: number;
  /** Evaluates `prompt` (from cachedTokens on) and the tokens the job samples; resolves when the job is over. */
  run(prompt: number[], job: Job): Promise<void>;
  release(): void;
}

/** A llama_batch over native memory: one sequence id per token. */
export class NativeBatch {
  readonly capacity: number;
  readonly token: Int32Array;
  readonly pos: Int32Array;
  readonly seq: Int32Array;
  readonly logits: Int8Array;
  readonly struct: Record<string, unknown>;
  #blocks: unknown[];

  constructor(capacity: number) {
    this.capacity = capacity;
    const token = allocBytes(4 * capacity);
    const pos = allocBytes(4 * capacity);
    const nSeqId = allocBytes(4 * capacity);
    const seq = allocBytes(4 * capacity);
    const seqPtrs = allocBytes(8 * capacity);
    const logits = allocBytes(capacity);
    this.token = new Int32Array(token.buffer);
    this.pos = new Int32Array(pos.buffer);
    this.seq = new Int32Array(seq.buffer);
    this.logits = new Int8Array(logits.buffer);
    new Int32Array(nSeqId.buffer).fill(1);
    const ptrs = new BigUint64Array(seqPtrs.buffer);
    for (let i = 0; i < capacity; i++) ptrs[i] = seq.address + BigInt(4 * i);
    this.struct = { n_tokens: 0, token: token.ptr, embd: null, pos: pos.ptr, n_seq_id: nSeqId.ptr, seq_id: seqPtrs.ptr, logits: logits.ptr };
    this.#blocks = [token.ptr, pos.ptr, nSeqId.ptr, seq.ptr, seqPtrs.ptr, logits.ptr];
  }

  /** Gives the native memory back; the batch must not be used after. */
  free(): void {
    for (const b of this.#blocks) freeBytes(b);
    this.#blocks = [];
  }
}

export class Lane {
  readonly lib: LlamaLib;
  readonly ctx: Ptr;
  readonly size: number;
  #mem: Ptr;
  #batch: NativeBatch;
  #free: Slot[] = [];
  #running = new Map<number, Running>();
  #waiters: (() => void)[] = [];
  #idle: (() => void)[] = [];
  #scheduled = false;
  #disposed = false;
  #trace = process.env.INGOT_RUNNER_TRACE ? new StepTrace() : undefined;

  #hooks: LaneHooks;

  constructor(lib: LlamaLib, ctx: Ptr, sequences: number, batchSize: number, hooks: LaneHooks = {}) {
    this.#hooks = hooks;
    this.lib = lib;
    this.ctx = ctx;
    this.size = sequences;
    this.#mem = lib.memory(ctx);
    this.#batch = new NativeBatch(batchSize);
    for (let i = 0; i < sequences; i++) this.#free.push({ id: i, tokens: [] });
  }

  async acquire(prompt: number[], signal: { cancelled: boolean }): Promise<Lease | null> {
    while (this.#free.length === 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      if (signal.cancelled || this.#disposed) {
        this.#wakeNext();
        return null;
      }
    }
    let best = 0;
    let bestShared = -1;
    let lowest = 0;
    for (let i = 0; i < this.#free.length; i++) {
      const shared = sharedPrefix(this.#free[i].tokens, prompt);
      if (shared > bestShared) {
        best = i;
        bestShared = shared;
      }
      if (this.#free[i].id < this.#free[lowest].id) lowest = i;
    }
    if (bestShared < MIN_PREFIX_TO_SKIP_LOWER_ID) {
      best = lowest;
      bestShared = sharedPrefix(this.#free[lowest].tokens, prompt);
    }
    const slot = this.#free.splice(best, 1)[0];
    // The last prompt token is always evaluated again: its logits start the generation.
    const keep = Math.max(0, Math.min(bestShared, prompt.length - 1));
    this.#truncate(slot, keep);
    let released = false;
    return {
      id: slot.id,
      cachedTokens: keep,
      run: (tokens, job) =>
        new Promise<void>((resolve, reject) => {
          if (this.#disposed) return reject(new Error("the context was disposed"));
          this.#running.set(slot.id, { slot, job, pending: tokens.slice(slot.tokens.length), settle: (e) => (e ? reject(e) : resolve()) });
          this.#schedule();
        }),
      release: () => {
        if (released) return;
        released = true;
        this.#running.delete(slot.id);
        this.#free.push(slot);
        this.#wakeNext();
        this.#checkIdle();
      },
    };
  }

  /** Resolves once no sequence is leased (before the context is freed). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#checkIdle();
    });
  }

  /** Wakes every waiter so cancelled ones can leave the queue. */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Frees the context; call once idle. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.wakeAll();
    this.lib.free(this.ctx);
    this.#batch.free();
  }

  #truncate(slot: Slot, keep: number): void {
    if (keep >= slot.tokens.length) return;
    if (!this.lib.memorySeqRm(this.#mem, slot.id, keep, -1)) {
      // Cannot cut a sequence partially (not the case for transformer KV caches): start over.
      this.lib.memorySeqRm(this.#mem, slot.id, -1, -1);
      slot.tokens.length = 0;
      return;
    }
    slot.tokens.length = keep;
  }

  #checkIdle(): void {
    if (this.#free.length < this.size) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const r of idle) r();
  }

  #wakeNext(): void {
    this.#waiters.shift()?.();
  }

  #schedule(): void {
    if (this.#scheduled || this.#disposed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    if (this.#disposed) return;
    const start = this.#trace ? performance.now() : 0;
    const running: Running[] = [];
    for (const r of this.#running.values()) {
      if (r.job.cancelled()) {
        this.#running.delete(r.slot.id);
        r.settle();
      } else running.push(r);
    }
    if (running.length === 0) return this.#hooks.idle?.();
    running.sort((a, b) => a.slot.id - b.slot.id);

    // Every sequence that is generating gets its token in; prompts share what is left.
    const batch = this.#batch;
    let room = batch.capacity;
    const take = new Map<Running, number>();
    for (const r of running) {
      if (r.pending.length === 1 && room > 0) {
        take.set(r, 1);
        room--;
      }
    }
    for (const r of running) {
      if (r.pending.length > 1 && room > 0) {
        const n = Math.min(r.pending.length, room);
        take.set(r, n);
        room -= n;
      }
    }
    let n = 0;
    const outputs: [Running, number][] = [];
    for (const r of running) {
      const count = take.get(r);
      if (!count) continue;
      const start = r.slot.tokens.length;
      for (let k = 0; k < count; k++, n++) {
        batch.token[n] = r.pending[k];
        batch.pos[n] = start + k;
        batch.seq[n] = r.slot.id;
        batch.logits[n] = 0;
      }
      if (count === r.pending.length) {
        batch.logits[n - 1] = 1;
        outputs.push([r, n - 1]);
      }
    }
    batch.struct.n_tokens = n;
    const decoding = this.#trace ? performance.now() : 0;
    const status = this.lib.decode(this.ctx, batch.struct);
    const decoded = this.#trace ? performance.now() : 0;
    if (status !== 0) {
      const error = new Error(`llama_decode failed (${status}) for a batch of ${n} tokens`);
      for (const r of take.keys()) {
        // What the failed batch left in the cache is unknown: forget the sequence.
        this.lib.memorySeqRm(this.#mem, r.slot.id, -1, -1);
        r.slot.tokens.length = 0;
        this.#running.delete(r.slot.id);
        r.settle(error);
      }
      this.#schedule();
      return;
    }
    this.#hooks.afterDecode?.();
    for (const [r, count] of take) {
      for (let k = 0; k < count; k++) r.slot.tokens.push(r.pending[k]);
      r.pending = count === r.pending.length ? [] : r.pending.slice(count);
    }
    for (const [r, idx] of outputs) {
      let next: number | null;
      try {
        next = r.job.cancelled() ? null : r.job.onLogits(idx);
      } catch (e) {
        this.#running.delete(r.slot.id);
        r.settle(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      if (next === null) {
        this.#running.delete(r.slot.id);
        r.settle();
      } else r.pending.push(next);
    }
    if (this.#trace) {
      this.#trace.add(start, decoding, decoded, performance.now(), n);
      if (this.#running.size === 0) this.#trace.flush();
    }
    if (this.#running.size > 0) this.#schedule();
    else this.#hooks.idle?.();
  }
}

function sharedPrefix(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
