// The rate limiter shared by every replica: the same sliding logs as InMemoryRateLimiter
// (core/quotas/rate-limiter.ts: requests per 10 s, token charges per 60 s, settle, Provisioned
// sequences in flight, exact retry-after), kept in Redis and changed only by Lua scripts, so each
// admission is one atomic check-and-charge across replicas. Time is Redis's clock (TIME) unless a
// clock is injected (tests): replicas whose clocks disagree still share one window.
//
// Layout per rate key K (account/deployment), one hash slot ({K}):
//   ingot:rl:{K}:req   ZSET  admission id → admission time (the request log)
//   ingot:rl:{K}:chg   ZSET  charge id → charge time (the token log)
//   ingot:rl:{K}:tok   HASH  charge id → tokens charged (settle rewrites it)
//   ingot:rl:{K}:sum   STRING the sum of :tok (kept with it, so admission is not O(charges))
//   ingot:rl:{K}:pin   ZSET  Provisioned: request id → start time (in flight)
//   ingot:rl:{K}:pseq  HASH  request id → sequences it holds
//   ingot:rl:{K}:pavg  STRING moving average of Provisioned request durations (ms)
// Every key expires once nothing in it can matter (a window after the last write; in-flight
// entries of a replica that died leave after STALE_IN_FLIGHT_MS).
//
// When Redis does not answer, this replica admits with its own in-memory limiter (local limits:
// each replica then allows the deployment's full rate) and says so (RedisConnection logs it,
// /readyz shows it); it never turns a request into a 5xx. Admissions made locally are settled
// and released locally. A script that timed out against a hung Redis may still run when it wakes:
// that admission then counts in both windows (errs towards refusing, never above the limit).
import { randomUUID } from "node:crypto";
import {
  batchRefusal,
  InMemoryRateLimiter,
  provisionedRefusal,
  provisionedWidth,
  upfrontRefusal,
  windowRefusal,
} from "../../core/quotas/rate-limiter.ts";
import type { Admission, AdmissionContext, RateLimiter, RateLimitSnapshot } from "../../core/quotas/rate-limiter.ts";
import type { RatePolicy } from "../../core/quotas/policy.ts";
import type { RedisConnection } from "./connection.ts";

/** A Provisioned request in flight longer than this was lost with its replica. */
const STALE_IN_FLIGHT_MS = 15 * 60_000;

// Shared prologue: `now` from ARGV[1] (an injected clock) or Redis's own clock.
const NOW = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

// Drops requests and charges that left their windows (KEYS 1-4; ARGV[2] request window, ARGV[3] token window).
const TRIM = `
local reqWindow, tokWindow = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - reqWindow)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tokWindow)
if #gone > 0 then
  local freed = 0
  for i = 1, #gone, 500 do
    local part = {}
    for j = i, math.min(i + 499, #gone) do part[#part + 1] = gone[j] end
    local vals = redis.call('HMGET', KEYS[3], unpack(part))
    for j = 1, #vals do freed = freed + (tonumber(vals[j]) or 0) end
    redis.call('HDEL', KEYS[3], unpack(part))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tokWindow)
  redis.call('DECRBY', KEYS[4], freed)
end`;

// ARGV: now?, reqWindow, tokWindow, reqLimit, tokLimit, estimate, id → {admitted, now, requestWait, tokenWait}
const ADMIT = `${NOW}${TRIM}
local reqLimit, tokLimit, estimate, id = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
-- Requests: with k admitted in the window and room for p, the (k-p)th oldest must leave.
local k = redis.call('ZCARD', KEYS[1])
local requestWait = 0
if k >= reqLimit then
  local e = redis.call('ZRANGE', KEYS[1], k - reqLimit, k - reqLimit, 'WITHSCORES')
  requestWait = tonumber(e[2]) + reqWindow - now
end
-- Tokens: the oldest charges must leave until this estimate fits.
local tokenWait = 0
local used = tonumber(redis.call('GET', KEYS[4]) or '0')
if used + estimate > tokLimit then
  local charges = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
  local freed = 0
  for i = 1, #charges, 2 do
    freed = freed + (tonumber(redis.call('HGET', KEYS[3], charges[i])) or 0)
    if used - freed + estimate <= tokLimit then
      tokenWait = tonumber(charges[i + 1]) + tokWindow - now
      break
    end
  end
end
if requestWait > 0 or tokenWait > 0 then return {0, now, requestWait, tokenWait} end
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZADD', KEYS[2], now, id)
redis.call('HSET', KEYS[3], id, estimate)
redis.call('INCRBY', KEYS[4], estimate)
redis.call('PEXPIRE', KEYS[1], reqWindow)
for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], tokWindow) end
return {1, now, 0, 0}`;

