// Ingot's Prometheus metrics: requests, latency, time to first token, tokens, queue depth.
import type { UsageSink } from "../../core/ports/index.ts";
import type { Engine } from "../../core/ports/index.ts";
import { Counter, Gauge, Histogram, Registry } from "../../lib/metrics.ts";

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class IngotMetrics implements UsageSink {
  readonly registry = new Registry();
  readonly requests = this.registry.add(new Counter("ingot_http_requests_total", "HTTP requests by route and status."));
  readonly latency = this.registry.add(new Histogram("ingot_http_request_duration_seconds", "HTTP request duration (to the last byte for streams).", SECONDS));
  readonly ttft = this.registry.add(new Histogram("ingot_time_to_first_token_seconds", "Time from request to first generated token.", SECONDS));
  readonly tokens = this.registry.add(new Counter("ingot_tokens_total", "Tokens processed, by deployment and kind (prompt, completion, cached)."));

  constructor(engine: Engine) {
    const perModel = (pick: (s: ReturnType<Engine["status"]>[number]) => number) => () => engine.status().map((s) => ({ labels: { model: s.key }, value: pick(s) }));
    this.registry.add(new Gauge("ingot_queue_depth", "Requests waiting for a free sequence, per loaded model.", perModel((s) => s.queuedRequests)));
    this.registry.add(new Gauge("ingot_active_sequences", "Sequences generating now, per loaded model.", perModel((s) => s.activeSequences)));
    this.registry.add(new Gauge("ingot_runner_up", "1 when the model's runner is loaded and ready.", perModel((s) => (s.state === "ready" ? 1 : 0))));
  }

  record(entry: Parameters<UsageSink["record"]>[0]): void {
    const labels = { deployment: entry.deployment, account: entry.account };
    this.tokens.inc({ ...labels, kind: "prompt" }, entry.usage.promptTokens);
    this.tokens.inc({ ...labels, kind: "completion" }, entry.usage.completionTokens);
    this.tokens.inc({ ...labels, kind: "cached" }, entry.usage.cachedTokens);
    if (entry.firstTokenMs !== undefined) this.ttft.observe(labels, entry.firstTokenMs / 1000);
  }
}
