// A static check that a blocklist regex cannot backtrack catastrophically. JavaScript's regex
// engine backtracks: a pattern such as (a+)+$ takes time exponential in the length of a text of
// a's, and one blocklist item like that would let any prompt stall the server. Blocklist regexes
// are the operator's, the text is anyone's, so the pattern is checked when it is written:
//   1. no nested quantifiers: a group repeated by *, +, {n,} or {n,m} (m > 1) must not itself
//      contain a variable repetition (*, +, {n,}, {n,m} with m > n): (a+)+, (\w+\s?)*, (.*a){10};
//   2. no overlapping alternation under repetition: the alternatives of a group inside a repeated
//      group must not be able to start with the same character, nor match nothing: (a|ab)*, (\w|\d)+;
//   3. a bounded amount of polynomial backtracking: a variable quantifier that can also match what
//      follows it (.* in a.*b, \d+ in \d+\d*x, a? in a?a?a?aaa) can stop at many places with the
//      rest still matching; the worst-case steps on one window of text (window starts × the
//      product of those quantifiers' spans × the other quantifiers' spans) must stay within
//      REGEX_STEP_BUDGET. One .* followed by what it can match passes (a.*b); two do not
//      (a.*b.*c: write a.{0,20}b.{0,20}c).
// Matching runs on bounded windows of the text (blocklists.ts), so spans are at most a window and
// time is linear in the text's length. The check is conservative: some safe patterns are refused
// (the message says how to rewrite them).

/** Worst-case backtracking steps one regex may take on one window of text (about a millisecond). */
export const REGEX_STEP_BUDGET = 500_000;

/** Characters used to decide whether two character sets overlap: printable ASCII, whitespace and a few non-ASCII letters. */
const SAMPLES: string[] = (() => {
  const out = ["\t", "\n", "\r", "\u00a0", "é", "ß", "Ж", "中", "\u2028", "\u0000"];
  for (let c = 0x20; c < 0x7f; c++) out.push(String.fromCharCode(c));
  return out;
})();

type Quant = { min: number; max: number };
type Node =
  | { kind: "char"; src: string }
  | { kind: "group"; alts: Term[][]; lookaround: boolean }
  | { kind: "assert" }
  | { kind: "backref" };
type Term = { node: Node; q?: Quant; src: string };

/** Why a pattern is refused, for the message: the rule and the offending part. */
export class UnsafeRegex extends Error {
  readonly rule: "nested-quantifier" | "overlapping-alternation" | "polynomial-backtracking";
  constructor(rule: UnsafeRegex["rule"], message: string) {
    super(message);
    this.rule = rule;
  }
}

class Parser {
  i = 0;
  readonly p: string;
  constructor(p: string) {
    this.p = p;
  }

  /** Just past the next `ch` (or the end): never stands still, whatever the legacy syntax allows (`\\k<` with no `>`). */
  past(ch: string, from: number): number {
    const at = this.p.indexOf(ch, from);
    return at < 0 ? this.p.length : at + 1;
  }

  alternation(): Term[][] {
    const alts = [this.sequence()];
    while (this.p[this.i] === "|") {
      this.i++;
      alts.push(this.sequence());
    }
    return alts;
  }

  sequence(): Term[] {
    const terms: Term[] = [];
    while (this.i < this.p.length && this.p[this.i] !== "|" && this.p[this.i] !== ")") {
      const start = this.i;
      const node = this.atom();
      const q = this.quantifier();
      if (this.i === start) this.i++; // unreachable for a pattern that compiled; a guard against looping
      terms.push({ node, q, src: this.p.slice(start, this.i) });
    }
    return terms;
  }

