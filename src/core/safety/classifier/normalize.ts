// Text normalisation and tokenising for the embedded classifier. Everything downstream works on
// the tokens this produces, so the obfuscations people use to slip past word lists are undone
// here once: Unicode compatibility forms (NFKC: fullwidth, ligatures, styled letters), case,
// invisible characters, Cyrillic/Greek look-alikes, leetspeak inside words (k1ll, $uicide) and
// spaced-out letters (k i l l, k.i.l.l, k-i-l-l). One pass, linear in the text's length.

/** Zero-width and soft-hyphen characters that split a word without showing. */
const INVISIBLE = /[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

/** Look-alike letters from other scripts that NFKC leaves alone. */
const HOMOGLYPHS: Record<string, string> = {
  "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
  "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g",
  "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
};
const HOMOGLYPH_RE = new RegExp(`[${Object.keys(HOMOGLYPHS).join("")}]`, "g");

/** Leetspeak digits and symbols, applied only inside tokens that also hold letters. */
const LEET: Record<string, string> = {
  "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
  "@": "a", "$": "s", "!": "i", "|": "l", "+": "t",
};

export function normalizeText(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(INVISIBLE, "").replace(HOMOGLYPH_RE, (c) => HOMOGLYPHS[c]);
}

export interface Tokens {
  /** Normalised words. */
  words: string[];
  /** Sentence number of each word (a sentence ends at . ! ? ; or a line break). */
  sentence: number[];
  /** Number of sentences. */
  sentences: number;
  /** Words that looked like an encoded payload before leet mapping (long letters+digits runs). */
  encodedBlobs: number;
}

// A raw token: letters, digits, and the symbols leetspeak uses inside words.
const RAW_TOKEN = /[\p{L}\p{N}@$!|+]+/gu;
const HAS_LETTER = /\p{L}/u;
const SENTENCE_BREAK = /\.\s|[!?;\n]/;
/** Separators that join spaced-out letters: one space, dot, dash, underscore or star. */
const LIGHT_SEP = /^[ .\-_*]$/;
const BLOB = /^(?=[a-z0-9+]*[0-9])(?=[a-z0-9+]*[a-z])[a-z0-9+]{32,}$/;

/**
 * Splits normalised text into words and sentences. Runs of three or more single letters with one
 * light separator between them are joined into one word ("k i l l" → "kill"), since real prose
 * rarely has three one-letter words in a row.
 */
export function tokenize(normalized: string): Tokens {
  const words: string[] = [];
  const sentence: number[] = [];
  let sentences = 0;
  let encodedBlobs = 0;
  let lastEnd = 0;
  let brokeAfterPrevious = false;
  // Pending run of single letters (joined or flushed as separate words).
  let run: string[] = [];
  let runSentence = 0;
  const flushRun = () => {
    if (run.length >= 3) {
      words.push(run.join(""));
      sentence.push(runSentence);
    } else {
      for (const letter of run) {
        words.push(letter);
        sentence.push(runSentence);
      }
    }
    run = [];
  };

  for (const m of normalized.matchAll(RAW_TOKEN)) {
    const sep = normalized.slice(lastEnd, m.index);
    lastEnd = m.index + m[0].length;
    const breaks = brokeAfterPrevious || (words.length + run.length > 0 && SENTENCE_BREAK.test(sep));
    brokeAfterPrevious = false;
    let raw = m[0];
    // Trailing ! | + are punctuation, not leet ("kill!"), and "!"/"?" end a sentence.
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === "!" || raw[end - 1] === "|" || raw[end - 1] === "+")) end--;
    if (end < raw.length && raw.slice(end).includes("!")) brokeAfterPrevious = true;
    let start = 0;
    while (start < end && (raw[start] === "!" || raw[start] === "|" || raw[start] === "+" || raw[start] === "@")) start++;
    raw = raw.slice(start, end);
    if (raw === "") continue;
    // One pass over the token's characters instead of several regular expressions.
    let letters = false;
    let digits = false;
    let symbols = false;
    for (let k = 0; k < raw.length; k++) {
      const c = raw.charCodeAt(k);
      if (c >= 97 && c <= 122) letters = true;
      else if (c >= 48 && c <= 57) digits = true;
      else if (c === 64 || c === 36 || c === 33 || c === 124 || c === 43) symbols = true;
      else if (c > 127 && (letters || HAS_LETTER.test(raw[k]))) letters = true;
    }
    if (raw.length >= 32 && letters && digits && BLOB.test(raw)) encodedBlobs++;
    let word = raw;
    if (letters && (digits || symbols)) {
      let mapped = "";
      for (const c of raw) mapped += LEET[c] ?? c;
      word = mapped;
    } else if (!letters && symbols) {
      // Numbers with currency or other symbols ("$5"): keep the digits; symbols alone ("$$"): nothing.
      word = raw.replace(/[^0-9]/g, "");
      if (word === "") continue;
    }
    if (breaks) {
      flushRun();
      sentences++;
    }
    const cur = sentences;
    const singleLetter = word.length === 1 && letters && !digits;
    if (singleLetter && (run.length === 0 || LIGHT_SEP.test(sep))) {
      if (run.length === 0) runSentence = cur;
      run.push(word);
      continue;
    }
    flushRun();
    if (singleLetter) {
      runSentence = cur;
      run.push(word);
      continue;
    }
    words.push(word);
    sentence.push(cur);
  }
  flushRun();
  return { words, sentence, sentences: words.length === 0 ? 0 : sentences + 1, encodedBlobs };
}
