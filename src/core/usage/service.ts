// Records what each deployment served (a UsageSink for the generation service) and answers
// metrics queries over it.
import type { UsageSink } from "../ports/index.ts";
import { filterStatus, METRICS, parseMetricsQuery, timeSeries } from "./metrics.ts";
import type { MetricsQuery, TimeSeries } from "./metrics.ts";
import type { UsageStore } from "../ports/index.ts";

const MINUTE = 60_000;

export interface MetricResult {
  name: string;
  localizedName: string;
  description: string;
  timeseries: TimeSeries[];
}

export class UsageService implements UsageSink {
  #store: UsageStore;
  #clock: () => number;

  constructor(store: UsageStore, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
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
    this.#store.add({ account, deployment, model, minute: now - (now % MINUTE), status, promptTokens, completionTokens, requests: 1 });
  }

  /** Azure Monitor's metrics query on one account. */
  query(account: string, q: Omit<MetricsQuery, "now">): { from: number; to: number; interval: string; metrics: MetricResult[] } {
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
