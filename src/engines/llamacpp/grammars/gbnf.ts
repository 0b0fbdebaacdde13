// A tiny GBNF syntax tree. Grammars are built as trees (not strings) so that we can
// check them (left recursion, rules with no finite expansion) before llama.cpp sees them,
// and so that repetition counts beyond llama.cpp's limits are rewritten safely.

export type CpRange = readonly [number, number];

export type GNode =
  | { readonly kind: "lit"; readonly text: string }
  | { readonly kind: "set"; readonly ranges: readonly CpRange[] }
  | { readonly kind: "ref"; readonly name: string }
  | { readonly kind: "seq"; readonly items: readonly GNode[] }
  | { readonly kind: "alt"; readonly items: readonly GNode[] }
  | { readonly kind: "rep"; readonly item: GNode; readonly min: number; readonly max: number | null };

/** Matches only the empty string. */
export const EMPTY: GNode = { kind: "lit", text: "" };
/** Matches nothing (empty language). Never rendered: compilers turn it into an error. */
export const NEVER: GNode = { kind: "alt", items: [] };

export const isNever = (n: GNode): boolean => n.kind === "alt" && n.items.length === 0;
export const isEmpty = (n: GNode): boolean => n.kind === "lit" && n.text === "";

export const lit = (text: string): GNode => ({ kind: "lit", text });
export const ref = (name: string): GNode => ({ kind: "ref", name });

/** Character set from code point ranges (sorted and merged here). */
export function chars(ranges: readonly CpRange[]): GNode {
  const sorted = [...ranges].filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out.length === 0 ? NEVER : { kind: "set", ranges: out };
}

/** `[a-b]` for single characters, e.g. range("0", "9"). */
export const range = (from: string, to: string): GNode => chars([[from.codePointAt(0)!, to.codePointAt(0)!]]);

export function seq(...items: GNode[]): GNode {
  const out: GNode[] = [];
  for (const item of items) {
    if (isNever(item)) return NEVER;
    if (isEmpty(item)) continue;
    for (const part of item.kind === "seq" ? item.items : [item]) {
      const last = out[out.length - 1];
      // Adjacent literals merge so the rendered grammar stays readable.
      if (last?.kind === "lit" && part.kind === "lit") out[out.length - 1] = lit(last.text + part.text);
      else out.push(part);
    }
  }
  if (out.length === 0) return EMPTY;
  return out.length === 1 ? out[0] : { kind: "seq", items: out };
}

export function alt(...items: GNode[]): GNode {
  const out: GNode[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    for (const part of item.kind === "alt" ? item.items : [item]) {
      const key = JSON.stringify(part);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(part);
      }
    }
  }
  return out.length === 1 ? out[0] : { kind: "alt", items: out };
}

// llama.cpp rejects {m} with m > 2000 and silently turns {m,n} with n > 2000 into
// {m,} (unbounded!), so larger counts are rewritten with 1000-item chunks.
const REP_LIMIT = 2000;
const CHUNK = 1000;

export function rep(item: GNode, min: number, max: number | null): GNode {
  if (max !== null && max < min) return NEVER;
  if (max === 0) return EMPTY;
  if (isNever(item)) return min === 0 ? EMPTY : NEVER;
  if (isEmpty(item)) return EMPTY;
  if (min === 1 && max === 1) return item;
  if (min > REP_LIMIT || (max !== null && max > REP_LIMIT)) return bigRep(item, min, max);
  return { kind: "rep", item, min, max };
}

export const opt = (item: GNode): GNode => rep(item, 0, 1);

function bigRep(item: GNode, min: number, max: number | null): GNode {
  const chunk = rep(item, CHUNK, CHUNK);
  const q = Math.floor(min / CHUNK);
  const required = seq(rep(chunk, q, q), rep(item, min % CHUNK, min % CHUNK));
  if (max === null) return seq(required, rep(item, 0, null));
  const extra = max - min;
  if (extra <= REP_LIMIT) return seq(required, rep(item, 0, extra));
  // 0..extra items, split unambiguously into (fewer than eq full chunks + <1000) | (eq chunks + <=rest).
  const eq = Math.floor(extra / CHUNK);
  const optional = alt(
    seq(rep(chunk, 0, eq - 1), rep(item, 0, CHUNK - 1)),
    seq(rep(chunk, eq, eq), rep(item, 0, extra % CHUNK)),
  );
  return seq(required, optional);
}

// ---- rendering ----

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, "0");

function escapeLiteralChar(ch: string): string {
  if (ch === '"') return '\\"';
  if (ch === "\\") return "\\\\";
  if (ch === "\n") return "\\n";
  if (ch === "\t") return "\\t";
  if (ch === "\r") return "\\r";
  const cp = ch.codePointAt(0)!;
  return cp < 0x20 || cp === 0x7f ? `\\x${hex(cp, 2)}` : ch;
}

function escapeSetChar(cp: number): string {
  if (/^[0-9A-Za-z]$/.test(String.fromCodePoint(cp))) return String.fromCodePoint(cp);
  if (cp < 0x100) return `\\x${hex(cp, 2)}`;
  return cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

export function renderLiteral(text: string): string {
  return `"${Array.from(text, escapeLiteralChar).join("")}"`;
}

function renderSet(ranges: readonly CpRange[]): string {
  const body = ranges.map(([a, b]) => (a === b ? escapeSetChar(a) : `${escapeSetChar(a)}-${escapeSetChar(b)}`));
  return `[${body.join("")}]`;
}

function suffix(min: number, max: number | null): string {
  if (min === 0 && max === 1) return "?";
  if (min === 0 && max === null) return "*";
  if (min === 1 && max === null) return "+";
  if (max === min) return `{${min}}`;
  return `{${min},${max ?? ""}}`;
}

/**
 * How many helper rules llama.cpp creates while parsing `node` inline. It refuses a
 * repetition when (helper rules inside the repeated group) x (repetition count) > 2000.
 */
function helperRules(node: GNode): number {
  switch (node.kind) {
    case "seq":
    case "alt":
      return 1 + node.items.reduce((n, i) => n + helperRules(i), 0);
    case "rep":
      return (node.max === null ? 1 : node.max - node.min) + helperRules(node.item);
    default:
      return 0;
  }
}

/**
 * Renders one rule body. `hoist` turns a complex repeated item into a named rule, which
 * keeps llama.cpp's repetition budget small; ?, * and + of small groups stay inline.
 */
export function renderNode(node: GNode, hoist: (item: GNode) => string, nested = false): string {
  switch (node.kind) {
    case "lit":
      return renderLiteral(node.text);
    case "set":
      return renderSet(node.ranges);
    case "ref":
      return node.name;
    case "seq":
      return node.items.map((i) => renderNode(i, hoist, true)).join(" ");
    case "alt": {
      if (node.items.length === 0) throw new Error("internal: cannot render an empty alternative");
      const body = node.items.map((i) => renderNode(i, hoist, false)).join(" | ");
      return nested ? `(${body})` : body;
    }
    case "rep": {
      const simple = node.item.kind === "lit" || node.item.kind === "set" || node.item.kind === "ref";
      const once = node.min <= 1 && (node.max === null || node.max === 1);
      let atom: string;
      if (simple) atom = renderNode(node.item, hoist, true);
      else if (once && helperRules(node.item) < 500) atom = `(${renderNode(node.item, hoist, false)})`;
      else atom = hoist(node.item);
      return atom + suffix(node.min, node.max);
    }
  }
}
