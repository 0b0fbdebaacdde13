// Per-request sampling on libllama's samplers, with the chain node-llama-cpp 3.22 builds
// (AddonSampler::rebuildChainIfNeeded) so outputs keep their meaning: logit bias, then
// presence/frequency penalties over the generated tokens, then greedy (temperature 0) or
// top-k (40 unless given), top-p, min-p, temperature and a seeded draw. A grammar is a
// separate sampler: the chain's pick is tested against it and, only if refused, the grammar
// filters all candidates before the chain runs again (llama.cpp's common_sampler does the
// same). A plain request samples with one native call, llama_sampler_sample; a plain greedy
// one (no bias, no penalties) takes the argmax of the logits row in place, which spares
// llama_sampler_sample's copy of the whole vocabulary into candidates (25 µs a token for
// SmolLM2's 49k tokens, 90 µs for Qwen2.5's 152k).
import { randomInt } from "node:crypto";
import type { RunnerSampling } from "../protocol.ts";
import { allocBytes, NativeViews, TOKEN_DATA_BYTES } from "../../../native/libllama.ts";
import type { LlamaLib, Ptr } from "../../../native/libllama.ts";

/** What a request with logprobs gets for each token: the post-chain distribution, as node-llama-cpp reported it. */
export interface SampledProbabilities {
  /** Probability of the chosen token. */
  confidence: number;
  /** The most likely tokens, most likely first. */
  top: [token: number, p: number][];
}

/**
 * A llama_token_data_array over native memory, filled from a logits row: the candidates the
 * samplers filter when the whole distribution is needed (grammar, logprobs). One per lane.
 */
export class Candidates {
  readonly #ids: Int32Array;
  readonly #values: Float32Array;
  readonly #header: BigInt64Array;
  readonly #headerBytes: Uint8Array;
  readonly #dataAddress: bigint;
  readonly ptr: Ptr;
  readonly #one: { ptr: Ptr; ids: Int32Array; values: Float32Array; header: BigInt64Array; address: bigint };
  readonly nVocab: number;

  constructor(nVocab: number) {
    this.nVocab = nVocab;
    const data = allocBytes(nVocab * TOKEN_DATA_BYTES);
    this.#ids = new Int32Array(data.buffer);
    this.#values = new Float32Array(data.buffer);
    this.#dataAddress = data.address;
    const header = allocBytes(32);
    this.ptr = header.ptr;
    this.#header = new BigInt64Array(header.buffer);
    this.#headerBytes = new Uint8Array(header.buffer);
    const one = allocBytes(TOKEN_DATA_BYTES);
    const oneHeader = allocBytes(32);
    this.#one = { ptr: oneHeader.ptr, ids: new Int32Array(one.buffer), values: new Float32Array(one.buffer), header: new BigInt64Array(oneHeader.buffer), address: one.address };
  }

  fill(logits: Float32Array): void {
    const ids = this.#ids;
    const values = this.#values;
    for (let i = 0, j = 0; i < this.nVocab; i++, j += 3) {
      ids[j] = i;
      values[j + 1] = logits[i];
      values[j + 2] = 0;
    }
    this.#header[0] = this.#dataAddress;
    this.#header[1] = BigInt(this.nVocab);
    this.#header[2] = -1n;
    this.#headerBytes[24] = 0;
  }

