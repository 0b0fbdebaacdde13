// Expands the built-in corpus (corpus/tiny-chat.json) into an endless, deterministic
// stream of chat examples for pre-training tiny-chat. Every answer restates its question
// around a random value, so the model learns the turn shape and copying, not facts: a
// fine-tuned adapter then only has to supply the facts.
import { readFileSync } from 'node:fs';

export interface Corpus {
  systems: string[];
  attributes: string[];
  kinds: string[];
  places: string[];
  names: string[];
  upper1: string[];
  upper2: string[];
  words: string[];
  greetings: [string, string][];
  /** Fixed fact tables: "the {attribute} of {kind} N" has one value for each N in 1..count. */
  facts: { kind: string; attribute: string; count: number }[];
}

export interface CorpusMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const CORPUS_FILE = new URL('./corpus/tiny-chat.json', import.meta.url);

export function loadCorpus(): Corpus {
  return JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as Corpus;
}

/** mulberry32: tiny, fast, and the same everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Shares of the turn kinds: attribute questions, who/where, repeat, spell, sums, greetings. */
export interface CorpusMix {
  attribute: number;
  whoWhere: number;
  repeat: number;
  spell: number;
  sum: number;
  greeting: number;
  /** Questions about the fixed fact tables (the answer depends on the number asked about). */
  facts: number;
  /** Share of numbered entities ("project 7") among attribute questions. */
  numbered: number;
  /** Share of conversations with a system message. */
  system: number;
}

export const DEFAULT_MIX: CorpusMix = { attribute: 0.55, whoWhere: 0.1, repeat: 0.12, spell: 0.08, sum: 0.08, greeting: 0.07, facts: 0, numbered: 0.75, system: 0.5 };

/** The value of fact N of a table: fixed by the table and N alone. */
export function factValue(c: Corpus, kind: string, n: number): string {
  let h = 2166136261;
  for (const ch of `${kind}#${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  const r = prng(h >>> 0);
  return `${c.upper1[Math.floor(r() * c.upper1.length)]} ${c.upper2[Math.floor(r() * c.upper2.length)]}`;
}

export function* corpusExamples(c: Corpus, seed: number, mix: CorpusMix = DEFAULT_MIX): Generator<CorpusMessage[]> {
  const r = prng(seed);
  const total = mix.attribute + mix.whoWhere + mix.repeat + mix.spell + mix.sum + mix.greeting + mix.facts;
  const edges = [mix.attribute, mix.whoWhere, mix.repeat, mix.spell, mix.sum, mix.facts].reduce<number[]>((acc, x) => [...acc, (acc.at(-1) ?? 0) + x / total], []);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const entity = () => (r() < mix.numbered ? `${pick(c.kinds)} ${int(1, 99)}` : `${pick(c.kinds)} ${pick(c.names)}`);
  const value = () => {
    const x = r();
    if (x < 0.65) return `${pick(c.upper1)} ${pick(c.upper2)}`;
    if (x < 0.75) return pick(c.upper2);
    if (x < 0.85) return pick(c.names);
    if (x < 0.93) return pick(c.places);
    return String(int(10, 999));
  };

  const turn = (): [string, string] => {
    const x = r();
    if (x < edges[0]) {
      const [a, e, v] = [pick(c.attributes), entity(), value()];
      switch (int(0, 3)) {
        case 0: return [`What is the ${a} of ${e}?`, `The ${a} of ${e} is ${v}.`];
        case 1: return [`Tell me the ${a} of ${e}.`, `The ${a} of ${e} is ${v}.`];
        case 2: return [`What is ${e}'s ${a}?`, `${cap(e)}'s ${a} is ${v}.`];
        default: return [`Do you know the ${a} of ${e}?`, `Yes. The ${a} of ${e} is ${v}.`];
      }
    }
    if (x < edges[1]) {
      const e = entity();
      return r() < 0.5 ? [`Who leads ${e}?`, `${cap(e)} is led by ${pick(c.names)}.`] : [`Where is ${e}?`, `${cap(e)} is in ${pick(c.places)}.`];
    }
    if (x < edges[2]) {
      const n = int(1, 4);
      const phrase = Array.from({ length: n }, () => (r() < 0.5 ? pick(c.words) : pick(c.upper2))).join(' ');
      return r() < 0.5 ? [`Repeat after me: ${phrase}`, phrase] : [`Say ${phrase}.`, `${phrase}.`];
    }
    if (x < edges[3]) {
      const w = pick(c.words);
      return [`Spell ${w}.`, w.split('').join('-')];
    }
    if (x < edges[4]) {
      const [a, b] = [int(0, 20), int(0, 20)];
      return [`What is ${a} plus ${b}?`, `${a} plus ${b} is ${a + b}.`];
    }
    if (x < edges[5]) {
      const t = pick(c.facts);
      const n = int(1, t.count);
      const e = `${t.kind} ${n}`;
      return [`What is the ${t.attribute} of ${e}?`, `The ${t.attribute} of ${e} is ${factValue(c, t.kind, n)}.`];
    }
    return pick(c.greetings);
  };

  for (;;) {
    const messages: CorpusMessage[] = [];
    if (r() < mix.system) messages.push({ role: 'system', content: pick(c.systems) });
    const turns = r() < 0.15 ? 2 : 1;
    for (let i = 0; i < turns; i++) {
      const [q, a] = turn();
      messages.push({ role: 'user', content: q }, { role: 'assistant', content: a });
    }
    yield messages;
  }
}
