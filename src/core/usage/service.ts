// Records what each deployment served (a UsageSink for the generation service) and answers
// metrics queries over it.
import type { UsageSink } from "../ports/index.ts";
import { filterStatus, METRICS, parseMetricsQuery, timeSeries } from "./metrics.ts";
import type { MetricsQuery, TimeSeries } from "./metrics.ts";
import type { UsageStore } from "../ports/index.ts";
import type { UsageIncrement } from "./types.ts";

const MINUTE = 60_000;

export interface MetricResult {
  name: string;
  localizedName: string;
  description: string;
  timeseries: TimeSeries[];
}

/**
 * Increments are merged in memory (per account, minute, deployment, model and status) and
 * written at most this often: one database write per interval instead of a synchronous write
 * (a WAL fsync on SQLite, a round trip on PostgreSQL) on the event loop for every request, which
 * was most of the latency Ingot added in front of an upstream (bench/gateway-overhead.ts).
 */
export const USAGE_FLUSH_MS = 250;

export class UsageService implements UsageSink {
  #store: UsageStore;
  #clock: () => number;
  #pending = new Map<string, UsageIncrement>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(store: UsageStore, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Writes the merged increments (queries and shutdown call it; otherwise a timer does). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [key, increment] of this.#pending) {
      this.#store.add(increment);
      this.#pending.delete(key);
    }
  }

  record(entry: Parameters<UsageSink["record"]>[0]): void {
    this.#add(entry.account, entry.deployment, entry.model, 200, entry.usage.promptTokens, entry.usage.completionTokens);
  }

  rateLimited(entry: Parameters<NonNullable<UsageSink["rateLimited"]>>[0]): void {
    this.#add(entry.account, entry.deployment, entry.model, 429, 0, 0);
  }

  /** A request the content filter refused (prompt: also a 400 in AzureOpenAIRequests) or cut (completion), per category. */
  filtered(entry: { account: string; deployment: string; model: string; side: "prompt" | "completion"; categories: string[] }): void {
    if (entry.side === "prompt") this.#add(entry.account, entry.deployment, entry.model, 400, 0, 0);
    for (const c of entry.categories) this.#add(entry.account, entry.deployment, entry.model, filterStatus(entry.side, c), 0, 0);
  }

  #add(account: string, deployment: string, model: string, status: number, promptTokens: number, completionTokens: number): void {
    const now = this.#clock();
    const minute = now - (now % MINUTE);
    const key = `${account}\u0000${deployment}\u0000${model}\u0000${minute}\u0000${status}`;
    const p = this.#pending.get(key);
    if (p) {
      p.promptTokens += promptTokens;
      p.completionTokens += completionTokens;
      p.requests++;
    } else this.#pending.set(key, { account, deployment, model, minute, status, promptTokens, completionTokens, requests: 1 });
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        try {
          this.flush();
        } catch {
          // Kept in #pending (what was not written), written with the next flush.
        }
      }, USAGE_FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Azure Monitor's metrics query on one account. */
  query(account: string, q: Omit<MetricsQuery, "now">): { from: number; to: number; interval: string; metrics: MetricResult[] } {
    this.flush();
    const parsed = parseMetricsQuery({ ...q, now: this.#clock() });
    const buckets = this.#store.range(account, parsed.from, parsed.to);
    return {
      from: parsed.from,
      to: parsed.to,
      interval: parsed.interval,
      metrics: parsed.metrics.map((m) => ({ name: m.name, localizedName: m.localizedName, description: m.description, timeseries: timeSeries(m, parsed, buckets) })),
    };
  }

  static readonly metricNames = METRICS.map((m) => m.name);
}
