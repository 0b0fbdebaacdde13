// The single-process ChangeFeed: publish calls this process's subscribers, on a later turn of
// the event loop (as a remote message would arrive), so a publisher never runs handlers inside
// its own write.
import type { ChangeFeed, ChangeOrigin, ChangeTopic } from "../ports/change-feed.ts";

type Handler = (key?: string, origin?: ChangeOrigin) => void;

export class InProcessChangeFeed implements ChangeFeed {
  #handlers = new Map<ChangeTopic, Set<Handler>>();
  #log: (msg: string, fields?: Record<string, unknown>) => void;

  constructor(opts: { log?: (msg: string, fields?: Record<string, unknown>) => void } = {}) {
    this.#log = opts.log ?? (() => {});
  }

  publish(topic: ChangeTopic, key?: string): void {
    queueMicrotask(() => this.deliver(topic, key, "local"));
  }

  subscribe(topic: ChangeTopic, handler: Handler): () => void {
    let set = this.#handlers.get(topic);
    if (!set) this.#handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => void set.delete(handler);
  }

  /** Calls every subscriber of `topic`; one that throws is logged and does not stop the others. */
  deliver(topic: ChangeTopic, key: string | undefined, origin: ChangeOrigin): void {
    for (const h of [...(this.#handlers.get(topic) ?? [])]) {
      try {
        h(key, origin);
      } catch (e) {
        this.#log("a change subscriber failed", { topic, key, err: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** Every topic with at least one subscriber. */
  topics(): ChangeTopic[] {
    return [...this.#handlers].filter(([, s]) => s.size > 0).map(([t]) => t);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
