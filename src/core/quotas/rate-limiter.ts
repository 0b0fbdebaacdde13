// Admission control per deployment (§1.6, §2.7), in memory and keyed per account+deployment.
//
// Window semantics (Standard-like SKUs): both limits are sliding logs, not fixed buckets.
// - Requests: at most `requestsPerWindow` admissions within any 10 s span (Azure enforces
//   RPM over 10 s sub-windows; capacity 1 ⇒ 1 request per 10 s, 6 per minute).
// - Tokens: the charges admitted within any 60 s span sum to at most `tokensPerWindow`. A
//   request is charged at admission (prompt estimate + max_tokens); `settle` replaces that
//   charge with the real usage, so an over-estimate frees budget as soon as the reply is
//   done and an under-estimate (no max_tokens) is charged in full.
// A fixed per-minute bucket would admit up to twice the limit across a minute boundary;
// the sliding log keeps every 60 s span within the limit (save for upward corrections),
// and its retry-after is exact: the moment enough earlier charges leave the window.
//
// Provisioned SKUs: `slots` requests in flight at once, no token cap; `release` frees a slot.
// The interface allows promises so that a shared store (Redis) can replace this one later.
import { IngotError } from "../errors.ts";
import type { RatePolicy } from "./policy.ts";

type MaybePromise<T> = T | Promise<T>;

export interface AdmissionContext {
  /** Azure's operation name: ChatCompletions_Create, Completions_Create, Embeddings_Create. */
  operation: string;
  /** The api-version the request was made with (named in Azure's 429 message). */
  apiVersion: string;
  deployment: string;
  /** Engine sequences the request runs at once (its choices); Provisioned deployments count these. */
  sequences?: number;
}

export interface Admission {
  /** What was charged at admission. */
  readonly estimatedTokens: number;
  /** Replaces the admission charge with the tokens the request really used. */
  settle(actualTokens: number): void;
  /** Ends the request: frees a provisioned slot. Idempotent; call it on every path. */
  release(): void;
}

export interface RateLimitSnapshot {
  kind: "standard" | "provisioned";
  /** Standard: requests per 10 s window. Provisioned: parallel sequences. */
  limitRequests: number;
  remainingRequests: number;
  /** Until the request limit is back to its initial state. */
  resetRequestsMs: number;
  /** Tokens per 60 s; null where there is no token cap (Provisioned). */
  limitTokens: number | null;
  remainingTokens: number | null;
  resetTokensMs: number | null;
}

/** Which limit refused a request; the http layer names it in `policy-id`. */
export type RateLimitKind = "requests" | "tokens" | "sequences";
export type RateLimitError = IngotError & { rateLimit: RateLimitKind };

export interface RateLimiter {
  /** Admits a request or throws IngotError: "rate_limited" (429), or "invalid_request" for a Batch SKU. */
  admit(key: string, policy: RatePolicy, estimatedTokens: number, context: AdmissionContext): MaybePromise<Admission>;
  /** Current limits and what is left; null where the SKU serves no synchronous requests. */
  snapshot(key: string, policy: RatePolicy): MaybePromise<RateLimitSnapshot | null>;
}

export const rateLimitKey = (account: string, deployment: string) => `${account}/${deployment}`;

interface Charge {
  at: number;
  tokens: number;
}

interface KeyState {
  /** Admission times within the request window, oldest first. */
  requests: number[];
  /** Token charges within the token window, oldest first. */
  charges: Charge[];
  /** Provisioned: start time and width of each request in flight. */
  inFlight: Map<number, { at: number; sequences: number }>;
  /** Provisioned: moving average of request durations, to suggest a retry delay. */
  averageMs: number | undefined;
}

const TIER = "AIServices S0";
const QUOTA_LINK = "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.";
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
const secondsText = (ms: number) => (seconds(ms) === 1 ? "1 second" : `${seconds(ms)} seconds`);

export class InMemoryRateLimiter implements RateLimiter {
  #clock: () => number;
  #states = new Map<string, KeyState>();
  #nextId = 0;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  admit(key: string, policy: RatePolicy, estimatedTokens: number, context: AdmissionContext): Admission {
    if (policy.kind === "batch") throw batchRefusal(policy, context);
    const now = this.#clock();
    const state = this.#state(key, policy, now);
    if (policy.kind === "provisioned") return this.#admitProvisioned(state, policy.slots, context, now);