// ARGV: now?, reqWindow, tokWindow, id, admittedAt, chargedTokens, actual, excessId → now
const SETTLE = `${NOW}
local tokWindow, id, at, charged, actual = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if now < at + tokWindow then
  local old = redis.call('HGET', KEYS[3], id)
  if old then
    redis.call('HSET', KEYS[3], id, actual)
    redis.call('INCRBY', KEYS[4], actual - tonumber(old))
  end
elseif actual > charged then
  -- The admission charge has left the window already: only an excess still counts, from now.
  redis.call('ZADD', KEYS[2], now, ARGV[8])
  redis.call('HSET', KEYS[3], ARGV[8], actual - charged)
  redis.call('INCRBY', KEYS[4], actual - charged)
  for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], tokWindow) end
end
return now`;

// ARGV: now?, reqWindow, tokWindow → {now, requests, lastRequestAt|-1, tokens, lastChargeAt|-1}
const SNAPSHOT = `${NOW}${TRIM}
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local lastCharge = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
return {now, redis.call('ZCARD', KEYS[1]), last[2] or -1, tonumber(redis.call('GET', KEYS[4]) or '0'), lastCharge[2] or -1}`;

// Provisioned. KEYS: pin, pseq, pavg. Drops entries of replicas that died, then returns busy sequences and the wait guess.
const IN_FLIGHT = `
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
for i = 1, #stale do redis.call('HDEL', KEYS[2], stale[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local busy = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do busy = busy + tonumber(v) end
-- A guess at when a sequence frees up: the average duration less the oldest request's age.
local function wait()
  local avg = tonumber(redis.call('GET', KEYS[3]) or '')
  if not avg then return 1000 end
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local age = 0
  if oldest[2] then age = now - tonumber(oldest[2]) end
  return math.floor(math.min(10000, math.max(100, avg - age)) + 0.5)
end`;

// ARGV: now?, staleMs, slots, sequences, id → {admitted, now, wait}
const P_ADMIT = `${NOW}${IN_FLIGHT}
local slots, sequences = tonumber(ARGV[3]), tonumber(ARGV[4])
if slots < 1 then return {0, now, -1} end
if busy + sequences > slots then return {0, now, wait()} end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], sequences)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
return {1, now, 0}`;

// ARGV: now?, id → 1 when it was in flight
const P_RELEASE = `${NOW}
local at = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not at then return 0 end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
local took = math.max(0, now - tonumber(at))
local avg = tonumber(redis.call('GET', KEYS[3]) or '')
if avg then avg = 0.8 * avg + 0.2 * took else avg = took end
redis.call('SET', KEYS[3], tostring(avg), 'PX', 3600000)
return 1`;

// ARGV: now?, staleMs → {now, busy, wait}
const P_SNAPSHOT = `${NOW}${IN_FLIGHT}
if busy == 0 then return {now, 0, 0} end
return {now, busy, wait()}`;

const SCRIPTS = { ingotAdmit: [4, ADMIT], ingotSettle: [4, SETTLE], ingotSnapshot: [4, SNAPSHOT], ingotPAdmit: [3, P_ADMIT], ingotPRelease: [3, P_RELEASE], ingotPSnapshot: [3, P_SNAPSHOT] } as const;
type ScriptName = keyof typeof SCRIPTS;
type Commands = Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

const standardKeys = (key: string) => ["req", "chg", "tok", "sum"].map((k) => `ingot:rl:{${key}}:${k}`);
const provisionedKeys = (key: string) => ["pin", "pseq", "pavg"].map((k) => `ingot:rl:{${key}}:${k}`);

export class RedisRateLimiter implements RateLimiter {
  #redis: RedisConnection;
  #local: InMemoryRateLimiter;
  #clock: (() => number) | undefined;
  #log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Prefix of this replica's admission ids (unique across replicas). */
  #origin = randomUUID().slice(0, 8);
  #next = 0;

  /**
   * `clock`: injected time (tests); absent, Redis's TIME is the one clock of every replica.
   * `local`: the limiter used while Redis is down (and for admissions made then).
   */
  constructor(redis: RedisConnection, opts: { clock?: () => number; local?: InMemoryRateLimiter; log?: (msg: string, fields?: Record<string, unknown>) => void } = {}) {
    this.#redis = redis;
    this.#clock = opts.clock;
    this.#local = opts.local ?? new InMemoryRateLimiter(opts.clock ?? Date.now);
    this.#log = opts.log ?? (() => {});
    for (const [name, [numberOfKeys, lua]] of Object.entries(SCRIPTS)) redis.client.defineCommand(name, { numberOfKeys, lua });
  }

  /** Whether admissions are shared right now (false: local limits while Redis is unreachable). */
  get shared(): boolean {
    return this.#redis.healthy;
  }

