// The ChangeFeed port: how one replica tells the others that shared state changed, so they drop
// caches and reconcile runners without polling. The in-process implementation (core/changes/
// in-process-feed.ts) is the default for one process; store/redis/change-feed.ts carries the same
// messages over Redis pub/sub between replicas (`--redis`).
//
// Delivery is at most once and only to replicas listening at the time: a subscriber whose
// connection dropped is called once with no key after it comes back ("anything may have
// changed: re-read"), since messages sent meanwhile are lost.

export type ChangeTopic = "deployments" | "accounts" | "keys" | "rai" | "models" | "jobs";

/** "local": published by this process; "remote": by another replica (the writer has already acted on it). */
export type ChangeOrigin = "local" | "remote";

export interface ChangeFeed {
  /** Fire and forget: never throws, never waits (a lost connection is logged by the adapter). */
  publish(topic: ChangeTopic, key?: string): void;
  /** Calls `handler` for every publish on `topic` (this process's too); key undefined means "re-read everything". Returns the unsubscribe. */
  subscribe(topic: ChangeTopic, handler: (key?: string, origin?: ChangeOrigin) => void): () => void;
  close(): Promise<void>;
}
