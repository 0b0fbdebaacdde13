// Turns a stream of generated tokens into text pieces that are safe to send:
// whole UTF-8 characters only, and never a piece that might be the start of a stop string.
import type { TokenLogprob } from "../../../core/generation/types.ts";

const REPLACEMENT = "\uFFFD";
/** A UTF-8 character spans at most 4 byte-level tokens. */
const MAX_PENDING_TOKENS = 4;

export interface StreamPiece {
  text: string;
  logprobs: TokenLogprob[];
}

export class TextStream {
  #stops: string[];
  #pendingTokens: number[] = [];
  #pendingLogprobs: TokenLogprob[] = [];
  #held = "";
  #heldLogprobs: TokenLogprob[] = [];
  #decode: (tokens: number[]) => string;
  stopped = false;

  constructor(stops: string[], decode: (tokens: number[]) => string) {
    this.#stops = stops.filter((s) => s.length > 0);
    this.#decode = decode;
  }

  /** Adds one token; returns the text that may be sent now (possibly empty). */
  push(token: number, logprob?: TokenLogprob): StreamPiece {
    this.#pendingTokens.push(token);
    if (logprob) this.#pendingLogprobs.push(logprob);
    const text = this.#decode(this.#pendingTokens);
    if (text.endsWith(REPLACEMENT) && this.#pendingTokens.length < MAX_PENDING_TOKENS) return { text: "", logprobs: [] };
    this.#pendingTokens = [];
    this.#held += text;
    this.#heldLogprobs.push(...this.#pendingLogprobs);
    this.#pendingLogprobs = [];
    return this.#release(false);
  }

  /** Flushes what is held at the end of generation. */
  end(): StreamPiece {
    if (this.#pendingTokens.length) {
      this.#held += this.#decode(this.#pendingTokens);
      this.#heldLogprobs.push(...this.#pendingLogprobs);
      this.#pendingTokens = [];
      this.#pendingLogprobs = [];
    }
    return this.#release(true);
  }

  #release(final: boolean): StreamPiece {
    if (this.stopped) return { text: "", logprobs: [] };
    let cut = -1;
    for (const stop of this.#stops) {
      const at = this.#held.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.stopped = true;
      return this.#take(cut, true);
    }
    if (final) return this.#take(this.#held.length, true);
    return this.#take(this.#held.length - this.#heldPrefixOfStop(), false);
  }

  /** Length of the longest suffix of the held text that begins some stop string. */
  #heldPrefixOfStop(): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let len = Math.min(stop.length - 1, this.#held.length); len > longest; len--) {
        if (this.#held.endsWith(stop.slice(0, len))) {
          longest = len;
          break;
        }
      }
    }
    return longest;
  }

  #take(length: number, all: boolean): StreamPiece {
    const text = this.#held.slice(0, length);
    this.#held = this.#held.slice(length);
    // Logprobs go out with the text; held-back tokens keep theirs until released.
    const logprobs = all || this.#held.length === 0 ? this.#heldLogprobs : this.#heldLogprobs.slice(0, Math.max(0, this.#heldLogprobs.length - 1));
    this.#heldLogprobs = this.#heldLogprobs.slice(logprobs.length);
    return { text, logprobs };
  }
}
