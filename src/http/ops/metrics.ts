// Ingot's Prometheus metrics: requests, latency, time to first token, tokens, queue depth.
import type { UsageSink } from "../../core/ports/index.ts";
import type { Engine } from "../../core/ports/index.ts";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The metrics registry and its text exposition (Prometheus format 0.0.4). */
export class MetricsRegistry extends Registry {
  text(): Promise<string> {
    return this.metrics();
  }
}

export class IngotMetrics implements UsageSink {
  readonly registry = new MetricsRegistry();
  readonly requests = new Counter({ name: "ingot_http_requests_total", help: "HTTP requests by route and status.", labelNames: ["method", "route", "status"], registers: [this.registry] });
  readonly latency = new Histogram({ name: "ingot_http_request_duration_seconds", help: "HTTP request duration (to the last byte for streams).", labelNames: ["route"], buckets: SECONDS, registers: [this.registry] });
  readonly ttft = new Histogram({ name: "ingot_time_to_first_token_seconds", help: "Time from request to first generated token.", labelNames: ["deployment", "account"], buckets: SECONDS, registers: [this.registry] });
  readonly contentFiltered = new Counter({
    name: "ingot_content_filtered_total",
    help: "Requests refused (prompt) or cut (completion) by the content filter, by deployment, side and category.",
    labelNames: ["deployment", "account", "side", "category"],
    registers: [this.registry],
  });
  readonly contentFilterErrors = new Counter({
    name: "ingot_content_filter_errors_total",
    help: "Classifications that failed (the content passed unfiltered with an error annotation), by deployment and side.",
    labelNames: ["deployment", "account", "side"],
    registers: [this.registry],
  });
  readonly routerDecisions = new Counter({
    name: "ingot_router_decisions_total",
    help: "Requests a model router sent to a model, by router deployment, model used, mode and reason (most_capable, cheapest_within_margin, cheapest_capable, fallback_<why>).",
    labelNames: ["router", "model", "mode", "reason"],
    registers: [this.registry],
  });
  readonly routerFallbacks = new Counter({
    name: "ingot_router_fallbacks_total",
    help: "Candidates a model router passed over before any output, by router deployment, model and reason (unavailable, rate_limited, server_error, timeout).",
    labelNames: ["router", "model", "reason"],
    registers: [this.registry],
  });
  readonly tokens = new Counter({ name: "ingot_tokens_total", help: "Tokens processed, by deployment and kind (prompt, completion, cached).", labelNames: ["deployment", "account", "kind"], registers: [this.registry] });

  constructor(engine: Engine) {
    // Gauges read the engine when scraped: only the models loaded now have a series.
    const perModel = (name: string, help: string, pick: (s: ReturnType<Engine["status"]>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["model"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of engine.status()) this.set({ model: s.key }, pick(s));
        },
      });
    perModel("ingot_queue_depth", "Requests waiting for a free sequence, per loaded model.", (s) => s.queuedRequests);
    perModel("ingot_active_sequences", "Sequences generating now, per loaded model.", (s) => s.activeSequences);
    perModel("ingot_runner_up", "1 when the model's runner is loaded and ready.", (s) => (s.state === "ready" ? 1 : 0));
  }

  /** FilterMetricsSink (core/safety/filter.ts). */
  filtered(entry: { account: string; deployment: string; side: string; categories: string[] }): void {
    for (const category of entry.categories) this.contentFiltered.inc({ deployment: entry.deployment, account: entry.account, side: entry.side, category });
  }

  classifierError(entry: { account: string; deployment: string; side: string }): void {
    this.contentFilterErrors.inc({ deployment: entry.deployment, account: entry.account, side: entry.side });
  }

  /** RouterMetrics (core/router/router.ts). */
  routed(e: { router: string; model: string; mode: string; reason: string }): void {
    this.routerDecisions.inc(e);
  }

  fallback(e: { router: string; model: string; reason: string }): void {
    this.routerFallbacks.inc(e);
  }

  record(entry: Parameters<UsageSink["record"]>[0]): void {
    const labels = { deployment: entry.deployment, account: entry.account };
    this.tokens.inc({ ...labels, kind: "prompt" }, entry.usage.promptTokens);
    this.tokens.inc({ ...labels, kind: "completion" }, entry.usage.completionTokens);
    this.tokens.inc({ ...labels, kind: "cached" }, entry.usage.cachedTokens);
    if (entry.firstTokenMs !== undefined) this.ttft.observe(labels, entry.firstTokenMs / 1000);
  }
}