  atom(): Node {
    const p = this.p;
    const c = p[this.i];
    if (c === "(") {
      this.i++;
      let lookaround = false;
      if (p.startsWith("?:", this.i)) this.i += 2;
      else if (p.startsWith("?=", this.i) || p.startsWith("?!", this.i)) (this.i += 2), (lookaround = true);
      else if (p.startsWith("?<=", this.i) || p.startsWith("?<!", this.i)) (this.i += 3), (lookaround = true);
      else if (p.startsWith("?<", this.i)) this.i = this.past(">", this.i);
      else if (p[this.i] === "?") {
        // Modifiers such as (?i:…): skip to the colon.
        this.i = this.past(":", this.i);
      }
      const alts = this.alternation();
      if (p[this.i] === ")") this.i++;
      return { kind: "group", alts, lookaround };
    }
    if (c === "[") {
      let j = this.i + 1;
      while (j < p.length && p[j] !== "]") j += p[j] === "\\" ? 2 : 1;
      const src = p.slice(this.i, j + 1);
      this.i = j + 1;
      return { kind: "char", src };
    }
    if (c === "\\") {
      const d = p[this.i + 1] ?? "";
      if (d === "b" || d === "B") return (this.i += 2), { kind: "assert" };
      if (/[1-9]/.test(d)) {
        this.i += 2;
        while (/[0-9]/.test(p[this.i] ?? "")) this.i++;
        return { kind: "backref" };
      }
      if (d === "k" && p[this.i + 2] === "<") return (this.i = this.past(">", this.i)), { kind: "backref" };
      const start = this.i;
      this.i += 2;
      if (d === "u" && p[this.i] === "{") this.i = this.past("}", this.i);
      else if (d === "u" && /^[0-9a-fA-F]{4}/.test(p.slice(this.i))) this.i += 4;
      else if (d === "x" && /^[0-9a-fA-F]{2}/.test(p.slice(this.i))) this.i += 2;
      else if (d === "c" && /[a-zA-Z]/.test(p[this.i] ?? "")) this.i += 1;
      else if ((d === "p" || d === "P") && p[this.i] === "{") this.i = this.past("}", this.i);
      return { kind: "char", src: p.slice(start, this.i) };
    }
    if (c === "^" || c === "$") return this.i++, { kind: "assert" };
    const cp = p.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return { kind: "char", src: ch === "." ? "." : ch.replace(/[{}]/g, "\\$&") };
  }

  quantifier(): Quant | undefined {
    const p = this.p;
    let q: Quant | undefined;
    const c = p[this.i];
    if (c === "*") q = { min: 0, max: Infinity };
    else if (c === "+") q = { min: 1, max: Infinity };
    else if (c === "?") q = { min: 0, max: 1 };
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(this.i));
      if (!m) return undefined; // a literal brace (outside unicode mode)
      const min = Number(m[1]);
      q = { min, max: m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]) };
      this.i += m[0].length - 1;
    }
    if (!q) return undefined;
    this.i++;
    if (p[this.i] === "?") this.i++; // lazy: the same worst case
    return q;
  }
}

