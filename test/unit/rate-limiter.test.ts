// The in-memory rate limiter with a fake clock: window arithmetic, settle corrections,
// provisioned slots and the Batch refusal.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { policyFor } from "../../src/core/quotas/policy.ts";
import { InMemoryRateLimiter } from "../../src/core/quotas/rate-limiter.ts";
import type { RateLimitError } from "../../src/core/quotas/rate-limiter.ts";

const ctx = { operation: "ChatCompletions_Create", apiVersion: "2024-10-21", deployment: "d" };

function setup(sku = { name: "Standard", capacity: 1 }) {
  let now = 1_000_000;
  const limiter = new InMemoryRateLimiter(() => now);
  return {
    limiter,
    policy: policyFor(sku),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function refused(fn: () => unknown): RateLimitError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IngotError);
    return e as RateLimitError;
  }
  assert.fail("expected a refusal");
}

describe("Standard: requests", () => {
  test("capacity 1 admits one request per 10 s window; retry-after is the time left in it", () => {
    const { limiter, policy, advance } = setup();
    limiter.admit("k", policy, 10, ctx);
    advance(3_000);
    const e = refused(() => limiter.admit("k", policy, 10, ctx));
    assert.equal(e.kind, "rate_limited");
    assert.equal(e.code, "429");
    assert.equal(e.status, 429);
    assert.equal(e.rateLimit, "requests");
    assert.equal(e.retryAfterMs, 7_000);
    assert.equal(
      e.message,
      "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current AIServices S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
    );
    advance(6_999);
    refused(() => limiter.admit("k", policy, 10, ctx));
    advance(1);
    limiter.admit("k", policy, 10, ctx);
  });

  test("the window slides: capacity 3 frees each slot 10 s after it was taken", () => {
    const { limiter, policy, advance } = setup({ name: "GlobalStandard", capacity: 3 });
    limiter.admit("k", policy, 1, ctx);
    advance(2_000);
    limiter.admit("k", policy, 1, ctx);
    advance(2_000);
    limiter.admit("k", policy, 1, ctx);
    assert.equal(refused(() => limiter.admit("k", policy, 1, ctx)).retryAfterMs, 6_000);
    advance(6_000);
    limiter.admit("k", policy, 1, ctx);
    assert.equal(refused(() => limiter.admit("k", policy, 1, ctx)).retryAfterMs, 2_000);
  });

  test("at most capacity × 6 requests per minute", () => {
    const { limiter, policy, advance } = setup({ name: "Standard", capacity: 2 });
    let admitted = 0;
    for (let t = 0; t < 60_000; t += 500) {
      try {
        limiter.admit("k", policy, 1, ctx);
        admitted++;
      } catch {
        // refused
      }
      advance(500);
    }
    assert.equal(admitted, 12);
  });

  test("keys are independent", () => {
    const { limiter, policy } = setup();
    limiter.admit("a/x", policy, 1, ctx);
    limiter.admit("a/y", policy, 1, ctx);
    limiter.admit("b/x", policy, 1, ctx);
  });
});

