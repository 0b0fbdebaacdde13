// What replicas share besides the database (issue 16 items 2-3), wired for createIngot:
// - rate limits: RedisRateLimiter with `redisUrl` (local fallback while Redis is down), else in memory;
// - change notifications: RedisChangeFeed with `redisUrl`, else in process; writes other replicas
//   must learn of are published here and the reconciler and in-memory caches subscribe;
// - blob content (files, fine-tuning results): Azure Blob Storage with `blobStore` (a connection
//   string), else the data dir.
import type { AccountService } from "./core/accounts/service.ts";
import { InProcessChangeFeed } from "./core/changes/in-process-feed.ts";
import type { Reconciler } from "./core/deployments/reconciler.ts";
import type { ChangeFeed } from "./core/ports/change-feed.ts";
import { InMemoryRateLimiter } from "./core/quotas/rate-limiter.ts";
import type { RateLimiter } from "./core/quotas/rate-limiter.ts";
import type { RaiBlocklistService } from "./core/safety/blocklists.ts";
import type { RaiPolicyService } from "./core/safety/policies.ts";
import { RedisChangeFeed } from "./store/redis/change-feed.ts";
import { redactRedisUrl, RedisConnection } from "./store/redis/connection.ts";
import { RedisRateLimiter } from "./store/redis/rate-limiter.ts";

type Log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export type SharedStateHealth = {
  /** Absent without --redis. */
  redis?: { url: string; state: string; since: string; error?: string; rateLimits: "shared" | "local to this replica" };
};

export interface SharedState {
  limiter: RateLimiter;
  feed: ChangeFeed;
  /** Settles once Redis answered and its subscriptions are in place, or after a few seconds without (then serving starts on local limits). */
  ready: Promise<void>;
  health(): SharedStateHealth;
  close(): Promise<void>;
}

/** How long start-up waits for Redis before serving on local limits. */
const REDIS_START_WAIT_MS = 5_000;

export function openSharedState(opts: { redisUrl?: string; clock?: () => number; log: Log }): SharedState {
  const local = new InMemoryRateLimiter(opts.clock ?? Date.now);
  if (!opts.redisUrl) {
    const feed = new InProcessChangeFeed({ log: (m, f) => opts.log("warn", m, f) });
    return { limiter: local, feed, ready: Promise.resolve(), health: () => ({}), close: () => feed.close() };
  }
  const connection = new RedisConnection(opts.redisUrl, { log: opts.log });
  // An injected clock (tests) drives the shared windows too; otherwise Redis's clock is the one clock.
  const limiter = new RedisRateLimiter(connection, { clock: opts.clock, local, log: (m, f) => opts.log("error", m, f) });
  const feed = new RedisChangeFeed(connection, { log: (m, f) => opts.log("warn", m, f) });
  const url = redactRedisUrl(opts.redisUrl);
  return {
    limiter,
    feed,
    ready: Promise.all([connection.waitConnected(REDIS_START_WAIT_MS), feed.subscribed(REDIS_START_WAIT_MS)]).then(() => {}),
    health: () => {
      const h = connection.health();
      return { redis: { url, ...h, rateLimits: connection.healthy ? "shared" : "local to this replica" } };
    },
    async close() {
      await feed.close();
      await connection.close();
    },
  };
}

/** The key of a deployment in "deployments" notifications. */
export const deploymentChangeKey = (account: string, name: string) => `${account}\n${name}`;

/**
 * Publishes the writes other replicas must learn of, and acts on theirs: a deployment changed
 * elsewhere is reconciled here (this replica's runners), content-filter caches of an account are
 * dropped. Key regeneration is published for any cache that may come; keys are read from the
 * store on every request today, so nothing here caches them.
 */
export function wireChanges(feed: ChangeFeed, deps: { reconciler: Reconciler; accounts: AccountService; rai: { policies: RaiPolicyService; blocklists: RaiBlocklistService }; log: Log }): void {
  feed.subscribe("deployments", (key, origin) => {
    if (origin !== "remote") return; // this replica's own writes reach its reconciler directly (with their operation)
    if (key === undefined) return void deps.reconciler.remoteChanged();
    const [account, name] = key.split("\n");
    void deps.reconciler.remoteChanged(account, name);
  });
  feed.subscribe("rai", (account, origin) => {
    if (origin !== "remote") return;
    deps.rai.policies.forgetAccount(account);
    deps.rai.blocklists.forgetAccount(account);
  });
  afterEach(deps.accounts, ["regenerateKey"], (account) => feed.publish("keys", account));
  afterEach(deps.rai.policies, ["createOrUpdate", "delete"], (account) => feed.publish("rai", account));
  afterEach(deps.rai.blocklists, ["createOrUpdate", "delete", "putItem", "addItems", "deleteItem", "deleteItems", "deleteAll"], (account) => feed.publish("rai", account));
}

/**
 * Calls `then(first argument)` after each named method returns (not when it throws). The
 * services' writes all take the account first; wrapping here keeps notification out of them.
 */
function afterEach<T extends object>(target: T, methods: (keyof T & string)[], then: (account: string) => void): void {
  for (const m of methods) {
    const original = target[m];
    if (typeof original !== "function") throw new Error(`wireChanges: ${m} is not a method`);
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const result = (original as (...a: unknown[]) => unknown).apply(target, args);
      then(String(args[0]));
      return result;
    };
    Object.defineProperty(target, m, { value: wrapped, configurable: true, writable: true });
  }
}
