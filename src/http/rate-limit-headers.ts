// x-ratelimit-* headers on every data-plane reply for a resolved deployment (§2.7).
//
// Formats: counts are integers; the reset headers are whole seconds, rounded up, as Azure
// sends them (`x-ratelimit-reset-tokens: 55`; clients read them as an int of seconds).
// OpenAI's own API writes durations ("6s", "120ms") instead — Azure's form wins here.
// `x-ratelimit-limit-requests` is the per-10-second window (= capacity), the way Azure
// reports it (8 on an 8K-TPM deployment), not the per-minute figure.
// Provisioned deployments report their parallel sequences as the request limit and send
// no token headers: they have no token cap to report.
import type { FastifyReply } from "fastify";
import type { CallOptions } from "../core/generation/service.ts";
import type { RateLimitError, RateLimitSnapshot } from "../core/quotas/rate-limiter.ts";
import { isIngotError } from "../core/errors.ts";

const seconds = (ms: number) => String(Math.ceil(ms / 1000));

export function rateLimitHeaders(s: RateLimitSnapshot): Record<string, string> {
  const h: Record<string, string> = {
    "x-ratelimit-limit-requests": String(s.limitRequests),
    "x-ratelimit-remaining-requests": String(s.remainingRequests),
    "x-ratelimit-reset-requests": seconds(s.resetRequestsMs),
  };
  if (s.limitTokens !== null) h["x-ratelimit-limit-tokens"] = String(s.limitTokens);
  if (s.remainingTokens !== null) h["x-ratelimit-remaining-tokens"] = String(s.remainingTokens);
  if (s.resetTokensMs !== null) h["x-ratelimit-reset-tokens"] = seconds(s.resetTokensMs);
  return h;
}

/** Call options that put the deployment's limits on `reply` (before any SSE frame goes out). */
export function limitsOnReply(reply: FastifyReply, apiVersion: string | undefined): CallOptions {
  return { apiVersion, onLimits: (s) => void reply.headers(rateLimitHeaders(s)) };
}

/** Names the refusing limit as Azure does; a request that can never fit must not be retried. */
export function rateLimitErrorHeaders(e: unknown): Record<string, string> {
  if (!isIngotError(e) || e.kind !== "rate_limited") return {};
  const kind = (e as RateLimitError).rateLimit;
  const h: Record<string, string> = {};
  if (kind === "tokens") h["policy-id"] = "DeploymentRatelimit-Token";
  else if (kind === "requests") h["policy-id"] = "DeploymentRatelimit-Call";
  if (e.retryAfterMs === undefined) h["x-should-retry"] = "false";
  return h;
}

export const hasRateLimitHeaders = (reply: FastifyReply) => reply.hasHeader("x-ratelimit-limit-requests");
