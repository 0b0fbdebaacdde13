// Scoring: from matches and context to a 0–7 severity per harm category. All rules are per
// sentence, and a text's severity is its worst sentence's (plus one when several sentences are
// harmful), so a long benign text with one harmful sentence is still caught.
//
// Per harm phrase: its lexicon weight; +2 when it is an act the speaker means to do ("I'm going
// to…", "let's…") or asks/gives instructions for ("how do I…", "step by step"); +1 more for
// violence aimed at a person; −2 (and no boost) when negated ("I would never…"). Per sentence:
// +1 when two or more distinct harm phrases of weight ≥ 3 appear; minus the strongest benign
// setting that applies to the category (code −3, medicine/fiction/games/sport/cooking/help −2,
// news/history/teaching −1; only −1 at most when the sentence asks for or announces the act,
// since "for my novel" is a common pretext). Hate phrases count only next to a protected group
// (or −3 without one), slurs on their own; violence against a group is hate as well. Sexual
// content next to a minor is 7.
import type { HarmCategory } from "../../ports/content-classifier.ts";
import type { CategoryLexicon, PhraseKind } from "./lexicon-types.ts";
import { PatternSet, compilePattern, inflections, type Match } from "./patterns.ts";
import { DOMAIN_DAMP, DOMAIN_OF, GLORIFY, GROUP_PHRASES, GROUP_WORDS, HOWTO, INTENT, REQUEST, MINOR_WORDS, NEGATION, PERSON, SELF, WEAPON, WORD_SETS, type Domain } from "./context.ts";
import { VIOLENCE } from "./lexicon-violence.ts";
import { HATE, SLURS } from "./lexicon-hate.ts";
import { SEXUAL } from "./lexicon-sexual.ts";
import { SELF_HARM } from "./lexicon-self-harm.ts";

interface CompiledCategory {
  patterns: PatternSet;
  kinds: Map<string, PhraseKind>;
  /** inflected key word → words that make it a benign sense */
  senses: Map<string, ReadonlySet<string>>;
  /** settings that lower this category */
  domains: ReadonlySet<Domain>;
}

function compileCategory(lex: CategoryLexicon, domains: Domain[]): CompiledCategory {
  const kinds = new Map<string, PhraseKind>();
  const patterns = lex.entries.map(([src, weight, kind]) => {
    kinds.set(src, kind ?? "act");
    return compilePattern(src, weight, WORD_SETS);
  });
  const senses = new Map<string, ReadonlySet<string>>();
  for (const [key, words] of Object.entries(lex.senses)) {
    if (words.length === 0) continue;
    const set = new Set(words);
    for (const form of inflections(key)) senses.set(form, set);
  }
  // "shot" is also the past of "shoot": it has both words' senses.
  const shoot = senses.get("shoot");
  if (shoot) senses.set("shot", new Set([...(senses.get("shot") ?? []), ...shoot]));
  return { patterns: new PatternSet(patterns), kinds, senses, domains: new Set(domains) };
}

const ALL_DOMAINS: Domain[] = ["computing", "medicine", "report", "fiction", "sport", "cooking", "help"];
export const CATEGORIES: Record<HarmCategory, CompiledCategory> = {
  violence: compileCategory(VIOLENCE, ["computing", "medicine", "report", "fiction", "sport", "cooking"]),
  hate: compileCategory(HATE, ["computing", "report", "fiction"]),
  sexual: compileCategory(SEXUAL, ["computing", "medicine", "report", "fiction"]),
  self_harm: compileCategory(SELF_HARM, ALL_DOMAINS),
};

/** Settings whose damping survives an announced act or a request for instructions. */
const PRETEXT: ReadonlySet<Domain> = new Set(["fiction", "report", "help"]);

export type Severities = Record<HarmCategory, number>;

interface SentenceInfo {
  start: number;
  end: number; // exclusive
  domains: Set<Domain>;
  person: boolean;
  group: boolean;
  minor: boolean;
  self: boolean;
  weapon: boolean;
  glorify: boolean;
  request: boolean;
  intentAt: number[]; // start indexes of non-negated intent cues
  howto: boolean;
}

