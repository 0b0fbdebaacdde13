// Phrase patterns over normalised words, the classifier's one matching primitive.
//
// Syntax (one string per pattern): words separated by spaces; "a|b" = either word; a word ending
// in "+" also matches its regular inflections ("kill+" = kill, kills, killed, killing, killer,
// killers); "~N" = up to N other words may come before the next element; "@name" = any word of
// a named word set. A pattern never spans two sentences. Matching is anchored at the words the
// first element can be, and gaps are bounded, so the cost per word is a small constant and a
// scan is linear in the text's length.

export type WordSets = Record<string, readonly string[]>;

export interface Pattern {
  source: string;
  elements: ReadonlySet<string>[];
  /** gaps[i]: how many other words may precede element i (gaps[0] is 0). */
  gaps: number[];
  weight: number;
}

/** Regular inflections of a word; over-generating is harmless (the extra strings are not words). */
export function inflections(word: string): string[] {
  const out = new Set([word, word + "s", word + "es", word + "ed", word + "ing", word + "er", word + "ers"]);
  if (word.endsWith("e")) {
    const stem = word.slice(0, -1);
    for (const s of ["d", "r", "rs"]) out.add(word + s);
    out.add(stem + "ing");
  }
  if (word.endsWith("y") && word.length > 2) {
    const stem = word.slice(0, -1);
    out.add(stem + "ies");
    out.add(stem + "ied");
  }
  // Consonant doubling: stab → stabbed, stabbing.
  const last = word[word.length - 1];
  if (/[bdgmnprt]/.test(last) && /[aeiou]/.test(word[word.length - 2] ?? "")) {
    for (const s of ["ed", "ing", "er", "ers"]) out.add(word + last + s);
  }
  return [...out];
}

export function compilePattern(source: string, weight: number, sets: WordSets): Pattern {
  const elements: Set<string>[] = [];
  const gaps: number[] = [];
  let pendingGap = 0;
  for (const part of source.trim().split(/\s+/)) {
    const gap = /^~(\d)$/.exec(part);
    if (gap) {
      pendingGap = Number(gap[1]);
      continue;
    }
    const alternatives = new Set<string>();
    for (const alt of part.split("|")) {
      if (alt.startsWith("@")) {
        const set = sets[alt.slice(1)];
        if (!set) throw new Error(`pattern "${source}": unknown word set ${alt}`);
        for (const w of set) for (const f of expand(w)) alternatives.add(f);
      } else {
        for (const f of expand(alt)) alternatives.add(f);
      }
    }
    elements.push(alternatives);
    gaps.push(elements.length === 1 ? 0 : pendingGap);
    pendingGap = 0;
  }
  if (elements.length === 0) throw new Error(`empty pattern "${source}"`);
  return { source, elements, gaps, weight };
}

function expand(word: string): string[] {
  return word.endsWith("+") ? inflections(word.slice(0, -1)) : [word];
}

export interface Match {
  pattern: Pattern;
  /** First and last word index (inclusive). */
  start: number;
  end: number;
}

/** Patterns indexed by the words their first element can be. */
export class PatternSet {
  readonly patterns: Pattern[];
  private readonly byFirst = new Map<string, Pattern[]>();

  constructor(patterns: Pattern[]) {
    this.patterns = patterns;
    for (const p of patterns) {
      for (const w of p.elements[0]) {
        let list = this.byFirst.get(w);
        if (!list) this.byFirst.set(w, (list = []));
        list.push(p);
      }
    }
  }

  static of(entries: readonly (readonly [string, number])[], sets: WordSets): PatternSet {
    return new PatternSet(entries.map(([src, w]) => compilePattern(src, w, sets)));
  }

  /** Calls `onMatch` for every pattern that matches starting at some word (shortest match each). */
  scan(words: readonly string[], sentence: readonly number[], onMatch: (m: Match) => void): void {
    for (let i = 0; i < words.length; i++) {
      const candidates = this.byFirst.get(words[i]);
      if (!candidates) continue;
      for (const p of candidates) {
        const end = matchFrom(p, 1, i + 1, words, sentence, sentence[i]);
        if (end >= 0) onMatch({ pattern: p, start: i, end });
      }
    }
  }
}

/** Index of the last word of a match of elements[ei..] starting at or after `pos`, or -1. */
function matchFrom(p: Pattern, ei: number, pos: number, words: readonly string[], sentence: readonly number[], sid: number): number {
  if (ei === p.elements.length) return pos - 1;
  const maxGap = p.gaps[ei];
  for (let g = 0; g <= maxGap; g++) {
    const at = pos + g;
    if (at >= words.length || sentence[at] !== sid) return -1;
    if (p.elements[ei].has(words[at])) {
      const end = matchFrom(p, ei + 1, at + 1, words, sentence, sid);
      if (end >= 0) return end;
    }
  }
  return -1;
}
