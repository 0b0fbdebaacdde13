// Code point sets, and how one character of such a set is written inside a JSON string.
import { alt, chars, lit } from "./gbnf.ts";
import type { CpRange, GNode } from "./gbnf.ts";

export const MAX_CP = 0x10ffff;
export type CpSet = readonly CpRange[];

export function normalize(set: CpSet): CpRange[] {
  const node = chars(set);
  return node.kind === "set" ? [...node.ranges] : [];
}

export const union = (...sets: CpSet[]): CpRange[] => normalize(sets.flat());

export function complement(set: CpSet): CpRange[] {
  const out: CpRange[] = [];
  let next = 0;
  for (const [a, b] of normalize(set)) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

export function subtract(a: CpSet, b: CpSet): CpRange[] {
  return complement(union(complement(a), b));
}

export const hasCp = (set: CpSet, cp: number): boolean => set.some(([a, b]) => a <= cp && cp <= b);

const cp = (ch: string): number => ch.codePointAt(0)!;
const one = (ch: string): CpRange => [cp(ch), cp(ch)];

export const ALL: CpSet = [[0, MAX_CP]];
export const DIGIT: CpSet = [[0x30, 0x39]];
export const WORD: CpSet = normalize([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], one("_")]);
// ECMAScript \s: WhiteSpace and LineTerminator code points.
export const SPACE: CpSet = normalize([
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
]);
export const LINE_TERMINATORS: CpSet = normalize([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]);

// Characters that may appear raw in a JSON string: no quote, backslash or control
// characters; DEL and lone surrogates are left out too (they are never useful output).
const NOT_RAW: CpSet = normalize([[0x00, 0x1f], one('"'), one("\\"), [0x7f, 0x7f], [0xd800, 0xdfff]]);
const SHORT_ESCAPES: readonly [number, string][] = [
  [0x22, '\\"'], [0x5c, "\\\\"], [0x08, "\\b"], [0x0c, "\\f"], [0x0a, "\\n"], [0x0d, "\\r"], [0x09, "\\t"],
];

/**
 * One JSON-encoded character whose decoded value is in `set`. Uses the raw character or
 * the short escape; other control characters (needing \u00XX) are not produced.
 */
export function jsonCharFrom(set: CpSet): GNode {
  const escapes = SHORT_ESCAPES.filter(([c]) => hasCp(set, c)).map(([, e]) => lit(e));
  return alt(chars(subtract(set, NOT_RAW)), ...escapes);
}

/** The canonical JSON encoding of one code point, e.g. `"` -> `\"`. */
export function jsonCharLiteral(codePoint: number): GNode {
  return lit(JSON.stringify(String.fromCodePoint(codePoint)).slice(1, -1));
}
