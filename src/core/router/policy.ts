// The model router's rule (issue 15 item 4, reference azure-api-2 §4): which of the account's
// chat deployments serves one request, and in which order the others are tried if it fails.
//
// Estimates per request: prompt tokens (+ max_tokens: the candidate's context must hold both)
// and a difficulty in [0, 1] from the text (difficultyOf). Per candidate: a capability q in
// [0, 1], a price per 1M tokens, its context length and its measured speed. A candidate of
// capability q is expected to answer a request of difficulty d with quality 1 − d·(1 − q):
// every model does an easy request well, only capable ones a hard one.
//   quality:  the highest expected quality (most capable) that fits; ties: faster, then cheaper.
//   balanced: the cheapest whose expected quality is within BALANCED_MARGIN of the best.
//   cost:     the cheapest within COST_MARGIN of the best (capable enough for the difficulty).
// Among equal prices the faster measured model wins. Pure functions: no I/O.
import type { ModelRef } from "../ports/index.ts";

export type RoutingMode = "balanced" | "cost" | "quality";
export const ROUTING_MODES: readonly RoutingMode[] = ["balanced", "cost", "quality"];

/** A router deployment's `properties.routing`. */
export interface RoutingConfig {
  mode: RoutingMode;
  /** The models it may route to; absent: every chat deployment of the account. */
  models?: ModelRef[];
}

/** Azure's margins (reference §4): balanced ~1–2% of the best quality, cost ~5–6%. */
export const BALANCED_MARGIN = 0.02;
export const COST_MARGIN = 0.06;

export interface RouteCandidate {
  deployment: string;
  model: string;
  contextLength: number;
  /** Capability in [0, 1] (capabilityOf). */
  capability: number;
  /** USD per 1M tokens (catalog price, else a proxy from size: priceOf). */
  price: number;
  /** Measured completion tokens per second; undefined until the model has served a request. */
  tokensPerSecond?: number;
}

export interface RouteRequest {
  promptTokens: number;
  /** The most the request may generate (0: not set). */
  maxTokens: number;
  difficulty: number;
}

export type RouteReason = "most_capable" | "cheapest_within_margin" | "cheapest_capable";

export interface RoutePlan {
  /** Candidates to try, first the chosen one. */
  order: RouteCandidate[];
  reason: RouteReason;
  /** Candidates left out, with why (context too small). */
  excluded: { deployment: string; why: string }[];
}

/**
 * Difficulty in [0, 1], a cheap text heuristic: length (up to 0.3 at ~2,000 tokens), code
 * (fenced blocks or code-like lines: 0.2), math (equations, LaTeX, math words: 0.2), multi-step
 * wording ("step by step", "explain why", "compare", "prove", …: 0.05 each, up to 0.2) and
 * several questions (0.05 per question after the first, up to 0.1).
 */
export function difficultyOf(text: string, promptTokens: number): number {
  let d = 0.3 * Math.min(1, promptTokens / 2000);
  if (/```|^\s*(def |function |class |import |#include|public static|SELECT )/m.test(text)) d += 0.2;
  if (/\\(frac|sum|int|sqrt)|\b(integral|derivative|equation|theorem|prove|matrix|probability)\b|\d+\s*[-+*/^=]\s*\d+/i.test(text)) d += 0.2;
  const steps = text.match(/\b(step by step|step-by-step|explain why|reason|analy[sz]e|compare|derive|justify|plan|trade-?offs?|first,|then,|finally)\b/gi)?.length ?? 0;
  d += Math.min(0.2, 0.05 * steps);
  const questions = text.match(/\?/g)?.length ?? 0;
  d += Math.min(0.1, 0.05 * Math.max(0, questions - 1));
  return Math.min(1, Math.round(d * 1000) / 1000);
}

/** Capability from the parameter count (≈ bytes of an 8-bit file): 1 M parameters → 0, 100 B → 1, log scale. */
export function capabilityOf(parameters: number): number {
  return Math.max(0, Math.min(1, (Math.log10(Math.max(1, parameters)) - 6) / 5));
}

/** USD per 1M tokens: the catalog's price (mean of input and output), else ~$0.10 per billion parameters. */
export function priceOf(price: { input: number; output: number } | undefined, parameters: number): number {
  return price ? (price.input + price.output) / 2 : Math.max(0.001, (parameters / 1e9) * 0.1);
}

const expected = (c: RouteCandidate, difficulty: number) => 1 - difficulty * (1 - c.capability);
const faster = (a: RouteCandidate, b: RouteCandidate) => (b.tokensPerSecond ?? 0) - (a.tokensPerSecond ?? 0);
/** Cheaper first; prices within 5% count as equal, then the faster first. */
const cheaper = (a: RouteCandidate, b: RouteCandidate) => (Math.abs(a.price - b.price) > 0.05 * Math.max(a.price, b.price) ? a.price - b.price : faster(a, b));

/** Orders the candidates for one request; throws (via `tooLong`) when none has the context for it. */
export function plan(mode: RoutingMode, candidates: RouteCandidate[], req: RouteRequest): RoutePlan {
  const need = req.promptTokens + req.maxTokens;
  const excluded = candidates.filter((c) => c.contextLength < need).map((c) => ({ deployment: c.deployment, why: `context ${c.contextLength} < ${need} tokens (prompt + max_tokens)` }));
  const fit = candidates.filter((c) => c.contextLength >= need);
  const byQuality = [...fit].sort((a, b) => b.capability - a.capability || faster(a, b) || a.price - b.price);
  if (mode === "quality" || fit.length === 0) return { order: byQuality, reason: "most_capable", excluded };
  const best = expected(byQuality[0], req.difficulty);
  const margin = mode === "balanced" ? BALANCED_MARGIN : COST_MARGIN;
  const good = fit.filter((c) => expected(c, req.difficulty) >= best - margin - 1e-9).sort(cheaper);
  const rest = byQuality.filter((c) => !good.includes(c));
  return { order: [...good, ...rest], reason: mode === "balanced" ? "cheapest_within_margin" : "cheapest_capable", excluded };
}
