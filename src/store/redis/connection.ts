// One Redis connection for commands (rate limits, publishing), with the health the rest of
// Ingot acts on: while Redis is unreachable, callers use local fallbacks instead of waiting.
//
// Client: ioredis (pinned). It reconnects by itself, resubscribes pub/sub channels after a
// reconnect, and runs Lua through EVALSHA with an EVAL fallback. Commands are never queued while
// disconnected (enableOfflineQueue off) and time out after COMMAND_TIMEOUT_MS (1 s: room for a
// busy machine, since a timeout sends this replica to local limits), so a lost or hung Redis costs
// a request at most that long once; after that the connection is marked down and callers go
// local at once until a ping answers again.
import { Redis } from "ioredis";

const COMMAND_TIMEOUT_MS = 1000;
/** While marked down but the socket looks open (a command timed out), a PING this often says when Redis answers again. */
const PROBE_INTERVAL_MS = 1000;

export interface RedisHealth {
  state: "connecting" | "connected" | "unreachable";
  /** Since when (ISO time). */
  since: string;
  error?: string;
}

type Log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

/** The URL with any password masked, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable Redis URL)";
  }
}

export function redisOptions(extra: { offlineQueue: boolean }) {
  return {
    enableOfflineQueue: extra.offlineQueue,
    // A command fails at once when the connection drops instead of being retried later: callers fall back.
    maxRetriesPerRequest: 0,
    commandTimeout: extra.offlineQueue ? undefined : COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    // Reconnect forever, at most every 2 s: Redis coming back is noticed within that.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    lazyConnect: false,
  };
}

export class RedisConnection {
  readonly client: Redis;
  readonly url: string;
  #log: Log;
  #health: RedisHealth = { state: "connecting", since: new Date().toISOString() };
  #probe: ReturnType<typeof setInterval> | undefined;
  #upListeners = new Set<() => void>();
  #closed = false;

  constructor(url: string, opts: { log?: Log } = {}) {
    this.url = url;
    this.#log = opts.log ?? (() => {});
    this.client = new Redis(url, redisOptions({ offlineQueue: false }));
    this.client.on("ready", () => this.#up());
    this.client.on("error", (e: Error) => this.markDown(e));
    this.client.on("close", () => {
      if (!this.#closed) this.markDown(new Error("connection closed"));
    });
  }

  get healthy(): boolean {
    return this.#health.state === "connected";
  }

  health(): RedisHealth {
    return { ...this.#health };
  }

  /** Called when Redis answers again after being down (not at the first connection). */
  onRecovered(listener: () => void): () => void {
    this.#upListeners.add(listener);
    return () => void this.#upListeners.delete(listener);
  }

  /** Resolves true once connected, false after `ms` without (start-up waits a little, then serves locally). */
  waitConnected(ms: number): Promise<boolean> {
    if (this.healthy) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.off("ready", onReady);
        resolve(false);
      }, ms);
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.client.once("ready", onReady);
    });
  }

  /** A command failed because Redis did not answer: go local until it does (logged once per outage). */
  markDown(e: unknown): void {
    if (this.#closed) return;
    const error = e instanceof Error ? e.message : String(e);
    if (this.#health.state !== "unreachable") {
      const first = this.#health.state === "connecting";
      this.#health = { state: "unreachable", since: new Date().toISOString(), error };
      this.#log("warn", first ? "Redis does not answer: rate limits are local to this replica and changes reach other replicas only by polling, until it does" : "Redis lost: rate limits are local to this replica until it returns", {
        redis: redactRedisUrl(this.url),
        err: error,
      });
    } else this.#health.error = error;
    // The socket may still look open (a timeout): ping until Redis answers.
    this.#probe ??= setInterval(() => {
      if (this.client.status !== "ready") return; // reconnecting: the "ready" event will tell
      this.client.ping().then(
        () => this.#up(),
        () => {},
      );
    }, PROBE_INTERVAL_MS);
    this.#probe.unref();
  }

  #up(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
    if (this.#health.state === "connected" || this.#closed) return;
    const recovered = this.#health.state === "unreachable";
    this.#health = { state: "connected", since: new Date().toISOString() };
    this.#log("info", recovered ? "Redis is back: rate limits are shared by all replicas again" : "Redis connected: rate limits are shared by all replicas", { redis: redactRedisUrl(this.url) });
    if (recovered) for (const l of [...this.#upListeners]) l();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probe);
    this.client.disconnect();
  }
}
