// The Redis rate limiter and change feed against a real redis-server (started here, on a free
// port): the same admissions, refusals, retry-after and snapshots as the in-memory limiter on a
// random workload (one clock for both), one limit shared by two limiters (two replicas), local
// fallback while Redis is down and recovery after; change notifications between two feeds.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { policyFor } from "../../src/core/quotas/policy.ts";
import { InMemoryRateLimiter } from "../../src/core/quotas/rate-limiter.ts";
import type { Admission, RateLimiter, RateLimitError } from "../../src/core/quotas/rate-limiter.ts";
import { RedisChangeFeed } from "../../src/store/redis/change-feed.ts";
import { RedisConnection } from "../../src/store/redis/connection.ts";
import { RedisRateLimiter } from "../../src/store/redis/rate-limiter.ts";
import { redisSkipReason, startRedis } from "../support/redis-server.ts";
import type { RedisServer } from "../support/redis-server.ts";

const skip = redisSkipReason();
const ctx = { operation: "ChatCompletions_Create", apiVersion: "2024-10-21", deployment: "d" };
let redis: RedisServer;
const connections: RedisConnection[] = [];
const feeds: RedisChangeFeed[] = [];

async function connect(): Promise<RedisConnection> {
  const c = new RedisConnection(redis.url);
  connections.push(c);
  assert.ok(await c.waitConnected(5000), "connected to the test redis-server");
  return c;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Outcome = { admitted: true; admission: Admission } | { admitted: false; kind: string; retryAfterMs: number | undefined; message: string };

async function attempt(limiter: RateLimiter, key: string, policy: ReturnType<typeof policyFor>, estimate: number, sequences = 1): Promise<Outcome> {
  try {
    return { admitted: true, admission: await limiter.admit(key, policy, estimate, { ...ctx, sequences }) };
  } catch (e) {
    assert.ok(e instanceof IngotError, String(e));
    const r = e as RateLimitError;
    return { admitted: false, kind: r.rateLimit, retryAfterMs: r.retryAfterMs, message: r.message };
  }
}

const strip = (o: Outcome) => (o.admitted ? { admitted: true } : o);
const turn = () => new Promise((r) => setImmediate(r));

describe("Redis rate limiter and change feed", { skip, timeout: 120_000 }, () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const f of feeds) await f.close();
    for (const c of connections) await c.close();
    await redis?.close();
  });

  test("a random workload gets exactly the in-memory limiter's answers: admissions, refusals, retry-after, snapshots", async () => {
    let now = 5_000_000;
    const clock = () => now;
    const memory = new InMemoryRateLimiter(clock);
    const shared = new RedisRateLimiter(await connect(), { clock });
    const policy = policyFor({ name: "Standard", capacity: 3 }); // 3 requests / 10 s, 3,000 tokens / 60 s
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor(seed / 65536) % n;
    };
    const live: [Admission, Admission][] = [];
    let admitted = 0;
    let refused = 0;
    for (let step = 0; step < 400; step++) {
      const op = rand(10);
      if (op < 5) {
        const estimate = rand(1200);
        const a = await attempt(memory, "k", policy, estimate);
        const b = await attempt(shared, "k", policy, estimate);
        assert.deepEqual(strip(b), strip(a), `step ${step}: admit ${estimate} at ${now}`);
        if (a.admitted && b.admitted) {
          live.push([a.admission, b.admission]);
          admitted++;
        } else refused++;
      } else if (op < 7 && live.length) {
        const [a, b] = live[rand(live.length)];
        const actual = rand(1600);
        a.settle(actual);
        b.settle(actual);
        await turn();
      } else now += rand(op === 9 ? 40_000 : 4_000);
      assert.deepEqual(await shared.snapshot("k", policy), memory.snapshot("k", policy), `step ${step}: snapshot at ${now}`);
    }
    assert.ok(admitted > 40 && refused > 40, `a workload that both admits and refuses (${admitted} admitted, ${refused} refused)`);
  });

  test("two replicas share one limit: what one admitted, the other refuses with the same exact retry-after", async () => {
    let now = 9_000_000;
    const clock = () => now;
    const a = new RedisRateLimiter(await connect(), { clock });
    const b = new RedisRateLimiter(await connect(), { clock });
    const policy = policyFor({ name: "GlobalStandard", capacity: 2 });
    assert.equal((await attempt(a, "two", policy, 10)).admitted, true);
    now += 1_000;
    assert.equal((await attempt(b, "two", policy, 10)).admitted, true);
    now += 2_500;
    const r = await attempt(b, "two", policy, 10);
    assert.equal(r.admitted, false);
    assert.deepEqual([r.kind, r.retryAfterMs], ["requests", 6_500]);
    const snap = await a.snapshot("two", policy);
    assert.equal(snap?.remainingRequests, 0);
    now += 6_500;
    assert.equal((await attempt(a, "two", policy, 10)).admitted, true);
  });

  test("Provisioned sequences in flight are counted across replicas and freed by release", async () => {
    const a = new RedisRateLimiter(await connect());
    const b = new RedisRateLimiter(await connect());
    const policy = policyFor({ name: "ProvisionedManaged", capacity: 3 });
    const first = await attempt(a, "ptu", policy, 0, 2);
    assert.equal(first.admitted, true);
    const r = await attempt(b, "ptu", policy, 0, 2);
    assert.equal(r.admitted, false);
    assert.equal(r.kind, "sequences");
    assert.equal(r.retryAfterMs, 1000, "no request finished yet: the 1 s guess");
    assert.equal((await b.snapshot("ptu", policy))?.remainingRequests, 1);
    assert.equal((await attempt(b, "ptu", policy, 0, 1)).admitted, true);
    if (first.admitted) first.admission.release();
    await until("the release reaches Redis", async () => (await b.snapshot("ptu", policy))?.remainingRequests === 2);
  });

  test("Redis down: admissions go local at once (no error), health says unreachable; Redis back: shared again", async () => {
    const conn = await connect();
    const limiter = new RedisRateLimiter(conn);
    const other = new RedisRateLimiter(await connect());
    const policy = policyFor({ name: "Standard", capacity: 1 });
    assert.equal((await attempt(limiter, "down", policy, 10)).admitted, true);
    assert.equal((await attempt(other, "down", policy, 10)).admitted, false, "shared while Redis is up");
    await redis.kill();
    const started = Date.now();
    const local = await attempt(limiter, "down", policy, 10);
    assert.equal(local.admitted, true, "the local limiter has its own (empty) window");
    assert.ok(Date.now() - started < 1500, "no long wait for a dead Redis");
    assert.equal(conn.health().state, "unreachable");
    assert.equal(limiter.shared, false);
    const again = await attempt(limiter, "down", policy, 10);
    assert.equal(again.admitted, false, "local limits still limit");
    assert.ok(await limiter.snapshot("down", policy), "snapshots still answer");
    await redis.restart();
    await until("the connection to come back", () => conn.healthy);
    assert.equal(limiter.shared, true);
    assert.equal((await attempt(limiter, "down", policy, 10)).admitted, true, "Redis came back empty: a fresh shared window");
    await until("the other connection to come back", () => connections.every((c) => c.healthy));
    assert.equal((await attempt(other, "down", policy, 10)).admitted, false, "and it is shared again");
  });

  test("Redis hung (connections open, no answers): one admission waits out the command timeout, the next go local at once; back when it answers", async () => {
    const conn = await connect();
    const limiter = new RedisRateLimiter(conn);
    const policy = policyFor({ name: "Standard", capacity: 1 });
    redis.pause();
    try {
      let started = Date.now();
      assert.equal((await attempt(limiter, "hung", policy, 10)).admitted, true, "admitted locally after the timeout");
      const first = Date.now() - started;
      assert.ok(first >= 900 && first < 3000, `the first waited for the 1 s command timeout (${first} ms)`);
      assert.equal(conn.health().state, "unreachable");
      started = Date.now();
      assert.equal((await attempt(limiter, "hung", policy, 10)).admitted, false, "local limits");
      assert.ok(Date.now() - started < 100, "later admissions do not wait");
    } finally {
      redis.resume();
    }
    await until("the ping to find Redis answering again", () => conn.healthy);
    // The admission that timed out was still sent: Redis ran it on waking, so the shared window
    // counts it too (a hung Redis errs towards refusing, never towards admitting twice the limit).
    const r = await attempt(limiter, "hung", policy, 10);
    assert.equal(r.admitted, false);
    assert.equal(r.admitted === false && r.kind, "requests");
    assert.equal(limiter.shared, true, "shared again");
  });

  test("change notifications reach the other replica (remote) and this one (local); a reconnect asks for a re-read", async () => {
    const a = new RedisChangeFeed(await connect());
    const b = new RedisChangeFeed(await connect());
    feeds.push(a, b);
    assert.ok((await a.subscribed(5000)) && (await b.subscribed(5000)));
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    a.subscribe("deployments", (key, origin) => seenA.push([key, origin]));
    b.subscribe("deployments", (key, origin) => seenB.push([key, origin]));
    b.subscribe("keys", (key, origin) => seenB.push(["keys", key, origin]));
    const t0 = Date.now();
    a.publish("deployments", "acct\nd1");
    await until("b to hear of d1", () => seenB.length === 1, 1000);
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(seenB, [["acct\nd1", "remote"]]);
    assert.deepEqual(seenA, [["acct\nd1", "local"]], "the publisher's own subscribers once, not again from Redis");
    a.publish("keys", "acct");
    await until("b to hear of the key", () => seenB.length === 2, 1000);
    assert.deepEqual(seenB[1], ["keys", "acct", "remote"]);
    await redis.kill();
    await redis.restart();
    await until("b to be told to re-read after its reconnect", () => seenB.some((s) => Array.isArray(s) && s[0] === undefined && s[1] === "remote"));
  });
});
