// Azure Monitor metrics over the usage history (the `Microsoft.Insights/metrics` API on an
// account): metric definitions, ISO 8601 timespans and intervals, `$filter` on dimensions,
// and zero-filled time series — the rules, free of HTTP and SQL.
import { errors } from "../errors.ts";
import type { UsageBucket } from "./types.ts";

export interface MetricDefinition {
  name: string;
  localizedName: string;
  description: string;
  /** The bucket's contribution. */
  value(b: UsageBucket): number;
  dimensions: Dimension[];
  /** The buckets the metric counts (Count aggregation too); default: request buckets, not content-filter ones. */
  applies?(b: UsageBucket): boolean;
}

type Dimension = "ModelDeploymentName" | "ModelName" | "StatusCode" | "Category" | "Source";

/**
 * Content-filter events share the usage buckets (no schema change): a filtered request adds a
 * bucket whose status is CONTENT_FILTER_STATUS + 100 × side (0 prompt, 1 completion) + the
 * category's index in FILTER_CATEGORIES. Request metrics skip them.
 */
export const CONTENT_FILTER_STATUS = 9000;
export const FILTER_CATEGORIES = [
  "hate", "sexual", "violence", "self_harm", "jailbreak", "indirect_attack", "protected_material_text", "protected_material_code", "profanity", "custom_blocklists",
] as const;
export const filterStatus = (side: "prompt" | "completion", category: string) => {
  const i = FILTER_CATEGORIES.indexOf(category as (typeof FILTER_CATEGORIES)[number]);
  return CONTENT_FILTER_STATUS + (side === "prompt" ? 0 : 100) + (i < 0 ? 99 : i);
};
const isFilterBucket = (b: UsageBucket) => b.status >= CONTENT_FILTER_STATUS;

const DIMENSION_OF: Record<Dimension, (b: UsageBucket) => string> = {
  ModelDeploymentName: (b) => b.deployment,
  ModelName: (b) => b.model,
  StatusCode: (b) => String(b.status),
  Category: (b) => (isFilterBucket(b) ? (FILTER_CATEGORIES[(b.status - CONTENT_FILTER_STATUS) % 100] ?? "other") : ""),
  Source: (b) => (isFilterBucket(b) ? (b.status - CONTENT_FILTER_STATUS >= 100 ? "Completion" : "Prompt") : ""),
};

/** The Azure OpenAI metrics Ingot records (names and meanings as Azure Monitor lists them). */
export const METRICS: MetricDefinition[] = [
  {
    name: "ProcessedPromptTokens",
    localizedName: "Processed Prompt Tokens",
    description: "Number of prompt tokens processed on a model deployment.",
    value: (b) => (b.status === 200 ? b.promptTokens : 0),
    dimensions: ["ModelDeploymentName", "ModelName"],
  },
  {
    name: "GeneratedTokens",
    localizedName: "Generated Completion Tokens",
    description: "Number of tokens generated (output) by a model deployment.",
    value: (b) => (b.status === 200 ? b.completionTokens : 0),
    dimensions: ["ModelDeploymentName", "ModelName"],
  },
  {
    name: "TokenTransaction",
    localizedName: "Processed Inference Tokens",
    description: "Number of inference tokens processed (prompt plus generated) on a model deployment.",
    value: (b) => (b.status === 200 ? b.promptTokens + b.completionTokens : 0),
    dimensions: ["ModelDeploymentName", "ModelName"],
  },
  {
    name: "AzureOpenAIRequests",
    localizedName: "Azure OpenAI Requests",
    description: "Number of calls made to the model deployment, by status code (429: refused by the rate limit).",
    value: (b) => b.requests,
    dimensions: ["ModelDeploymentName", "ModelName", "StatusCode"],
  },
  {
    // Azure Monitor's "Blocked Volume" (a Content Safety metric on Azure OpenAI accounts); the
    // metric id and the Category/Source dimension names are Ingot's best knowledge, not captured.
    name: "RAIRejectedRequests",
    localizedName: "Blocked Volume",
    description: "Number of calls rejected (prompt, 400) or cut (completion, finish_reason content_filter) by the content filter, per category that filtered them.",
    value: (b) => b.requests,
    dimensions: ["ModelDeploymentName", "ModelName", "Category", "Source"],
    applies: isFilterBucket,
  },
];

