// String `format`s we can enforce. Each grammar is a subset of the valid values
// (e.g. February has at most 28 days, no leap seconds), so anything generated validates.
import { alt, chars, lit, opt, range, rep, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import { intRange } from "./numberRanges.ts";

export type FormatGrammar = {
  /** The string contents (without quotes); only ASCII characters needing no escape. */
  readonly node: GNode;
  /** Length range of generated values, used to check minLength/maxLength. */
  readonly minLength: number;
  readonly maxLength: number;
};

const D = range("0", "9");
const digits = (n: number): GNode => rep(D, n, n);
const HEX = chars([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]);
const hexes = (n: number): GNode => rep(HEX, n, n);

const day = (max: 28 | 30 | 31): GNode =>
  alt(
    seq(lit("0"), range("1", "9")),
    seq(lit("1"), D),
    seq(lit("2"), max === 28 ? range("0", "8") : D),
    ...(max === 30 ? [lit("30")] : max === 31 ? [seq(lit("3"), range("0", "1"))] : []),
  );

const DATE = seq(
  digits(4),
  lit("-"),
  alt(
    seq(alt(...["01", "03", "05", "07", "08", "10", "12"].map(lit)), lit("-"), day(31)),
    seq(alt(...["04", "06", "09", "11"].map(lit)), lit("-"), day(30)),
    seq(lit("02-"), day(28)),
  ),
);

const HOUR = alt(seq(range("0", "1"), D), seq(lit("2"), range("0", "3")));
const MINUTE = seq(range("0", "5"), D);
const TIME = seq(
  HOUR, lit(":"), MINUTE, lit(":"), MINUTE,
  opt(seq(lit("."), rep(D, 1, 9))),
  alt(lit("Z"), seq(chars([[0x2b, 0x2b], [0x2d, 0x2d]]), HOUR, lit(":"), MINUTE)),
);

const UUID = seq(hexes(8), lit("-"), hexes(4), lit("-"), hexes(4), lit("-"), hexes(4), lit("-"), hexes(12));

// Conservative e-mail: dot-atoms of [A-Za-z0-9_+-], a domain of 1-4 labels and an
// alphabetic TLD; at most 163 characters (local part <= 50).
const ALNUM = chars([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]);
const ATOM = rep(chars([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f], [0x2b, 0x2b], [0x2d, 0x2d]]), 1, 16);
const LABEL = seq(ALNUM, opt(seq(rep(chars([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x2d, 0x2d]]), 0, 22), ALNUM)));
const EMAIL = seq(
  ATOM, rep(seq(lit("."), ATOM), 0, 2),
  lit("@"),
  LABEL, rep(seq(lit("."), LABEL), 0, 3),
  lit("."), rep(chars([[0x41, 0x5a], [0x61, 0x7a]]), 2, 12),
);

const OCTET = intRange(0n, 255n);
const IPV4 = seq(OCTET, lit("."), OCTET, lit("."), OCTET, lit("."), OCTET);

const FORMATS: Record<string, FormatGrammar> = {
  date: { node: DATE, minLength: 10, maxLength: 10 },
  time: { node: TIME, minLength: 9, maxLength: 24 },
  "date-time": { node: seq(DATE, lit("T"), TIME), minLength: 20, maxLength: 35 },
  uuid: { node: UUID, minLength: 36, maxLength: 36 },
  email: { node: EMAIL, minLength: 6, maxLength: 163 },
  ipv4: { node: IPV4, minLength: 7, maxLength: 15 },
};

export const SUPPORTED_FORMATS: readonly string[] = Object.keys(FORMATS);

export function formatGrammar(format: string): FormatGrammar | null {
  return Object.hasOwn(FORMATS, format) ? FORMATS[format] : null;
}
