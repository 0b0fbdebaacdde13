// Collects named GBNF rules, checks them, and renders the grammar text.
import { ref, renderNode } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";

export type GrammarProblem =
  | { readonly kind: "left-recursion"; readonly rule: string; readonly origin: string }
  | { readonly kind: "unproductive"; readonly rule: string; readonly origin: string };

export class GrammarBuilder {
  readonly #rules = new Map<string, GNode | null>(); // null: reserved, body not defined yet
  readonly #origins = new Map<string, string>(); // rule name -> schema location, for errors
  readonly #byBody = new Map<string, string>();
  readonly #reserved: ReadonlySet<string>;

  /** `reserved` names are only handed out by `ensure` (shared rules with fixed names). */
  constructor(reserved: Iterable<string> = []) {
    this.#reserved = new Set(reserved);
  }

  /** Claims a unique rule name derived from `hint`; define it later (allows recursion). */
  reserve(hint: string, origin = ""): string {
    const base =
      hint
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 48)
        .replace(/-+$/, "") || "r";
    let name = base;
    for (let i = 2; this.#rules.has(name) || this.#reserved.has(name); i++) name = `${base}-${i}`;
    this.#rules.set(name, null);
    this.#origins.set(name, origin);
    return name;
  }

  define(name: string, body: GNode): void {
    if (this.#rules.get(name) !== null) throw new Error(`internal: rule ${name} is not reserved or already defined`);
    this.#rules.set(name, body);
  }

  /** Adds a rule for `body` (reusing an identical existing one) and returns a reference to it. */
  add(hint: string, body: GNode, origin = ""): GNode {
    if (body.kind === "ref") return body;
    const key = JSON.stringify(body);
    const existing = this.#byBody.get(key);
    if (existing) return ref(existing);
    const name = this.reserve(hint, origin);
    this.define(name, body);
    this.#byBody.set(key, name);
    return ref(name);
  }

  /** A shared rule with a fixed name, created on first use. */
  ensure(name: string, make: () => GNode): GNode {
    if (!this.#rules.has(name)) {
      this.#rules.set(name, null); // set first: `make` may refer back to this rule
      this.#rules.set(name, make());
    }
    return ref(name);
  }

  /** The defined rules (for tests and diagnostics). */
  rules(): ReadonlyMap<string, GNode> {
    return this.#definedRules();
  }

  /** Finds left recursion (llama.cpp refuses it) and rules that can never finish. */
  problems(): GrammarProblem[] {
    const rules = this.#definedRules();
    const nullable = fixpoint(rules, (n, get) => nodeNullable(n, get));
    const productive = fixpoint(rules, (n, get) => nodeProductive(n, get));
    const out: GrammarProblem[] = [];
    const state = new Map<string, "active" | "done">();
    const visit = (name: string): string | null => {
      if (state.get(name) === "active") return name;
      if (state.get(name) === "done") return null;
      state.set(name, "active");
      for (const next of leftRefs(rules.get(name)!, (r) => nullable.get(r) ?? false)) {
        const hit = visit(next);
        if (hit) return hit;
      }
      state.set(name, "done");
      return null;
    };
    for (const name of rules.keys()) {
      const hit = visit(name);
      if (hit) {
        out.push({ kind: "left-recursion", rule: hit, origin: this.#origins.get(hit) ?? "" });
        break;
      }
    }
    // Report the rule on the recursive cycle first: that is where the schema must change.
    const stuck = [...rules.keys()].filter((name) => !productive.get(name));
    const onCycle = (name: string): boolean => {
      const seen = new Set<string>();
      const stack = [name];
      while (stack.length > 0) {
        for (const next of allRefs(rules.get(stack.pop()!)!)) {
          if (next === name) return true;
          if (!productive.get(next) && !seen.has(next)) {
            seen.add(next);
            stack.push(next);
          }
        }
      }
      return false;
    };
    stuck.sort((a, b) => Number(onCycle(b)) - Number(onCycle(a)));
    for (const name of stuck) out.push({ kind: "unproductive", rule: name, origin: this.#origins.get(name) ?? "" });
    return out;
  }

  /** GBNF text with `root` first; repeated complex items become `<rule>-rep` rules. */
  render(root: string): string {
    const rules = this.#definedRules();
    if (!rules.has(root)) throw new Error(`internal: root rule ${root} is not defined`);
    const lines: string[] = [];
    const hoisted = new Map<string, string>(); // body key -> name
    // Only rules reachable from the root are written (e.g. not other tools' rules in named mode).
    const reachable = new Set([root]);
    for (const name of reachable) for (const next of allRefs(rules.get(name)!)) reachable.add(next);
    const queue: [string, GNode][] = [...reachable].map((name) => [name, rules.get(name)!]);
    const taken = new Set(rules.keys());
    for (let i = 0; i < queue.length; i++) {
      const [name, body] = queue[i];
      const hoist = (item: GNode): string => {
        const key = JSON.stringify(item);
        let hname = hoisted.get(key);
        if (!hname) {
          hname = `${name}-rep`;
          for (let k = 2; taken.has(hname); k++) hname = `${name}-rep${k}`;
          taken.add(hname);
          hoisted.set(key, hname);
          queue.push([hname, item]);
        }
        return hname;
      };
      lines.push(`${name} ::= ${renderNode(body, hoist)}`);
    }
    return lines.join("\n") + "\n";
  }

  #definedRules(): Map<string, GNode> {
    const out = new Map<string, GNode>();
    for (const [name, body] of this.#rules) {
      if (body === null) throw new Error(`internal: rule ${name} was reserved but never defined`);
      out.set(name, body);
    }
    return out;
  }
}

type Lookup = (rule: string) => boolean;

function fixpoint(rules: Map<string, GNode>, test: (n: GNode, get: Lookup) => boolean): Map<string, boolean> {
  const known = new Map<string, boolean>();
  const get: Lookup = (r) => known.get(r) ?? false;
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, body] of rules) {
      if (!known.get(name) && test(body, get)) {
        known.set(name, true);
        changed = true;
      }
    }
  }
  return known;
}

function nodeNullable(n: GNode, get: Lookup): boolean {
  switch (n.kind) {
    case "lit":
      return n.text === "";
    case "set":
      return false;
    case "ref":
      return get(n.name);
    case "seq":
      return n.items.every((i) => nodeNullable(i, get));
    case "alt":
      return n.items.some((i) => nodeNullable(i, get));
    case "rep":
      return n.min === 0 || nodeNullable(n.item, get);
  }
}

function nodeProductive(n: GNode, get: Lookup): boolean {
  switch (n.kind) {
    case "lit":
    case "set":
      return true;
    case "ref":
      return get(n.name);
    case "seq":
      return n.items.every((i) => nodeProductive(i, get));
    case "alt":
      return n.items.some((i) => nodeProductive(i, get));
    case "rep":
      return n.min === 0 || nodeProductive(n.item, get);
  }
}

function allRefs(n: GNode): string[] {
  if (n.kind === "ref") return [n.name];
  if (n.kind === "seq" || n.kind === "alt") return n.items.flatMap(allRefs);
  return n.kind === "rep" ? allRefs(n.item) : [];
}

/** Rules that can be entered before any character is consumed. */
function leftRefs(n: GNode, nullable: Lookup): string[] {
  switch (n.kind) {
    case "lit":
    case "set":
      return [];
    case "ref":
      return [n.name];
    case "alt":
    case "rep":
      return (n.kind === "alt" ? n.items : [n.item]).flatMap((i) => leftRefs(i, nullable));
    case "seq": {
      const out: string[] = [];
      for (const item of n.items) {
        out.push(...leftRefs(item, nullable));
        if (!nodeNullable(item, nullable)) break;
      }
      return out;
    }
  }
}