/** Which sample characters one single-character matcher accepts (a bit set over SAMPLES). */
function charSet(src: string, flags: string, cache: Map<string, boolean[]>): boolean[] {
  let set = cache.get(src);
  if (set) return set;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${src})$`, flags);
  } catch {
    set = SAMPLES.map(() => true); // unknown: assume it overlaps everything
    cache.set(src, set);
    return set;
  }
  set = SAMPLES.map((s) => re.test(s));
  cache.set(src, set);
  return set;
}

const overlaps = (a: boolean[], b: boolean[]) => a.some((x, k) => x && b[k]);
const union = (a: boolean[], b: boolean[]) => a.map((x, k) => x || b[k]);
const ALL = SAMPLES.map(() => true);
const NONE = SAMPLES.map(() => false);

const repeats = (q: Quant | undefined) => q !== undefined && q.max > 1;
const varies = (q: Quant | undefined) => q !== undefined && q.max > 1 && q.min !== q.max;

function nullableTerm(t: Term): boolean {
  if (t.q?.min === 0) return true;
  const n = t.node;
  if (n.kind === "assert" || n.kind === "backref") return true;
  if (n.kind === "group") return n.lookaround || n.alts.some((alt) => alt.every(nullableTerm));
  return false;
}

function describeQuant(t: Term): string {
  return t.src.length > 60 ? `${t.src.slice(0, 57)}...` : t.src;
}

/** Throws UnsafeRegex when `pattern` (already known to compile with `flags`) breaks one of the rules above. */
export function checkRegexSafety(pattern: string, flags = "", window = 512, budget = REGEX_STEP_BUDGET): void {
  const parser = new Parser(pattern);
  const root = parser.alternation();
  const cache = new Map<string, boolean[]>();
  const setOf = (src: string) => charSet(src, flags.replace(/[gy]/g, ""), cache);

  /** The sample characters a sequence can start with. */
  const first = (seq: Term[]): boolean[] => {
    let acc = NONE;
    for (const t of seq) {
      const n = t.node;
      if (n.kind === "backref") return ALL;
      if (n.kind === "char") acc = union(acc, setOf(n.src));
      else if (n.kind === "group" && !n.lookaround) for (const alt of n.alts) acc = union(acc, first(alt));
      if (!nullableTerm(t)) return acc;
    }
    return acc;
  };

  const hasVariable = (alts: Term[][]): Term | undefined => {
    for (const alt of alts)
      for (const t of alt) {
        if (varies(t.q)) return t;
        if (t.node.kind === "group") {
          const inner = hasVariable(t.node.alts);
          if (inner) return inner;
        }
      }
    return undefined;
  };

  /** Alternations anywhere inside a repeated group. */
  const checkAlternations = (alts: Term[][], outer: Term) => {
    if (alts.length > 1) {
      for (let a = 0; a < alts.length; a++) {
        if (alts[a].every(nullableTerm))
          throw new UnsafeRegex(
            "overlapping-alternation",
            `an alternative that can match nothing inside the repeated group ${describeQuant(outer)}: under a quantifier, every alternative must match at least one character`,
          );
        for (let b = a + 1; b < alts.length; b++)
          if (overlaps(first(alts[a]), first(alts[b])))
            throw new UnsafeRegex(
              "overlapping-alternation",
              `alternatives that can start with the same character inside the repeated group ${describeQuant(outer)}: under a quantifier, alternatives must not overlap (write (a|ab)* as (ab?)* or a(b|c) instead of (ab|ac))`,
            );
      }
    }
    for (const alt of alts) for (const t of alt) if (t.node.kind === "group") checkAlternations(t.node.alts, outer);
  };

  const visit = (alts: Term[][]) => {
    for (const seq of alts)
      for (const t of seq) {
        if (t.node.kind !== "group") continue;
        if (repeats(t.q)) {
          const inner = hasVariable(t.node.alts);
          if (inner)
            throw new UnsafeRegex(
              "nested-quantifier",
              `nested quantifiers: ${describeQuant(inner)} is repeated inside ${describeQuant(t)}; a repeated group must not contain *, + or {n,m} (write (a+)+ as a+, (\\w+\\s?)* as [\\w\\s]*)`,
            );
          checkAlternations(t.node.alts, t);
        }
        visit(t.node.alts);
      }
  };
  visit(root);

  // Rule 3, the polynomial cases, by counting: a variable quantifier whose characters overlap
  // what may follow it can stop at many places with the rest still matching, so the engine tries
  // each; those multiply. Quantifiers followed by something they cannot match give back at most
  // their span once (added). Worst-case steps on one window = window starts × product × sum.
  const firstOfTerm = (t: Term): boolean[] => {
    const n = t.node;
    if (n.kind === "char") return setOf(n.src);
    if (n.kind === "backref") return ALL;
    if (n.kind === "group" && !n.lookaround) return n.alts.map(first).reduce(union, NONE);
    return NONE;
  };
  const spanOf = (q: Quant | undefined) => (q ? Math.max(0, Math.min(q.max, window) - q.min) : 0);
  const costOf = (alts: Term[][]) => {
    const ambiguous: { t: Term; span: number }[] = [];
    let linear = 0;
    const analyse = (seq: Term[], followAfter: boolean[]) => {
      let follow = followAfter;
      for (let k = seq.length - 1; k >= 0; k--) {
        const t = seq[k];
        const own = firstOfTerm(t);
        if (t.node.kind === "group") {
          const after = t.node.lookaround ? NONE : repeats(t.q) ? union(follow, own) : follow;
          for (const alt of t.node.alts) analyse(alt, after);
        }
        const span = spanOf(t.q);
        if (span > 0) {
          if (overlaps(t.node.kind === "group" ? t.node.alts.map(first).reduce(union, NONE) : own, follow)) ambiguous.push({ t, span });
          else linear += span;
        }
        follow = nullableTerm(t) ? union(own, follow) : own;
      }
    };
    for (const alt of alts) analyse(alt, NONE);
    const product = ambiguous.reduce((p, a) => p * (a.span + 1), 1);
    return { steps: window * product * (1 + Math.min(window, linear)), ambiguous };
  };
  // Top-level alternatives are tried one after another: their costs add, the largest decides.
  for (const alt of root) {
    const { steps, ambiguous } = costOf([alt]);
    if (steps > budget)
      throw new UnsafeRegex(
        "polynomial-backtracking",
        `${ambiguous.map((a) => describeQuant(a.t)).join(", ")} can${ambiguous.length > 1 ? " each" : ""} stop at many places and still let what follows match, which could take about ${steps.toExponential(1)} steps on ${window} characters (at most ${budget.toExponential(1)}); bound them (.{0,20} instead of .*) or make what follows exclusive ([^x]*x, \\w+\\s+\\w+)`,
      );
  }
}