    const estimate = Math.max(0, Math.ceil(estimatedTokens));
    const upfront = upfrontRefusal(policy, estimate, context);
    if (upfront) throw upfront;

    // Requests: with k admitted in the window and room for p, the (k-p)th oldest must leave.
    const k = state.requests.length;
    const requestWait = k >= policy.requestsPerWindow ? state.requests[k - policy.requestsPerWindow] + policy.requestWindowMs - now : 0;
    // Tokens: the oldest charges must leave until this estimate fits.
    let tokenWait = 0;
    const used = sum(state.charges);
    if (used + estimate > policy.tokensPerWindow) {
      let freed = 0;
      for (const c of state.charges) {
        freed += c.tokens;
        if (used - freed + estimate <= policy.tokensPerWindow) {
          tokenWait = c.at + policy.tokenWindowMs - now;
          break;
        }
      }
    }
    if (requestWait > 0 || tokenWait > 0) throw windowRefusal(context, requestWait, tokenWait);

    state.requests.push(now);
    const charge: Charge = { at: now, tokens: estimate };
    state.charges.push(charge);
    return {
      estimatedTokens: estimate,
      settle: (actualTokens: number) => {
        const actual = Math.max(0, Math.ceil(actualTokens)) || 0;
        const at = this.#clock();
        if (at < charge.at + policy.tokenWindowMs) charge.tokens = actual;
        // The admission charge has left the window already: only an excess still counts, from now.
        else if (actual > charge.tokens) {
          state.charges.push({ at, tokens: actual - charge.tokens });
          charge.tokens = actual;
        }
      },
      release: () => {},
    };
  }

  snapshot(key: string, policy: RatePolicy): RateLimitSnapshot | null {
    if (policy.kind === "batch") return null;
    const now = this.#clock();
    const state = this.#state(key, policy, now);
    if (policy.kind === "provisioned") {
      const busy = busySequences(state);
      return {
        kind: "provisioned",
        limitRequests: policy.slots,
        remainingRequests: Math.max(0, policy.slots - busy),
        resetRequestsMs: busy === 0 ? 0 : this.#provisionedWait(state, now),
        limitTokens: null,
        remainingTokens: null,
        resetTokensMs: null,
      };
    }
    const lastRequest = state.requests.at(-1);
    const lastCharge = state.charges.at(-1);
    return {
      kind: "standard",
      limitRequests: policy.requestsPerWindow,
      remainingRequests: Math.max(0, policy.requestsPerWindow - state.requests.length),
      resetRequestsMs: lastRequest === undefined ? 0 : Math.max(0, lastRequest + policy.requestWindowMs - now),
      limitTokens: policy.tokensPerWindow,
      remainingTokens: Math.max(0, policy.tokensPerWindow - sum(state.charges)),
      resetTokensMs: lastCharge === undefined ? 0 : Math.max(0, lastCharge.at + policy.tokenWindowMs - now),
    };
  }

  #admitProvisioned(state: KeyState, slots: number, context: AdmissionContext, now: number): Admission {
    const sequences = provisionedWidth(slots, context);
    if (slots < 1 || busySequences(state) + sequences > slots) throw provisionedRefusal(slots, context, slots < 1 ? undefined : this.#provisionedWait(state, now));
    const id = this.#nextId++;
    state.inFlight.set(id, { at: now, sequences });
    return {
      estimatedTokens: 0,
      settle: () => {},
      release: () => {
        const entry = state.inFlight.get(id);
        if (!entry) return;
        state.inFlight.delete(id);
        const took = Math.max(0, this.#clock() - entry.at);
        state.averageMs = state.averageMs === undefined ? took : 0.8 * state.averageMs + 0.2 * took;
      },
    };
  }

  /** A guess at when a sequence frees up: the average duration less the oldest request's age. */
  #provisionedWait(state: KeyState, now: number): number {
    if (state.averageMs === undefined) return 1000;
    const oldest = Math.min(...[...state.inFlight.values()].map((e) => e.at));
    return Math.round(Math.min(10_000, Math.max(100, state.averageMs - (now - oldest))));
  }

  #state(key: string, policy: RatePolicy, now: number): KeyState {
    let state = this.#states.get(key);
    if (!state) {
      state = { requests: [], charges: [], inFlight: new Map(), averageMs: undefined };
      this.#states.set(key, state);
    }
    if (policy.kind === "standard") {
      let r = 0;
      while (r < state.requests.length && state.requests[r] + policy.requestWindowMs <= now) r++;
      if (r) state.requests.splice(0, r);
      let c = 0;
      while (c < state.charges.length && state.charges[c].at + policy.tokenWindowMs <= now) c++;
      if (c) state.charges.splice(0, c);
    }
    return state;
  }
}