/** Severity per category for one window of tokens. */
export function scoreTokens(words: readonly string[], sentence: readonly number[], sentences: number): Severities {
  const out: Severities = { hate: 0, sexual: 0, violence: 0, self_harm: 0 };
  if (words.length === 0) return out;
  const info: SentenceInfo[] = [];
  for (let s = 0; s < sentences; s++) info.push({ start: 0, end: 0, domains: new Set(), person: false, group: false, minor: false, self: false, weapon: false, glorify: false, request: false, intentAt: [], howto: false });
  const matches = {} as Record<HarmCategory, Match[]>;
  // Words inside a harm phrase do not also count as its setting ("race war" is not history).
  const inHarm = new Uint8Array(words.length);
  for (const cat of Object.keys(CATEGORIES) as HarmCategory[]) {
    const c = CATEGORIES[cat];
    const list: Match[] = [];
    c.patterns.scan(words, sentence, (m) => {
      if (isBenignSense(m, c, words, sentence)) return;
      list.push(m);
      for (let j = m.start; j <= m.end; j++) inHarm[j] = 1;
    });
    matches[cat] = list;
  }
  for (let i = 0; i < words.length; i++) {
    const s = info[sentence[i]];
    if (i === 0 || sentence[i - 1] !== sentence[i]) s.start = i;
    s.end = i + 1;
    const w = words[i];
    const doms = inHarm[i] ? undefined : DOMAIN_OF.get(w);
    if (doms) for (const d of doms) s.domains.add(d);
    if (PERSON.has(w)) s.person = true;
    if (GROUP_WORDS.has(w)) s.group = true;
    if (MINOR_WORDS.has(w)) s.minor = true;
    if (SELF.has(w)) s.self = true;
    if (WEAPON.has(w)) s.weapon = true;
    if (GLORIFY.has(w)) s.glorify = true;
  }
  GROUP_PHRASES.scan(words, sentence, (m) => (info[sentence[m.start]].group = true));
  HOWTO.scan(words, sentence, (m) => (info[sentence[m.start]].howto = true));
  REQUEST.scan(words, sentence, (m) => (info[sentence[m.start]].request = true));
  INTENT.scan(words, sentence, (m) => {
    // "I will never…", "I don't want to…": not an intent.
    for (let j = m.start; j <= Math.min(m.end + 2, words.length - 1) && sentence[j] === sentence[m.start]; j++) if (NEGATION.has(words[j])) return;
    info[sentence[m.start]].intentAt.push(m.start);
  });

  // "kill myself" is self-harm, not violence.
  if (matches.self_harm.length > 0) {
    matches.violence = matches.violence.filter((v) => !matches.self_harm.some((s) => v.start <= s.end && s.start <= v.end));
  }

  const perSentence = (cat: HarmCategory): number[] => {
    const c = CATEGORIES[cat];
    const sev = new Array<number>(sentences).fill(0);
    const strong = new Array<Set<string>>(sentences);
    const boostedAny = new Array<boolean>(sentences).fill(false);
    const actWeight = new Array<number>(sentences).fill(0);
    for (const m of matches[cat]) {
      const sid = sentence[m.start];
      const s = info[sid];
      let w = m.pattern.weight;
      const kind = c.kinds.get(m.pattern.source);
      const negated = kind !== "state" && isNegated(m, words, sentence);
      let boosted = false;
      const act = kind === "act" || kind === "state";
      if (negated) {
        w -= 2;
      } else if (act) {
        if (s.howto || s.intentAt.some((at) => at < m.start) || (cat === "sexual" && s.request)) {
          // Sexual acts are graded by explicitness more than by intent.
          w += cat === "sexual" ? 1 : 2;
          boosted = true;
          if (cat === "violence" && s.person) w += 1;
        }
        // A weapon in hand or delight in the harm makes a violent act graver.
        if (cat === "violence" && (s.weapon || s.glorify)) w += 1;
        if (w - (boosted ? 2 : 0) > actWeight[sid]) actWeight[sid] = m.pattern.weight;
      } else if (cat === "self_harm" && s.self) {
        // "the lethal dose for someone my weight": a topic turned on oneself.
        w += 1;
        boosted = true;
      }
      if (m.pattern.weight >= 3) (strong[sid] ??= new Set()).add(m.pattern.source);
      if (w > sev[sid]) sev[sid] = w;
      if (boosted) boostedAny[sid] = true;
    }
    for (let sid = 0; sid < sentences; sid++) {
      if (sev[sid] === 0) continue;
      if ((strong[sid]?.size ?? 0) >= 2) sev[sid] += 1;
      // Sexual content involving a minor is the gravest whatever the setting, except reporting.
      if (cat === "sexual" && info[sid].minor && sev[sid] >= 3 && !info[sid].domains.has("report")) {
        sev[sid] = 7;
        continue;
      }
      let damp = 0;
      let pretext = false;
      for (const d of info[sid].domains) {
        if (!c.domains.has(d)) continue;
        const limited = boostedAny[sid] && (PRETEXT.has(d) || (cat === "self_harm" && d === "medicine"));
        const dd = limited ? Math.min(DOMAIN_DAMP[d], 1) : DOMAIN_DAMP[d];
        if (dd > damp) {
          damp = dd;
          pretext = PRETEXT.has(d) && d !== "help";
        }
      }
      sev[sid] -= damp;
      // News, history and fiction that depict an act without asking for it or announcing it:
      // Azure's "low" (a depiction), neither filtered at the default threshold nor "safe".
      if (pretext && !boostedAny[sid]) sev[sid] = Math.min(3, Math.max(sev[sid], actWeight[sid] >= 3 ? 2 : sev[sid]));
    }
    return sev;
  };

  const violence = perSentence("violence");
  const selfHarm = perSentence("self_harm");
  const sexual = perSentence("sexual");
  // Hate: phrases need a group; slurs (weight 5 entries without group) count alone.
  const hateRaw = perSentence("hate");
  const hate = hateRaw.map((v, sid) => {
    const s = info[sid];
    if (s.group) return Math.max(v, violence[sid] >= 3 ? violence[sid] : 0);
    // Without a group, only slurs and slogans are hate ("get rid of the ants" is not).
    return hasSlur(matches.hate, sid, sentence) ? v : Math.min(v - 3, 1);
  });
  out.violence = worst(violence);
  out.self_harm = worst(selfHarm);
  out.sexual = worst(sexual);
  out.hate = worst(hate);
  return out;
}