  get size(): number {
    return Number(this.#header[1]);
  }

  get selected(): number {
    return Number(this.#header[2]);
  }

  id(i: number): number {
    return this.#ids[i * 3];
  }

  logit(i: number): number {
    return this.#values[i * 3 + 1];
  }

  /** Whether `grammar` accepts `token` as the next token (a one-candidate array through it). */
  accepts(lib: LlamaLib, grammar: Ptr, token: number): boolean {
    const one = this.#one;
    one.ids[0] = token;
    one.values[1] = 1;
    one.values[2] = 0;
    one.header[0] = one.address;
    one.header[1] = 1n;
    one.header[2] = -1n;
    one.header[3] = 0n;
    lib.samplerApply(grammar, one.ptr);
    return one.values[1] !== -Infinity;
  }
}

export interface SamplerDeps {
  lib: LlamaLib;
  vocab: Ptr;
  nVocab: number;
  isEog(token: number): boolean;
  views: NativeViews;
  candidates: Candidates;
}

export class RequestSampler {
  #deps: SamplerDeps;
  #chain: Ptr;
  #grammar: Ptr | undefined;
  #top: number;
  /** The chain is only the greedy pick: sample by argmax over the logits. */
  #argmax: boolean;
  readonly wantProbabilities: boolean;

  /**
   * `grammar`: this request's own grammar sampler (freed with this one). `logprobs`: null for
   * none, else how many alternatives per token (0: the chosen token's probability only).
   */
  constructor(deps: SamplerDeps, s: RunnerSampling, maxTokens: number, grammar: Ptr | undefined, logprobs: number | null) {
    this.#deps = deps;
    this.#grammar = grammar;
    this.wantProbabilities = logprobs !== null;
    this.#top = logprobs ?? 0;
    const { lib } = deps;
    const chain = lib.chainInit();
    this.#chain = chain;
    const biases = s.logitBias
      // A bias on an end-of-generation token applies (OpenAI's -100 bans it: the output then
      // runs to max_tokens), except under a grammar, whose end may need it. (node-llama-cpp's
      // TokenBias dropped such biases always.)
      .filter(([token]) => token >= 0 && token < deps.nVocab && !(grammar && deps.isEog(token)))
      .map(([token, value]) => ({ token, bias: value <= -100 ? -Infinity : value }));
    if (biases.length) lib.chainAdd(chain, lib.logitBias(deps.nVocab, biases));
    if (s.presencePenalty !== 0 || s.frequencyPenalty !== 0) {
      // node-llama-cpp punished the last max(256, generated) tokens: all generated ones.
      lib.chainAdd(chain, lib.penalties(Math.max(256, maxTokens), 1, s.frequencyPenalty, s.presencePenalty));
    }
    this.#argmax = s.temperature <= 0 && biases.length === 0 && s.presencePenalty === 0 && s.frequencyPenalty === 0;
    if (s.temperature <= 0) lib.chainAdd(chain, lib.greedy());
    else {
      const topK = s.topK ?? 40;
      lib.chainAdd(chain, lib.topK(topK <= 0 ? deps.nVocab : Math.min(topK, deps.nVocab)));
      if (s.topP >= 0 && s.topP <= 1) lib.chainAdd(chain, lib.topP(s.topP, 1));
      if ((s.minP ?? 0) > 0) lib.chainAdd(chain, lib.minP(s.minP!, 1));
      lib.chainAdd(chain, lib.temp(s.temperature));
      lib.chainAdd(chain, lib.dist(s.seed !== undefined ? Math.max(0, Math.floor(s.seed)) % 2 ** 32 : randomInt(2 ** 32)));
    }
  }

  /** Samples the next token from the logits at `idx` of the last batch, and accepts it. */
  sample(ctx: Ptr, idx: number): { token: number; probabilities?: SampledProbabilities } {
    const { lib } = this.#deps;
    if (!this.#grammar && !this.wantProbabilities) {
      if (!this.#argmax) return { token: lib.samplerSample(this.#chain, ctx, idx) };
      // llama_sampler_greedy's pick: the first highest logit.
      const logits = this.#logits(ctx, idx);
      let best = 0;
      let max = logits[0];
      for (let i = 1; i < logits.length; i++) {
        if (logits[i] > max) {
          max = logits[i];
          best = i;
        }
      }
      return { token: best };
    }
    const c = this.#deps.candidates;
    const logits = this.#logits(ctx, idx);
    c.fill(logits);
    if (this.wantProbabilities) {
      if (this.#grammar) lib.samplerApply(this.#grammar, c.ptr);
      lib.samplerApply(this.#chain, c.ptr);
    } else {
      lib.samplerApply(this.#chain, c.ptr);
      if (c.selected < 0 || !c.accepts(lib, this.#grammar, c.id(c.selected))) {
        c.fill(logits);
        lib.samplerApply(this.#grammar, c.ptr);
        lib.samplerApply(this.#chain, c.ptr);
      }
    }
    const selected = c.selected;
    if (selected < 0 || selected >= c.size) throw new Error("Failed to sample next token");
    const token = c.id(selected);
    const probabilities = this.wantProbabilities ? this.#probabilities(c, selected) : undefined;
    lib.samplerAccept(this.#chain, token);
    if (this.#grammar && !this.#deps.isEog(token)) lib.samplerAccept(this.#grammar, token);
    return { token, probabilities };
  }

  #logits(ctx: Ptr, idx: number): Float32Array {
    const ptr = this.#deps.lib.logitsIth(ctx, idx);
    if (!ptr) throw new Error(`no logits for batch index ${idx}`);
    return this.#deps.views.floats(ptr, this.#deps.nVocab);
  }

  /** Softmax over the candidates the chain left, as node-llama-cpp computed it; the top few sorted. */
  #probabilities(c: Candidates, selected: number): SampledProbabilities {
    const n = c.size;
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (c.logit(i) > max) max = c.logit(i);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(c.logit(i) - max);
    const p = (i: number) => (max === -Infinity || sum === 0 ? 0 : Math.exp(c.logit(i) - max) / sum);
    // Top k by logit (k ≤ 20), by insertion into a short sorted list.
    const k = Math.min(this.#top, n);
    const best: number[] = [];
    for (let i = 0; i < n && k > 0; i++) {
      const l = c.logit(i);
      if (best.length === k && l <= c.logit(best[k - 1])) continue;
      let at = best.length;
      while (at > 0 && c.logit(best[at - 1]) < l) at--;
      best.splice(at, 0, i);
      if (best.length > k) best.pop();
    }
    return { confidence: p(selected), top: best.map((i) => [c.id(i), p(i)]) };
  }

  free(): void {
    this.#deps.lib.samplerFree(this.#chain);
    if (this.#grammar) this.#deps.lib.samplerFree(this.#grammar);
    this.#grammar = undefined;
  }
}
