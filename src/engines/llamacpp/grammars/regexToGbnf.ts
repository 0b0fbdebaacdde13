// Translates a JSON Schema `pattern` (ECMAScript regex) into a grammar for the JSON-encoded
// string contents. Only the regular subset is accepted: literals, classes, groups,
// alternation, quantifiers, and ^/$ at the ends. Lookaround, backreferences, word
// boundaries and \p{..} are rejected (they cannot be expressed in GBNF).
import { DIGIT, LINE_TERMINATORS, SPACE, WORD, complement, jsonCharFrom, jsonCharLiteral, union } from "./charSets.ts";
import type { CpSet } from "./charSets.ts";
import { alt, rep, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";

export class PatternError extends Error {}

const MAX_PATTERN_LENGTH = 2000;
const MAX_COUNT = 100_000;

/** `anyChar` is one JSON string character of any value, used for unanchored ends. */
export function patternToNode(pattern: string, anyChar: GNode): GNode {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new PatternError(`it is longer than ${MAX_PATTERN_LENGTH} characters`);
  let valid = false;
  for (const flags of ["u", ""]) {
    try {
      new RegExp(pattern, flags);
      valid = true;
    } catch {
      // try the next flag set
    }
  }
  if (!valid) throw new PatternError("it is not a valid ECMAScript regular expression");
  return new PatternParser(pattern, anyChar).parse();
}

class PatternParser {
  readonly #s: string[];
  readonly #any: GNode;
  #i = 0;

  constructor(pattern: string, anyChar: GNode) {
    this.#s = Array.from(pattern);
    this.#any = anyChar;
  }

  parse(): GNode {
    const branches: GNode[] = [];
    do {
      const anchoredStart = this.#eat("^");
      const body = this.#sequence(true);
      const anchoredEnd = this.#eat("$");
      if (!this.#atEnd() && this.#peek() !== "|") throw new PatternError(`unexpected '${this.#peek()}'`);
      // JSON Schema patterns are unanchored searches: free text may surround the match.
      const anyRun = rep(this.#any, 0, null);
      const emptyBody = body.kind === "lit" && body.text === "";
      if (emptyBody && !(anchoredStart && anchoredEnd)) branches.push(anyRun);
      else branches.push(seq(anchoredStart ? seq() : anyRun, body, anchoredEnd ? seq() : anyRun));
    } while (this.#eat("|"));
    if (!this.#atEnd()) throw new PatternError(`unexpected '${this.#peek()}'`);
    return alt(...branches);
  }

  #peek(offset = 0): string | undefined {
    return this.#s[this.#i + offset];
  }
  #atEnd(): boolean {
    return this.#i >= this.#s.length;
  }
  #eat(ch: string): boolean {
    if (this.#peek() !== ch) return false;
    this.#i++;
    return true;
  }

  #alternation(): GNode {
    const branches = [this.#sequence(false)];
    while (this.#eat("|")) branches.push(this.#sequence(false));
    return alt(...branches);
  }

  #sequence(topLevel: boolean): GNode {
    const items: GNode[] = [];
    for (;;) {
      const ch = this.#peek();
      if (ch === undefined || ch === "|" || ch === ")") break;
      if (ch === "$" && topLevel && (this.#peek(1) === undefined || this.#peek(1) === "|")) break;
      if (ch === "^" || ch === "$") throw new PatternError("'^' and '$' are only supported at the start and end of the pattern");
      items.push(this.#quantified(this.#atom()));
    }
    return seq(...items);
  }

  #atom(): GNode {
    const ch = this.#s[this.#i++];
    switch (ch) {
      case ".":
        return jsonCharFrom(complement(LINE_TERMINATORS));
      case "[":
        return jsonCharFrom(this.#classBody());
      case "(":
        return this.#group();
      case ")":
        throw new PatternError("unbalanced ')'");
      case "*":
      case "+":
      case "?":
        throw new PatternError(`nothing to repeat before '${ch}'`);
      case "\\": {
        const e = this.#escape(false);
        return typeof e === "number" ? jsonCharLiteral(e) : jsonCharFrom(e);
      }
      default:
        if (ch === "{" && this.#quantifierAt(this.#i - 1)) throw new PatternError("nothing to repeat before '{'");
        return jsonCharLiteral(ch.codePointAt(0)!);
    }
  }

  #group(): GNode {
    if (this.#eat("?")) {
      if (this.#eat(":")) {
        // non-capturing group
      } else if (this.#peek() === "<" && this.#peek(1) !== "=" && this.#peek(1) !== "!") {
        // named group: skip the name
        while (!this.#atEnd() && this.#s[this.#i] !== ">") this.#i++;
        this.#i++;
      } else {
        throw new PatternError("lookahead/lookbehind and inline modifiers are not supported");
      }
    }
    const inner = this.#alternation();
    if (!this.#eat(")")) throw new PatternError("missing ')'");
    return inner;
  }

  #quantifierAt(pos: number): RegExpMatchArray | null {
    return this.#s.slice(pos, pos + 24).join("").match(/^\{(\d+)(,(\d*))?\}/);
  }

  #quantified(atom: GNode): GNode {
    let node = atom;
    for (;;) {
      let min: number;
      let max: number | null;
      const ch = this.#peek();
      if (ch === "*") [min, max] = [0, null];
      else if (ch === "+") [min, max] = [1, null];
      else if (ch === "?") [min, max] = [0, 1];
      else if (ch === "{" && this.#quantifierAt(this.#i)) {
        const m = this.#quantifierAt(this.#i)!;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? null : Number(m[3]);
        this.#i += m[0].length - 1;
      } else return node;
      this.#i++;
      this.#eat("?"); // lazy quantifiers match the same set of strings
      if (min > MAX_COUNT || (max !== null && max > MAX_COUNT)) throw new PatternError(`repetition counts above ${MAX_COUNT} are not supported`);
      if (max !== null && max < min) throw new PatternError("a {min,max} quantifier has max < min");
      node = rep(node, min, max);
    }
  }

  /** After `[`: a class as a code point set (negation applied). */
  #classBody(): CpSet {
    const negate = this.#eat("^");
    const parts: CpSet[] = [];
    let first = true;
    while (first || this.#peek() !== "]") {
      if (this.#atEnd()) throw new PatternError("missing ']'");
      if (first && this.#peek() === "]") break; // `[]` / `[^]`
      first = false;
      const lo = this.#classAtom();
      if (typeof lo === "number" && this.#peek() === "-" && this.#peek(1) !== "]" && this.#peek(1) !== undefined) {
        this.#i++;
        const hi = this.#classAtom();
        if (typeof hi === "number") {
          if (hi < lo) throw new PatternError("a character range is out of order");
          parts.push([[lo, hi]]);
          continue;
        }
        parts.push([[lo, lo]], [[0x2d, 0x2d]], hi); // `a-\d`: '-' is literal (Annex B)
        continue;
      }
      parts.push(typeof lo === "number" ? [[lo, lo]] : lo);
    }
    this.#i++; // ']'
    const set = union(...parts);
    return negate ? complement(set) : set;
  }

  #classAtom(): number | CpSet {
    const ch = this.#s[this.#i++];
    return ch === "\\" ? this.#escape(true) : ch.codePointAt(0)!;
  }

  /** After a backslash: a single code point, or a set for \d \w \s and their negations. */
  #escape(inClass: boolean): number | CpSet {
    const ch = this.#s[this.#i++];
    if (ch === undefined) throw new PatternError("the pattern ends with a backslash");
    const sets: Record<string, CpSet> = { d: DIGIT, w: WORD, s: SPACE };
    if (sets[ch]) return sets[ch];
    if (sets[ch.toLowerCase()]) return complement(sets[ch.toLowerCase()]);
    const simple: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b };
    if (simple[ch] !== undefined) return simple[ch];
    if (ch === "b") {
      if (inClass) return 0x08;
      throw new PatternError("word boundaries (\\b) are not supported");
    }
    if (ch === "B") throw new PatternError("\\B is not supported");
    if (ch === "0" && !/[0-9]/.test(this.#peek() ?? "")) return 0;
    if (/[1-9]/.test(ch) || ch === "k") throw new PatternError("backreferences are not supported");
    if (ch === "p" || ch === "P") throw new PatternError("Unicode property escapes (\\p{...}) are not supported");
    if (ch === "c") throw new PatternError("control escapes (\\cX) are not supported");
    if (ch === "x") return this.#hex(2);
    if (ch === "u") {
      if (this.#eat("{")) {
        const end = this.#s.indexOf("}", this.#i);
        const cp = parseInt(this.#s.slice(this.#i, end).join(""), 16);
        if (end < 0 || !Number.isFinite(cp) || cp > 0x10ffff) throw new PatternError("invalid \\u{...} escape");
        this.#i = end + 1;
        return cp;
      }
      const cp = this.#hex(4);
      // A surrogate pair written as two \u escapes is one code point.
      if (cp >= 0xd800 && cp <= 0xdbff && this.#peek() === "\\" && this.#peek(1) === "u") {
        const save = this.#i;
        this.#i += 2;
        const low = this.#hex(4);
        if (low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        this.#i = save;
      }
      return cp;
    }
    return ch.codePointAt(0)!; // identity escape such as \. or \-
  }

  #hex(n: number): number {
    const text = this.#s.slice(this.#i, this.#i + n).join("");
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(text)) throw new PatternError("invalid hexadecimal escape");
    this.#i += n;
    return parseInt(text, 16);
  }
}