function sum(charges: Charge[]): number {
  let total = 0;
  for (const c of charges) total += c.tokens;
  return total;
}

function busySequences(state: KeyState): number {
  let busy = 0;
  for (const e of state.inFlight.values()) busy += e.sequences;
  return busy;
}

/** The refusal of a synchronous request to a Batch SKU deployment. */
export function batchRefusal(policy: RatePolicy, context: AdmissionContext): IngotError {
  return new IngotError(
    "invalid_request",
    "OperationNotSupported",
    `Deployment '${context.deployment}' has the ${policy.sku} SKU, which serves the Batch API (asynchronous jobs) only, not synchronous ${context.operation} requests. ` +
      "Send this request to a deployment with a Standard or GlobalStandard SKU, or submit it as a batch job: upload a JSONL file of requests with purpose 'batch' (POST /openai/files), then POST /openai/batches with its input_file_id.",
  );
}

const windowPrefix = (context: AdmissionContext) => `Requests to the ${context.operation} Operation under Azure OpenAI API version ${context.apiVersion} have exceeded`;

/** A Standard request refused whatever the windows hold: no capacity, or one request larger than the token limit. */
export function upfrontRefusal(policy: Extract<RatePolicy, { kind: "standard" }>, estimate: number, context: AdmissionContext): RateLimitError | undefined {
  const prefix = windowPrefix(context);
  if (policy.requestsPerWindow < 1)
    return rateLimited("requests", `${prefix} call rate limit of your current ${TIER} pricing tier: deployment '${context.deployment}' has no capacity. Raise its capacity. ${QUOTA_LINK}`);
  if (estimate > policy.tokensPerWindow)
    return rateLimited(
      "tokens",
      `${prefix} token rate limit of your current ${TIER} pricing tier. This request alone is estimated at ${estimate} tokens, more than deployment ` +
        `'${context.deployment}' allows per minute (${policy.tokensPerWindow}): send less (a lower max_tokens, a shorter input) or raise the deployment's capacity. ${QUOTA_LINK}`,
    );
  return undefined;
}

/** The 429 of a Standard request that must wait: the longer wait names the limit, retry-after is exact. */
export function windowRefusal(context: AdmissionContext, requestWait: number, tokenWait: number): RateLimitError {
  const byTokens = tokenWait >= requestWait;
  const wait = Math.max(requestWait, tokenWait, 1);
  return rateLimited(
    byTokens ? "tokens" : "requests",
    `${windowPrefix(context)} ${byTokens ? "token" : "call"} rate limit of your current ${TIER} pricing tier. Please retry after ${secondsText(wait)}. ${QUOTA_LINK}`,
    wait,
  );
}

/** The 429 of a Provisioned request when every sequence is busy; `wait` undefined: no capacity at all. */
export function provisionedRefusal(slots: number, context: AdmissionContext, wait: number | undefined): RateLimitError {
  const retry = wait === undefined ? "Raise the deployment's capacity." : `Please retry after ${secondsText(wait)}, or raise the deployment's capacity.`;
  return rateLimited(
    "sequences",
    `The system is currently experiencing high demand and cannot process your request: all ${slots} provisioned sequences of deployment '${context.deployment}' are busy. ${retry}`,
    wait,
  );
}

/** Sequences a Provisioned request occupies: a request wider than the deployment still runs alone (the engine queues its extra choices). */
export function provisionedWidth(slots: number, context: AdmissionContext): number {
  return Math.min(Math.max(1, context.sequences ?? 1), Math.max(1, slots));
}

function rateLimited(kind: RateLimitKind, message: string, retryAfterMs?: number): RateLimitError {
  return Object.assign(new IngotError("rate_limited", "429", message, { retryAfterMs }), { rateLimit: kind });
}