const MINUTE = 60_000;
/** The intervals Azure Monitor accepts for metrics, plus FULL (one point for the whole timespan). */
const INTERVALS: Record<string, number> = { PT1M: MINUTE, PT5M: 5 * MINUTE, PT15M: 15 * MINUTE, PT30M: 30 * MINUTE, PT1H: 60 * MINUTE, PT6H: 360 * MINUTE, PT12H: 720 * MINUTE, P1D: 1440 * MINUTE };
const MAX_POINTS = 50_000;
const AGGREGATIONS = ["Total", "Count", "Average", "Maximum", "Minimum"] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

export interface MetricsQuery {
  metricnames?: string;
  timespan?: string;
  interval?: string;
  aggregation?: string;
  filter?: string;
  now: number;
}

export interface ParsedQuery {
  metrics: MetricDefinition[];
  from: number;
  to: number;
  /** Bucket length in ms; the whole timespan for FULL. */
  step: number;
  interval: string;
  aggregations: Aggregation[];
  /** Dimension → accepted values ("*" = any value, split into one series per value). */
  filter: Map<Dimension, string[]>;
}

/** Parses and checks a metrics query; errors name the parameter and the accepted values. */
export function parseMetricsQuery(q: MetricsQuery): ParsedQuery {
  const names = (q.metricnames ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw errors.armInvalid("BadRequest", `Give metricnames, a comma-separated list of: ${METRICS.map((m) => m.name).join(", ")}.`, "metricnames");
  const metrics = names.map((n) => {
    const m = METRICS.find((d) => d.name.toLowerCase() === n.toLowerCase());
    if (!m) throw errors.armInvalid("BadRequest", `Failed to find metric configuration for provider: Microsoft.CognitiveServices, resource type: accounts, metric: ${n}. Valid metrics: ${METRICS.map((d) => d.name).join(",")}.`, "metricnames");
    return m;
  });
  const span = parseTimespan(q.timespan, q.now);
  const interval = (q.interval ?? "PT1M").toUpperCase();
  // Points sit on interval boundaries (whole minutes, hours, UTC days), as Azure Monitor's do.
  const from = interval === "FULL" || !INTERVALS[interval] ? span.from : Math.floor(span.from / INTERVALS[interval]) * INTERVALS[interval];
  const to = span.to;
  const step = interval === "FULL" ? to - from : INTERVALS[interval];
  if (!step) throw errors.armInvalid("BadRequest", `Invalid interval '${q.interval}'. Use one of ${Object.keys(INTERVALS).join(", ")} or FULL.`, "interval");
  if ((to - from) / step > MAX_POINTS) throw errors.armInvalid("BadRequest", `The timespan ${q.timespan} holds more than ${MAX_POINTS} ${interval} intervals. Narrow the timespan or use a longer interval.`, "interval");
  const aggregations = (q.aggregation ?? "Total").split(",").map((s) => s.trim()).filter(Boolean).map((a) => {
    const found = AGGREGATIONS.find((x) => x.toLowerCase() === a.toLowerCase());
    if (!found) throw errors.armInvalid("BadRequest", `Invalid aggregation '${a}'. Use ${AGGREGATIONS.join(", ")}.`, "aggregation");
    return found;
  });
  return { metrics, from, to, step, interval: interval === "FULL" ? "FULL" : interval, aggregations, filter: parseFilter(q.filter, metrics) };
}

/** `start/end`, `start/duration` or `duration` (ending now); default the last hour, as Azure Monitor. */
export function parseTimespan(value: string | undefined, now: number): { from: number; to: number } {
  const bad = () => errors.armInvalid("BadRequest", `Invalid timespan '${value}'. Use ISO 8601 start/end, e.g. 2026-11-17T00:00:00Z/2026-11-24T00:00:00Z, or a duration such as P7D.`, "timespan");
  // Relative spans end with the minute in progress, so what was just served shows.
  const end = now - (now % MINUTE) + MINUTE;
  if (!value) return { from: end - 60 * MINUTE, to: end };
  const parts = value.split("/");
  if (parts.length === 1) {
    const d = parseDuration(parts[0]);
    if (d === undefined) throw bad();
    return { from: end - d, to: end };
  }
  if (parts.length !== 2) throw bad();
  const from = Date.parse(parts[0]);
  if (Number.isNaN(from)) throw bad();
  const d = parseDuration(parts[1]);
  const to = d !== undefined ? from + d : Date.parse(parts[1]);
  if (Number.isNaN(to) || to <= from) throw bad();
  return { from, to };
}

function parseDuration(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(s);
  if (!m || s.toUpperCase() === "P" || s.toUpperCase().endsWith("T")) return undefined;
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * MINUTE + Number(m[4] ?? 0) * 1000;
}

/** `Dim eq 'v' and Dim2 eq '*'` and `(Dim eq 'a' or Dim eq 'b')`: the subset of Monitor's $filter for dimensions. */
export function parseFilter(filter: string | undefined, metrics: MetricDefinition[]): Map<Dimension, string[]> {
  const out = new Map<Dimension, string[]>();
  if (!filter?.trim()) return out;
  for (const clause of filter.split(/\s+and\s+/i)) {
    for (const term of clause.replace(/^\s*\(|\)\s*$/g, "").split(/\s+or\s+/i)) {
      const m = /^\s*([A-Za-z]+)\s+eq\s+'([^']*)'\s*$/i.exec(term);
      if (!m) throw errors.armInvalid("BadRequest", `Invalid $filter term '${term.trim()}'. Write Dimension eq 'value' (or '*' to split by it), joined with 'and'/'or'; e.g. ModelDeploymentName eq '*' and StatusCode eq '429'.`, "$filter");
      const dim = (Object.keys(DIMENSION_OF) as Dimension[]).find((d) => d.toLowerCase() === m[1].toLowerCase());
      if (!dim || !metrics.some((x) => x.dimensions.includes(dim)))
        throw errors.armInvalid("BadRequest", `Metric ${metrics.map((x) => x.name).join(",")} has no dimension '${m[1]}'. Dimensions: ${[...new Set(metrics.flatMap((x) => x.dimensions))].join(", ")}.`, "$filter");
      out.set(dim, [...(out.get(dim) ?? []), m[2]]);
    }
  }
  return out;
}

