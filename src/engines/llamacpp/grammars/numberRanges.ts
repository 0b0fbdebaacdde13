// Grammars for integers and decimals within bounds, written digit by digit
// (the classic "numeric range as regular expression" construction).
// Only canonical forms are produced: no leading zeros, no exponent, no "-0".
import { NEVER, alt, lit, opt, range, rep, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import { MAX_FRACTION_DIGITS, MAX_INT_DIGITS } from "./jsonRules.ts";

const DIGIT = range("0", "9");
/** Largest magnitude produced when a side is unbounded (MAX_INT_DIGITS nines). */
export const INT_CAP = 10n ** BigInt(MAX_INT_DIGITS) - 1n;

const digitRange = (lo: number, hi: number): GNode => range(String(lo), String(hi));

/** Decimal strings of equal length from x to y (x <= y), e.g. "120".."345". */
function sameLength(x: string, y: string): GNode {
  if (x.length === 1) return digitRange(Number(x), Number(y));
  if (x[0] === y[0]) return seq(lit(x[0]), sameLength(x.slice(1), y.slice(1)));
  const n = x.length - 1;
  const xr = x.slice(1);
  const yr = y.slice(1);
  let fullFrom = Number(x[0]);
  let fullTo = Number(y[0]);
  const parts: GNode[] = [];
  if (xr !== "0".repeat(n)) {
    parts.push(seq(lit(x[0]), sameLength(xr, "9".repeat(n))));
    fullFrom++;
  }
  let high: GNode | null = null;
  if (yr !== "9".repeat(n)) {
    high = seq(lit(y[0]), sameLength("0".repeat(n), yr));
    fullTo--;
  }
  if (fullFrom <= fullTo) parts.push(seq(digitRange(fullFrom, fullTo), rep(DIGIT, n, n)));
  if (high) parts.push(high);
  return alt(...parts);
}

/** Canonical decimal representations of the integers a..b (0 <= a <= b). */
function nonNegative(a: bigint, b: bigint): GNode {
  const parts: GNode[] = [];
  const la = String(a).length;
  const lb = String(b).length;
  let fullFromLen = 0; // a run of lengths whose whole range [10^(L-1), 10^L-1] is included
  let fullToLen = -1;
  const flush = (): void => {
    if (fullFromLen <= fullToLen) parts.push(seq(range("1", "9"), rep(DIGIT, fullFromLen - 1, fullToLen - 1)));
    fullFromLen = 0;
    fullToLen = -1;
  };
  for (let len = la; len <= lb; len++) {
    const lo = len === la ? a : 10n ** BigInt(len - 1) * (len === 1 ? 0n : 1n);
    const hi = len === lb ? b : 10n ** BigInt(len) - 1n;
    const isFull = len > 1 && lo === 10n ** BigInt(len - 1) && hi === 10n ** BigInt(len) - 1n;
    if (isFull) {
      if (fullToLen < 0) fullFromLen = len;
      fullToLen = len;
      continue;
    }
    flush();
    parts.push(sameLength(String(lo), String(hi)));
  }
  flush();
  return alt(...parts);
}

/** Integers in [lo, hi]; null means unbounded on that side (up to MAX_INT_DIGITS digits). */
export function intRange(lo: bigint | null, hi: bigint | null): GNode {
  const parts: GNode[] = [];
  if (lo === null || lo < 0n) {
    // negative side: "-" followed by magnitudes m with max(1, -hi) <= m <= -lo
    const mFrom = hi !== null && hi < 0n ? -hi : 1n;
    const mTo = lo === null ? (mFrom > INT_CAP ? mFrom : INT_CAP) : -lo;
    if (mFrom <= mTo) parts.push(seq(lit("-"), nonNegative(mFrom, mTo)));
  }
  if (hi === null || hi >= 0n) {
    const from = lo !== null && lo > 0n ? lo : 0n;
    const to = hi ?? (from > INT_CAP ? from : INT_CAP);
    if (from <= to) parts.push(nonNegative(from, to));
  }
  return alt(...parts);
}

export type Bound = { readonly value: bigint; readonly exclusive: boolean };

const fracAny = opt(seq(lit("."), rep(DIGIT, 1, MAX_FRACTION_DIGITS)));
const fracZero = opt(seq(lit("."), rep(lit("0"), 1, MAX_FRACTION_DIGITS)));
const fracNonZero = seq(lit("."), rep(lit("0"), 0, MAX_FRACTION_DIGITS - 1), range("1", "9"), rep(DIGIT, 0, MAX_FRACTION_DIGITS - 1));

/** Decimals w = I.f >= 0 with lower bound `lo` (value >= 0) and optional upper bound `hi` (value >= 0). */
function nonNegativeDecimal(lo: Bound, hi: Bound | null): GNode {
  const parts: GNode[] = [];
  // Integer parts for which any fraction is fine.
  const anyFrom = lo.exclusive ? lo.value + 1n : lo.value;
  const anyTo = hi === null ? (anyFrom > INT_CAP ? anyFrom : INT_CAP) : hi.value - 1n;
  if (anyFrom <= anyTo) parts.push(seq(intRange(anyFrom, anyTo), fracAny));
  // w > lo with I == lo needs a non-zero fraction (and lo.f is below any hi > lo).
  if (lo.exclusive && (hi === null || lo.value < hi.value)) parts.push(seq(lit(String(lo.value)), fracNonZero));
  // w <= hi with I == hi needs a zero fraction.
  if (hi !== null && !hi.exclusive && (hi.value > lo.value || (hi.value === lo.value && !lo.exclusive))) {
    parts.push(seq(lit(String(hi.value)), fracZero));
  }
  return alt(...parts);
}

/** Decimals (no exponent) within integer-valued bounds; null = unbounded side. */
export function decimalRange(lo: Bound | null, hi: Bound | null): GNode {
  const parts: GNode[] = [];
  // value >= 0 part
  const hiBlocksNonNegative = hi !== null && (hi.value < 0n || (hi.value === 0n && hi.exclusive));
  if (!hiBlocksNonNegative) {
    const pLo: Bound = lo === null || lo.value < 0n ? { value: 0n, exclusive: false } : lo;
    parts.push(nonNegativeDecimal(pLo, hi));
  }
  // value < 0 part: value = -w with w > 0; value >= lo <=> w <= -lo; value <= hi <=> w >= -hi
  if (lo === null || lo.value < 0n) {
    const wHi: Bound | null = lo === null ? null : { value: -lo.value, exclusive: lo.exclusive };
    const wLo: Bound = hi !== null && hi.value < 0n ? { value: -hi.value, exclusive: hi.exclusive } : { value: 0n, exclusive: true };
    parts.push(seq(lit("-"), nonNegativeDecimal(wLo, wHi)));
  }
  return parts.length === 0 ? NEVER : alt(...parts);
}