describe("Standard: tokens", () => {
  test("the estimate is charged at admission; a request that does not fit waits for old charges to leave the 60 s window", () => {
    const { limiter, policy, advance } = setup({ name: "Standard", capacity: 10 }); // 10,000 TPM, 10 requests / 10 s
    limiter.admit("k", policy, 6_000, ctx);
    advance(20_000);
    limiter.admit("k", policy, 3_000, ctx);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 1_000);
    advance(5_000);
    const e = refused(() => limiter.admit("k", policy, 2_000, ctx));
    assert.equal(e.rateLimit, "tokens");
    // The 6,000 charge (taken at t=0) must leave: at t=60 s, now t=25 s.
    assert.equal(e.retryAfterMs, 35_000);
    assert.match(e.message, /have exceeded token rate limit of your current AIServices S0 pricing tier\. Please retry after 35 seconds\./);
    limiter.admit("k", policy, 1_000, ctx);
    advance(35_000);
    limiter.admit("k", policy, 2_000, ctx);
  });

  test("settle corrects down (budget back at once) and up (charged in full)", () => {
    const { limiter, policy, advance } = setup({ name: "Standard", capacity: 10 });
    const a = limiter.admit("k", policy, 8_000, ctx);
    assert.equal(a.estimatedTokens, 8_000);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 2_000);
    a.settle(500);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 9_500);
    advance(10_000);
    const b = limiter.admit("k", policy, 100, ctx);
    b.settle(4_000);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 5_500);
    b.release();
    b.release();
  });

  test("an upward correction after the admission charge left the window still counts, from then on", () => {
    const { limiter, policy, advance } = setup({ name: "Standard", capacity: 10 });
    const a = limiter.admit("k", policy, 100, ctx);
    advance(70_000);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 10_000);
    a.settle(2_100);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 8_000);
    advance(59_999);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 8_000);
    advance(1);
    assert.equal(limiter.snapshot("k", policy)?.remainingTokens, 10_000);
  });

  test("a request larger than the whole minute's budget is refused without a retry hint", () => {
    const { limiter, policy } = setup();
    const e = refused(() => limiter.admit("k", policy, 1_001, ctx));
    assert.equal(e.rateLimit, "tokens");
    assert.equal(e.retryAfterMs, undefined);
    assert.match(e.message, /estimated at 1001 tokens.*lower max_tokens/);
    limiter.admit("k", policy, 1_000, ctx);
  });

  test("when both limits refuse, retry-after is the longer wait and names that limit", () => {
    const { limiter, policy, advance } = setup({ name: "Standard", capacity: 1 });
    limiter.admit("k", policy, 900, ctx);
    advance(1_000);
    const e = refused(() => limiter.admit("k", policy, 200, ctx));
    assert.equal(e.rateLimit, "tokens");
    assert.equal(e.retryAfterMs, 59_000);
  });

  test("snapshot: limits, what is left and when each limit is back to full", () => {
    const { limiter, policy, advance } = setup({ name: "GlobalStandard", capacity: 5 });
    assert.deepEqual(limiter.snapshot("k", policy), {
      kind: "standard",
      limitRequests: 5,
      remainingRequests: 5,
      resetRequestsMs: 0,
      limitTokens: 5_000,
      remainingTokens: 5_000,
      resetTokensMs: 0,
    });
    limiter.admit("k", policy, 1_200, ctx);
    advance(4_000);
    limiter.admit("k", policy, 300, ctx);
    advance(1_000);
    assert.deepEqual(limiter.snapshot("k", policy), {
      kind: "standard",
      limitRequests: 5,
      remainingRequests: 3,
      resetRequestsMs: 9_000,
      limitTokens: 5_000,
      remainingTokens: 3_500,
      resetTokensMs: 59_000,
    });
  });
});

describe("Provisioned", () => {
  test("capacity parallel requests; the next waits for a release, and any number of tokens is fine", () => {
    const { limiter, advance } = setup();
    const policy = policyFor({ name: "ProvisionedManaged", capacity: 2 });
    const a = limiter.admit("k", policy, 1_000_000, ctx);
    limiter.admit("k", policy, 1_000_000, ctx);
    const e = refused(() => limiter.admit("k", policy, 1, ctx));
    assert.equal(e.status, 429);
    assert.equal(e.rateLimit, "sequences");
    assert.match(e.message, /^The system is currently experiencing high demand/);
    assert.equal(e.retryAfterMs, 1_000, "no history yet: a 1 s guess");
    assert.deepEqual(limiter.snapshot("k", policy), {
      kind: "provisioned",
      limitRequests: 2,
      remainingRequests: 0,
      resetRequestsMs: 1_000,
      limitTokens: null,
      remainingTokens: null,
      resetTokensMs: null,
    });
    advance(4_000);
    a.release();
    a.release(); // idempotent: does not free a second slot
    const c = limiter.admit("k", policy, 1, ctx);
    refused(() => limiter.admit("k", policy, 1, ctx));
    c.release();
  });

  test("a request's choices each take a sequence; a request wider than the deployment runs alone", () => {
    const { limiter } = setup();
    const policy = policyFor({ name: "GlobalProvisionedManaged", capacity: 3 });
    const a = limiter.admit("k", policy, 0, { ...ctx, sequences: 2 });
    refused(() => limiter.admit("k", policy, 0, { ...ctx, sequences: 2 }));
    limiter.admit("k", policy, 0, { ...ctx, sequences: 1 }).release();
    a.release();
    const wide = limiter.admit("k", policy, 0, { ...ctx, sequences: 10 });
    refused(() => limiter.admit("k", policy, 0, ctx));
    wide.release();
  });

  test("the retry hint follows the average request duration", () => {
    const { limiter, advance } = setup();
    const policy = policyFor({ name: "ProvisionedManaged", capacity: 1 });
    const a = limiter.admit("k", policy, 0, ctx);
    advance(5_000);
    a.release();
    limiter.admit("k", policy, 0, ctx);
    advance(2_000);
    assert.equal(refused(() => limiter.admit("k", policy, 0, ctx)).retryAfterMs, 3_000);
  });
});

describe("Batch", () => {
  test("synchronous requests are a 400 that points to a Standard deployment; no limits to report", () => {
    const { limiter } = setup();
    const policy = policyFor({ name: "GlobalBatch", capacity: 100 });
    const e = refused(() => limiter.admit("k", policy, 1, ctx));
    assert.equal(e.status, 400);
    assert.equal(e.code, "OperationNotSupported");
    assert.match(e.message, /GlobalBatch.*Batch API.*Standard/);
    assert.equal(limiter.snapshot("k", policy), null);
  });
});