  async admit(key: string, policy: RatePolicy, estimatedTokens: number, context: AdmissionContext): Promise<Admission> {
    if (policy.kind === "batch") throw batchRefusal(policy, context);
    if (!this.#redis.healthy) return this.#local.admit(key, policy, estimatedTokens, context);
    if (policy.kind === "provisioned") return this.#admitProvisioned(key, policy.slots, context);

    const estimate = Math.max(0, Math.ceil(estimatedTokens));
    const upfront = upfrontRefusal(policy, estimate, context);
    if (upfront) throw upfront;
    const id = this.#id();
    const keys = standardKeys(key);
    let reply: number[];
    try {
      reply = (await this.#run("ingotAdmit", ...keys, this.#now(), policy.requestWindowMs, policy.tokenWindowMs, policy.requestsPerWindow, policy.tokensPerWindow, estimate, id)) as number[];
    } catch (e) {
      this.#down(e);
      return this.#local.admit(key, policy, estimatedTokens, context);
    }
    const [admitted, at, requestWait, tokenWait] = reply.map(Number);
    if (!admitted) throw windowRefusal(context, requestWait, tokenWait);
    // What the token log holds for this admission, as settle leaves it.
    let charged = estimate;
    let settling: Promise<unknown> = Promise.resolve();
    return {
      estimatedTokens: estimate,
      settle: (actualTokens: number) => {
        const actual = Math.max(0, Math.ceil(actualTokens)) || 0;
        // Settles of one admission apply in order, each against what the previous one left.
        settling = settling
          .then(async () => {
            const before = charged;
            const now = Number(await this.#run("ingotSettle", ...keys, this.#now(), policy.requestWindowMs, policy.tokenWindowMs, id, at, before, actual, `${id}+${this.#next++}`));
            // Past the window only a larger charge is recorded (as an excess from now).
            if (now < at + policy.tokenWindowMs || actual > before) charged = actual;
          })
          .catch((e: unknown) => this.#down(e));
      },
      release: () => {},
    };
  }

  async snapshot(key: string, policy: RatePolicy): Promise<RateLimitSnapshot | null> {
    if (policy.kind === "batch") return null;
    if (!this.#redis.healthy) return this.#local.snapshot(key, policy);
    try {
      if (policy.kind === "provisioned") {
        const [, busy, wait] = ((await this.#run("ingotPSnapshot", ...provisionedKeys(key), this.#now(), STALE_IN_FLIGHT_MS)) as number[]).map(Number);
        return {
          kind: "provisioned",
          limitRequests: policy.slots,
          remainingRequests: Math.max(0, policy.slots - busy),
          resetRequestsMs: busy === 0 ? 0 : wait,
          limitTokens: null,
          remainingTokens: null,
          resetTokensMs: null,
        };
      }
      const [now, requests, lastRequest, tokens, lastCharge] = ((await this.#run("ingotSnapshot", ...standardKeys(key), this.#now(), policy.requestWindowMs, policy.tokenWindowMs)) as number[]).map(Number);
      return {
        kind: "standard",
        limitRequests: policy.requestsPerWindow,
        remainingRequests: Math.max(0, policy.requestsPerWindow - requests),
        resetRequestsMs: lastRequest < 0 ? 0 : Math.max(0, lastRequest + policy.requestWindowMs - now),
        limitTokens: policy.tokensPerWindow,
        remainingTokens: Math.max(0, policy.tokensPerWindow - tokens),
        resetTokensMs: lastCharge < 0 ? 0 : Math.max(0, lastCharge + policy.tokenWindowMs - now),
      };
    } catch (e) {
      this.#down(e);
      return this.#local.snapshot(key, policy);
    }
  }

  async #admitProvisioned(key: string, slots: number, context: AdmissionContext): Promise<Admission> {
    const sequences = provisionedWidth(slots, context);
    const id = this.#id();
    const keys = provisionedKeys(key);
    let reply: number[];
    try {
      reply = ((await this.#run("ingotPAdmit", ...keys, this.#now(), STALE_IN_FLIGHT_MS, slots, sequences, id)) as number[]).map(Number);
    } catch (e) {
      this.#down(e);
      return this.#local.admit(key, { kind: "provisioned", sku: "", slots }, 0, context);
    }
    const [admitted, , wait] = reply;
    if (!admitted) throw provisionedRefusal(slots, context, wait < 0 ? undefined : wait);
    let released = false;
    return {
      estimatedTokens: 0,
      settle: () => {},
      release: () => {
        if (released) return;
        released = true;
        // A failed release leaves the entry to expire (STALE_IN_FLIGHT_MS).
        this.#run("ingotPRelease", ...keys, this.#now(), id).catch((e: unknown) => this.#down(e));
      },
    };
  }

  #run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    return (this.#redis.client as unknown as Commands)[name](...args);
  }

  #now(): string {
    return this.#clock ? String(this.#clock()) : "";
  }

  #id(): string {
    return `${this.#origin}:${this.#next++}`;
  }

  #down(e: unknown): void {
    // A script error is a bug, not an outage; both fall back locally for this call.
    if (e instanceof Error && e.name === "ReplyError") this.#log("a rate-limit script failed in Redis", { err: e.message });
    else this.#redis.markDown(e);
  }
}
