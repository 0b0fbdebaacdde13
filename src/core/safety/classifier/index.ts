// The embedded content classifier (issue 14 item 3a): weighted phrase lexicons per harm category
// with context rules, and a jailbreak detector, run in the server's process. No model download,
// no dependency; a 1,000-character prompt takes well under a millisecond (bench/safety.ts).
//
// Long texts are read whole, in windows of WINDOW_CHARS cut at line or sentence ends; between
// windows the event loop gets a turn and the abort signal is checked. A text is never answered
// "safe" for parts that were not read: above maxChars it is refused (an error, which the filter
// turns into a 4xx), never sampled.
import type { Classification, ClassifyOptions, ContentClassifier, HarmCategory } from "../../ports/content-classifier.ts";
import { normalizeText, tokenize } from "./normalize.ts";
import { scoreTokens, type Severities } from "./score.ts";
import { ATTACK_SCORE, jailbreakEvidence } from "./jailbreak.ts";

export { ATTACK_SCORE } from "./jailbreak.ts";

export const WINDOW_CHARS = 64 * 1024;
export const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;

export class ClassifierInputTooLargeError extends Error {
  readonly maxChars: number;
  constructor(length: number, maxChars: number) {
    super(`The text to classify has ${length} characters; the embedded classifier reads at most ${maxChars}. Send a shorter text.`);
    this.name = "ClassifierInputTooLargeError";
    this.maxChars = maxChars;
  }
}

export interface EmbeddedClassifierOptions {
  /** Longest text classified (characters); longer ones are refused, not sampled. */
  maxChars?: number;
  /** Window size (characters); tests make it small. */
  windowChars?: number;
}

/** What one window or text gave, with the evidence (for the eval and debugging). */
export interface Analysis {
  harm: Severities;
  jailbreakScore: number;
  jailbreakCues: string[];
  /** How far the text was read (characters); always its length. */
  charsRead: number;
  windows: number;
}

export class EmbeddedClassifier implements ContentClassifier {
  private readonly maxChars: number;
  private readonly windowChars: number;

  constructor(options: EmbeddedClassifierOptions = {}) {
    this.maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    this.windowChars = Math.max(256, options.windowChars ?? WINDOW_CHARS);
  }

  async classify(text: string, options: ClassifyOptions): Promise<Classification> {
    const analysis = await this.analyze(text, options.signal);
    return this.toClassification(analysis, options);
  }

  /** Same as classify, synchronously; for texts of one window or less in hot paths. */
  classifySync(text: string, options: Omit<ClassifyOptions, "signal">): Classification {
    return this.toClassification(this.analyzeSync(text), options);
  }

  analyzeSync(text: string): Analysis {
    this.checkSize(text);
    const acc = emptyAnalysis();
    for (const [start, end] of windows(text, this.windowChars)) {
      addWindow(acc, text.slice(start, end));
      acc.charsRead = end;
    }
    return acc;
  }

  async analyze(text: string, signal?: AbortSignal): Promise<Analysis> {
    this.checkSize(text);
    signal?.throwIfAborted();
    const acc = emptyAnalysis();
    let first = true;
    for (const [start, end] of windows(text, this.windowChars)) {
      if (!first) {
        // Give the event loop a turn between windows of a long text.
        await new Promise<void>((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
      }
      first = false;
      addWindow(acc, text.slice(start, end));
      acc.charsRead = end;
    }
    return acc;
  }

  private checkSize(text: string): void {
    if (typeof text !== "string") throw new TypeError("classify expects a string");
    if (text.length > this.maxChars) throw new ClassifierInputTooLargeError(text.length, this.maxChars);
  }

  private toClassification(a: Analysis, options: Omit<ClassifyOptions, "signal">): Classification {
    const result: Classification = { harm: { ...a.harm }, source: "embedded" };
    if (options.detectJailbreak) result.jailbreak = a.jailbreakScore >= ATTACK_SCORE;
    return result;
  }
}

function emptyAnalysis(): Analysis {
  return { harm: { hate: 0, sexual: 0, violence: 0, self_harm: 0 }, jailbreakScore: 0, jailbreakCues: [], charsRead: 0, windows: 0 };
}

function addWindow(acc: Analysis, chunk: string): void {
  const normalized = normalizeText(chunk);
  const tokens = tokenize(normalized);
  const harm = scoreTokens(tokens.words, tokens.sentence, tokens.sentences);
  for (const cat of Object.keys(harm) as HarmCategory[]) if (harm[cat] > acc.harm[cat]) acc.harm[cat] = harm[cat];
  const jb = jailbreakEvidence(normalized, tokens.words, tokens.sentence, tokens.encodedBlobs);
  if (jb.score > acc.jailbreakScore) {
    acc.jailbreakScore = jb.score;
    acc.jailbreakCues = jb.cues;
  }
  acc.windows++;
}

/**
 * [start, end) windows covering the whole text, each at most `size` characters. A window ends
 * after a line break or sentence end (else a space) in its last eighth when there is one, so
 * phrases are rarely split; and the next window starts up to an eighth of the size earlier (at a
 * sentence end in that overlap, else at its first space), so a sentence cut at a window's end
 * is read whole in the next one as long as it is shorter than the overlap (8 KiB by default).
 */
export function* windows(text: string, size: number): Generator<[number, number]> {
  if (text.length <= size) {
    yield [0, text.length];
    return;
  }
  const overlap = Math.floor(size / 8);
  let start = 0;
  while (true) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      const floor = end - overlap;
      let cut = text.lastIndexOf("\n", end - 1);
      if (cut < floor) cut = lastSentenceEnd(text, end - 2);
      if (cut < floor) cut = text.lastIndexOf(" ", end - 1);
      if (cut >= floor) end = cut + 1;
      end = keepSurrogate(text, end);
    }
    yield [start, end];
    if (end >= text.length) return;
    // The next window re-reads the tail of this one.
    const back = end - overlap;
    let next = lastSentenceEnd(text, end - 2);
    if (next < back) next = text.indexOf(" ", back); // else the whole overlap, from a word start
    next = next >= back && next < end && next + 1 > start ? next + 1 : Math.max(start + 1, back);
    start = keepSurrogate(text, next);
  }
}

function lastSentenceEnd(text: string, from: number): number {
  return Math.max(text.lastIndexOf(". ", from), text.lastIndexOf("? ", from), text.lastIndexOf("! ", from));
}

/** Moves a cut that would split a surrogate pair one character on. */
function keepSurrogate(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at + 1 : at;
}
