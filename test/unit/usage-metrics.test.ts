// Azure Monitor metrics rules over the usage history: timespans, intervals on boundaries,
// zero-filled series, dimension split and filter, and errors that say what to write.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMetricsQuery, parseTimespan } from "../../src/core/usage/metrics.ts";
import { UsageService } from "../../src/core/usage/service.ts";
import type { UsageBucket, UsageIncrement } from "../../src/core/usage/types.ts";
import type { UsageStore } from "../../src/core/ports/index.ts";
import { caught } from "./caught.ts";

class ArrayStore implements UsageStore {
  rows: UsageBucket[] = [];
  add(i: UsageIncrement) {
    const same = this.rows.find((r) => r.account === i.account && r.deployment === i.deployment && r.model === i.model && r.minute === i.minute && r.status === i.status);
    if (same) {
      same.promptTokens += i.promptTokens;
      same.completionTokens += i.completionTokens;
      same.requests += i.requests;
    } else this.rows.push({ ...i });
  }
  range(account: string, from: number, to: number) {
    return this.rows.filter((r) => r.account === account && r.minute >= from && r.minute < to);
  }
}

const DAY = 86_400_000;
const day0 = Date.parse("2026-11-20T00:00:00Z");

function service() {
  let now = day0 + 10 * 3_600_000;
  const usage = new UsageService(new ArrayStore(), () => now);
  const chat = (deployment: string, prompt: number, completion: number) =>
    usage.record({ account: "a", deployment, model: "tiny-chat", usage: { promptTokens: prompt, completionTokens: completion, cachedTokens: 0 }, durationMs: 1 });
  chat("x", 10, 5);
  chat("x", 1, 1);
  chat("y", 100, 50);
  usage.rateLimited({ account: "a", deployment: "y", model: "tiny-chat" });
  now += 2 * DAY;
  chat("x", 7, 3);
  usage.rateLimited({ account: "a", deployment: "x", model: "tiny-chat" });
  usage.rateLimited({ account: "a", deployment: "x", model: "tiny-chat" });
  return { usage, advance: (ms: number) => (now += ms) };
}

test("tokens per deployment per day: split by ModelDeploymentName, zero-filled, on UTC midnights", () => {
  const { usage } = service();
  const r = usage.query("a", { metricnames: "TokenTransaction", interval: "P1D", timespan: `${new Date(day0).toISOString()}/P4D`, filter: "ModelDeploymentName eq '*'" });
  assert.equal(r.interval, "P1D");
  const [m] = r.metrics;
  const byDeployment = Object.fromEntries(m.timeseries.map((t) => [t.dimensions[0].value, t.data.map((d) => d.total)]));
  assert.deepEqual(byDeployment, { x: [17, 0, 10, 0], y: [150, 0, 0, 0] });
  assert.equal(m.timeseries[0].data[1].timeStamp, "2026-11-21T00:00:00Z");
});

test("rate-limit rejections: AzureOpenAIRequests filtered by StatusCode 429", () => {
  const { usage } = service();
  const r = usage.query("a", { metricnames: "AzureOpenAIRequests", interval: "P1D", timespan: "P5D", filter: "ModelDeploymentName eq '*' and StatusCode eq '429'" });
  const totals = Object.fromEntries(r.metrics[0].timeseries.map((t) => [t.dimensions[0].value, t.data.reduce((s, d) => s + (d.total ?? 0), 0)]));
  assert.deepEqual(totals, { x: 2, y: 1 });
  const all = usage.query("a", { metricnames: "AzureOpenAIRequests", interval: "FULL", timespan: "P5D" });
  assert.equal(all.metrics[0].timeseries.length, 1);
  assert.equal(all.metrics[0].timeseries[0].data[0].total, 7);
});

test("prompt and generated tokens leave out refused requests; Count and Average per request", () => {
  const { usage } = service();
  const r = usage.query("a", { metricnames: "ProcessedPromptTokens,GeneratedTokens", aggregation: "Total,Count,Average", interval: "FULL", timespan: "P5D", filter: "ModelDeploymentName eq 'x'" });
  const [prompt, generated] = r.metrics;
  assert.deepEqual(prompt.timeseries[0].data[0].total, 18);
  assert.deepEqual(generated.timeseries[0].data[0].total, 9);
  assert.equal(prompt.timeseries[0].data[0].count, 5);
  assert.ok(Math.abs((prompt.timeseries[0].data[0].average ?? 0) - 18 / 5) < 1e-9);
});

test("a deployment filter with no data still gives one zero series", () => {
  const { usage } = service();
  const r = usage.query("a", { metricnames: "TokenTransaction", interval: "PT1H", timespan: "PT3H", filter: "ModelDeploymentName eq 'nothing'" });
  assert.equal(r.metrics[0].timeseries.length, 1);
  assert.ok(r.metrics[0].timeseries[0].data.every((d) => d.total === 0));
});

test("timespans: start/end, start/duration, duration ending now", () => {
  const now = Date.parse("2026-11-24T12:00:30Z");
  const end = Date.parse("2026-11-24T12:01:00Z");
  assert.deepEqual(parseTimespan("2026-11-20T00:00:00Z/2026-11-21T00:00:00Z", now), { from: day0, to: day0 + DAY });
  assert.deepEqual(parseTimespan("2026-11-20T00:00:00Z/P1DT12H", now), { from: day0, to: day0 + 1.5 * DAY });
  // Relative spans end with the minute in progress.
  assert.deepEqual(parseTimespan("PT1H", now), { from: end - 3_600_000, to: end });
  assert.deepEqual(parseTimespan(undefined, now), { from: end - 3_600_000, to: end });
});

test("bad queries name the parameter and what to write", () => {
  const q = (over: Record<string, string>) => () => parseMetricsQuery({ metricnames: "TokenTransaction", now: day0, ...over });
  assert.match(caught(q({ metricnames: "Nope" })).message, /Valid metrics: ProcessedPromptTokens/);
  assert.match(caught(q({ metricnames: "" })).message, /Give metricnames/);
  assert.match(caught(q({ interval: "PT2M" })).message, /PT1M, PT5M/);
  assert.match(caught(q({ timespan: "yesterday" })).message, /ISO 8601/);
  assert.match(caught(q({ timespan: "2026-11-21T00:00:00Z/2026-11-20T00:00:00Z" })).message, /ISO 8601/);
  assert.match(caught(q({ filter: "StatusCode eq '429'" })).message, /has no dimension 'StatusCode'/);
  assert.match(caught(q({ filter: "ModelDeploymentName = x" })).message, /Dimension eq 'value'/);
  assert.match(caught(q({ aggregation: "Median" })).message, /Total, Count/);
  assert.match(caught(q({ interval: "PT1M", timespan: "P365D" })).message, /Narrow the timespan/);
});
