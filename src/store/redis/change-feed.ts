// The ChangeFeed over Redis pub/sub (`--redis`): one channel per topic, `ingot:changes:<topic>`,
// carrying {"o": origin replica, "k": key}. This process's subscribers are called at once (as the
// in-process feed does); messages a replica receives back from itself are skipped. Pub/sub needs
// its own connection (a subscribed connection runs no other commands); ioredis resubscribes after
// a reconnect, and then every subscriber is called once without a key, since whatever was
// published meanwhile is lost.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { InProcessChangeFeed } from "../../core/changes/in-process-feed.ts";
import type { ChangeFeed, ChangeOrigin, ChangeTopic } from "../../core/ports/change-feed.ts";
import { redisOptions } from "./connection.ts";
import type { RedisConnection } from "./connection.ts";

const TOPICS: ChangeTopic[] = ["deployments", "accounts", "keys", "rai", "models", "jobs"];
const PREFIX = "ingot:changes:";

export class RedisChangeFeed implements ChangeFeed {
  #redis: RedisConnection;
  #subscriber: Redis;
  #local: InProcessChangeFeed;
  #origin = randomUUID();
  #log: (msg: string, fields?: Record<string, unknown>) => void;
  #subscribedOnce = false;
  #lostSinceSubscribe = false;

  constructor(redis: RedisConnection, opts: { log?: (msg: string, fields?: Record<string, unknown>) => void } = {}) {
    this.#redis = redis;
    this.#log = opts.log ?? (() => {});
    this.#local = new InProcessChangeFeed({ log: this.#log });
    // SUBSCRIBE may wait for the connection (offline queue on): there is no fallback to hurry to.
    this.#subscriber = new Redis(redis.url, redisOptions({ offlineQueue: true }));
    this.#subscriber.on("error", () => {}); // the command connection reports outages
    this.#subscriber.on("close", () => {
      if (this.#subscribedOnce) this.#lostSinceSubscribe = true;
    });
    this.#subscriber.on("ready", () => {
      // ioredis has resubscribed by now; whatever was published while disconnected is lost: re-read.
      if (!this.#lostSinceSubscribe) return;
      this.#lostSinceSubscribe = false;
      for (const t of TOPICS) this.#local.deliver(t, undefined, "remote");
    });
    this.#subscriber.on("message", (channel: string, message: string) => {
      const topic = channel.slice(PREFIX.length) as ChangeTopic;
      if (!channel.startsWith(PREFIX) || !TOPICS.includes(topic)) return;
      let m: { o?: string; k?: string | null };
      try {
        m = JSON.parse(message);
      } catch {
        return;
      }
      if (m.o === this.#origin) return;
      this.#local.deliver(topic, m.k ?? undefined, "remote");
    });
    // This replica's own messages were dropped while its connection was down: tell the others to re-read.
    redis.onRecovered(() => {
      for (const t of TOPICS) this.#redis.client.publish(PREFIX + t, JSON.stringify({ o: this.#origin, k: null })).catch(() => {});
    });
    this.#subscriber.subscribe(...TOPICS.map((t) => PREFIX + t)).then(
      () => {
        this.#subscribedOnce = true;
      },
      (e: Error) => this.#log("could not subscribe to change notifications", { err: e.message }),
    );
  }

  /** Resolves once subscribed (tests and start-up wait for it so the first changes are not missed). */
  async subscribed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.#subscribedOnce && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.#subscribedOnce;
  }

  publish(topic: ChangeTopic, key?: string): void {
    this.#local.publish(topic, key);
    if (!this.#redis.healthy) return; // other replicas learn by polling or at the resync after Redis returns
    this.#redis.client.publish(PREFIX + topic, JSON.stringify({ o: this.#origin, k: key ?? null })).catch((e: unknown) => this.#redis.markDown(e));
  }

  subscribe(topic: ChangeTopic, handler: (key?: string, origin?: ChangeOrigin) => void): () => void {
    return this.#local.subscribe(topic, handler);
  }

  async close(): Promise<void> {
    await this.#local.close();
    this.#subscriber.disconnect();
  }
}