const SLUR_SOURCES = new Set(SLURS.map(([source]) => source));
function hasSlur(ms: Match[], sid: number, sentence: readonly number[]): boolean {
  return ms.some((m) => sentence[m.start] === sid && SLUR_SOURCES.has(m.pattern.source));
}

/** The worst sentence, +1 when three or more sentences are at least low. */
function worst(sev: number[]): number {
  let max = 0;
  let harmful = 0;
  for (const v of sev) {
    if (v > max) max = v;
    if (v >= 2) harmful++;
  }
  if (harmful >= 3) max += 1;
  return clamp(max);
}

export function clamp(v: number): number {
  return v < 0 ? 0 : v > 7 ? 7 : Math.round(v);
}

function isBenignSense(m: Match, c: CompiledCategory, words: readonly string[], sentence: readonly number[]): boolean {
  const sid = sentence[m.start];
  for (let i = m.start; i <= m.end; i++) {
    const benign = c.senses.get(words[i]);
    if (!benign) continue;
    for (let j = Math.max(0, i - 3); j <= Math.min(words.length - 1, i + 4); j++) {
      if (j === i || sentence[j] !== sid || !benign.has(words[j])) continue;
      // Particles ("punch in", "hang out") make a sense only right after the word.
      if (PARTICLES.has(words[j]) && j !== i + 1) continue;
      return true;
    }
  }
  return false;
}

const PARTICLES = new Set(["in", "out", "up", "on", "off", "at", "over", "around", "back", "down", "together", "for", "it", "me", "them", "a", "take", "took", "loose", "tight", "short", "along", "free"]);

function isNegated(m: Match, words: readonly string[], sentence: readonly number[]): boolean {
  const sid = sentence[m.start];
  for (let j = Math.max(0, m.start - 3); j <= m.end; j++) {
    if (sentence[j] !== sid || !NEGATION.has(words[j])) continue;
    if (j >= m.start && m.pattern.elements.some((e) => e.has(words[j]))) continue;
    return true;
  }
  return false;
}