export interface TimeSeries {
  dimensions: { name: string; value: string }[];
  data: ({ timeStamp: string } & Partial<Record<"total" | "count" | "average" | "maximum" | "minimum", number>>)[];
}

/** One metric's series: split by each dimension filtered with '*', filtered by the others, zero-filled per interval. */
export function timeSeries(metric: MetricDefinition, q: ParsedQuery, buckets: UsageBucket[]): TimeSeries[] {
  const applicable = [...q.filter].filter(([dim]) => metric.dimensions.includes(dim));
  const splitBy = applicable.filter(([, values]) => values.includes("*")).map(([dim]) => dim);
  const kept = buckets.filter((b) => (metric.applies ?? ((x: UsageBucket) => !isFilterBucket(x)))(b) && applicable.every(([dim, values]) => values.includes("*") || values.includes(DIMENSION_OF[dim](b))));
  const groups = new Map<string, UsageBucket[]>();
  for (const b of kept) {
    const key = JSON.stringify(splitBy.map((d) => DIMENSION_OF[d](b)));
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  // Without a split there is always one series, even with no data (all zeros).
  if (splitBy.length === 0 && groups.size === 0) groups.set("[]", []);
  const points = Math.max(1, Math.ceil((q.to - q.from) / q.step));
  return [...groups].map(([key, group]) => {
    const sums = new Array<number>(points).fill(0);
    const counts = new Array<number>(points).fill(0);
    for (const b of group) {
      const i = Math.floor((b.minute - q.from) / q.step);
      if (i < 0 || i >= points) continue;
      sums[i] += metric.value(b);
      counts[i] += b.requests;
    }
    const values = JSON.parse(key) as string[];
    return {
      dimensions: splitBy.map((d, i) => ({ name: d.toLowerCase(), value: values[i] })),
      data: sums.map((total, i) => {
        const point: TimeSeries["data"][number] = { timeStamp: new Date(q.from + i * q.step).toISOString().replace(/\.000Z$/, "Z") };
        for (const a of q.aggregations) {
          if (a === "Total") point.total = total;
          else if (a === "Count") point.count = counts[i];
          else if (a === "Average") point.average = counts[i] ? total / counts[i] : 0;
          // Buckets are per-minute sums, so the extremes are those of per-minute totals.
          else if (a === "Maximum") point.maximum = total;
          else point.minimum = total;
        }
        return point;
      }),
    };
  });
}
