// Usage (`#/usage`): tokens per deployment per day and rate-limit rejections (429s) per
// deployment per day, over the last 7 or 30 days, from Azure Monitor's metrics API on the
// account (GET {account}/providers/Microsoft.Insights/metrics), as the Foundry portal charts them.
import { useState } from "react";
import { accountId, arm, METRICS_API_VERSION } from "../api.ts";
import type { Session } from "../api.ts";
import { ErrorBox, ProgressBar, usePoll, useSession } from "../ui.tsx";
import { TokenNotice } from "./Catalog.tsx";

const DAY = 86_400_000;
const COLORS = ["#2f5bd3", "#c8902a", "#1f8a4c", "#c53030", "#7b4bd1", "#0e8a9a", "#d16ba5", "#5d6778"];

interface MetricValue {
  name: { value: string; localizedValue?: string };
  timeseries: { metadatavalues: { name: { value: string }; value: string }[]; data: { timeStamp: string; total?: number }[] }[];
}

/** Per metric name → per deployment → per day (ms) → total. */
type Table = Map<string, Map<string, Map<number, number>>>;

interface UsageData {
  days: number[];
  deployments: string[];
  table: Table;
}

async function metrics(s: Session, names: string, filter: string, from: Date, to: Date): Promise<MetricValue[]> {
  const q = [
    `metricnames=${names}`,
    "aggregation=Total",
    "interval=P1D",
    `timespan=${encodeURIComponent(`${from.toISOString()}/${to.toISOString()}`)}`,
    `$filter=${encodeURIComponent(filter)}`,
  ].join("&");
  const reply = await arm(s, "GET", `${accountId(s)}/providers/Microsoft.Insights/metrics?${q}`, undefined, METRICS_API_VERSION);
  return reply.value as MetricValue[];
}

async function load(s: Session, range: number): Promise<UsageData> {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = new Date(today - (range - 1) * DAY);
  const [tokens, rejected] = await Promise.all([
    metrics(s, "ProcessedPromptTokens,GeneratedTokens,TokenTransaction", "ModelDeploymentName eq '*'", from, now),
    metrics(s, "AzureOpenAIRequests", "ModelDeploymentName eq '*' and StatusCode eq '429'", from, now),
  ]);
  const table: Table = new Map();
  const days = new Set<number>();
  const deployments = new Set<string>();
  for (const m of [...tokens, ...rejected]) {
    const byDeployment = table.get(m.name.value) ?? new Map<string, Map<number, number>>();
    table.set(m.name.value, byDeployment);
    for (const ts of m.timeseries ?? []) {
      const d = ts.metadatavalues.find((v) => v.name.value.toLowerCase() === "modeldeploymentname")?.value ?? "(all)";
      deployments.add(d);
      const byDay = byDeployment.get(d) ?? new Map<number, number>();
      byDeployment.set(d, byDay);
      for (const p of ts.data) {
        const t = Date.parse(p.timeStamp);
        const day = t - (t % DAY);
        days.add(day);
        byDay.set(day, (byDay.get(day) ?? 0) + (p.total ?? 0));
      }
    }
  }
  // The range's days even when no series came back (zero-filled by the API, but not if empty).
  for (let t = from.getTime(); t <= today; t += DAY) days.add(t);
  return { days: [...days].sort((a, b) => a - b), deployments: [...deployments].sort(), table };
}

const sum = (m: Map<number, number> | undefined) => [...(m?.values() ?? [])].reduce((a, b) => a + b, 0);
const n = (v: number) => v.toLocaleString("en-US");
const dayLabel = (t: number) => new Date(t).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

export function UsagePage() {
  const { session } = useSession();
  const [range, setRange] = useState(7);
  const { value, error, reload } = usePoll(() => (session.mode === "token" ? load(session, range) : Promise.resolve(undefined)), 15_000, [session, range]);
  if (session.mode !== "token")
    return (
      <>
        <h1>Usage</h1>
        <TokenNotice what="usage metrics" />
      </>
    );
  const colorOf = (d: string) => COLORS[Math.max(0, value?.deployments.indexOf(d) ?? 0) % COLORS.length];
  const tokens = value?.table.get("TokenTransaction");
  const prompt = value?.table.get("ProcessedPromptTokens");
  const generated = value?.table.get("GeneratedTokens");
  const rejected = value?.table.get("AzureOpenAIRequests");
  const totals = {
    tokens: value ? value.deployments.reduce((a, d) => a + sum(tokens?.get(d)), 0) : 0,
    prompt: value ? value.deployments.reduce((a, d) => a + sum(prompt?.get(d)), 0) : 0,
    generated: value ? value.deployments.reduce((a, d) => a + sum(generated?.get(d)), 0) : 0,
    rejected: value ? value.deployments.reduce((a, d) => a + sum(rejected?.get(d)), 0) : 0,
  };
  return (
    <>
      <div className="page-head row">
        <h1>Usage</h1>
        <span className="spacer" />
        <div className="seg" role="tablist" aria-label="Time range">
          {[7, 30].map((r) => (
            <button key={r} type="button" role="tab" aria-selected={range === r} onClick={() => setRange(r)}>
              Last {r} days
            </button>
          ))}
        </div>
        <button onClick={reload}>Refresh</button>
      </div>
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading metrics…" /> : null}
      {value ? (
        <>
          <div className="stat-cards">
            <div className="card stat" data-testid="total-tokens">
              <span className="muted">Total tokens</span>
              <b>{n(totals.tokens)}</b>
            </div>
            <div className="card stat">
              <span className="muted">Prompt tokens</span>
              <b>{n(totals.prompt)}</b>
            </div>
            <div className="card stat">
              <span className="muted">Generated tokens</span>
              <b>{n(totals.generated)}</b>
            </div>
            <div className="card stat">
              <span className="muted">Rate-limited requests (429)</span>
              <b className={totals.rejected > 0 ? "bad" : ""}>{n(totals.rejected)}</b>
            </div>
          </div>
          <div className="card">
            <h3>Tokens per deployment per day</h3>
            <StackedBars testId="tokens-chart" days={value.days} series={value.deployments.map((d) => ({ name: d, color: colorOf(d), values: tokens?.get(d) ?? new Map() }))} unit="tokens" />
          </div>
          <div className="card">
            <h3>Rate-limit rejections (429) per deployment per day</h3>
            <StackedBars testId="rejections-chart" days={value.days} series={value.deployments.map((d) => ({ name: d, color: colorOf(d), values: rejected?.get(d) ?? new Map() }))} unit="requests" />
          </div>
          <h2>By deployment</h2>
          {value.deployments.length === 0 ? (
            <div className="notice">No usage in the last {range} days. Chat in the <a href="#/playground">playground</a> or call a deployment, then refresh.</div>
          ) : (
            <table data-testid="usage-table">
              <thead>
                <tr>
                  <th>Deployment</th>
                  <th className="num">Prompt tokens</th>
                  <th className="num">Generated tokens</th>
                  <th className="num">Total tokens</th>
                  <th className="num">Rejected (429)</th>
                </tr>
              </thead>
              <tbody>
                {value.deployments.map((d) => (
                  <tr key={d} data-deployment={d}>
                    <td>
                      <i className="swatch" style={{ background: colorOf(d) }} /> <a href={`#/deployments/${encodeURIComponent(d)}`}>{d}</a>
                    </td>
                    <td className="num">{n(sum(prompt?.get(d)))}</td>
                    <td className="num">{n(sum(generated?.get(d)))}</td>
                    <td className="num">{n(sum(tokens?.get(d)))}</td>
                    <td className="num">{n(sum(rejected?.get(d)))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="muted small">Days are UTC. Deployments that were deleted keep their history here.</p>
        </>
      ) : null}
    </>
  );
}

/** An axis with round steps (1, 2, 5 × 10^k, at least 1: counts are whole) covering `v`. */
function axis(v: number): { max: number; ticks: number[] } {
  const raw = Math.max(v, 1) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p);
  const max = Math.max(step, Math.ceil(v / step) * step);
  return { max, ticks: Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step) };
}

/** Bars per day, stacked by deployment. */
function StackedBars({ days, series, unit, testId }: { days: number[]; series: { name: string; color: string; values: Map<number, number> }[]; unit: string; testId: string }) {
  const width = 760;
  const height = 220;
  const pad = { l: 56, r: 12, t: 10, b: 28 };
  const totals = days.map((d) => series.reduce((a, s) => a + (s.values.get(d) ?? 0), 0));
  const { max, ticks } = axis(Math.max(0, ...totals));
  const innerW = width - pad.l - pad.r;
  const innerH = height - pad.t - pad.b;
  const slot = innerW / Math.max(1, days.length);
  const barW = Math.max(3, Math.min(48, slot * 0.65));
  const y = (v: number) => pad.t + innerH - (v / max) * innerH;
  const labelEvery = days.length > 10 ? Math.ceil(days.length / 8) : 1;
  const grand = totals.reduce((a, b) => a + b, 0);
  return (
    <figure className="chart bars" data-testid={testId} data-total={grand}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${unit} per day`}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={width - pad.r} y1={y(t)} y2={y(t)} className="grid" />
            <text x={pad.l - 6} y={y(t) + 4} textAnchor="end" className="tick">
              {compact(t)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          let acc = 0;
          const x = pad.l + i * slot + (slot - barW) / 2;
          return (
            <g key={d}>
              {series.map((s) => {
                const v = s.values.get(d) ?? 0;
                if (v <= 0) return null;
                const top = y(acc + v);
                const h = y(acc) - top;
                acc += v;
                return (
                  <rect key={s.name} x={x} y={top} width={barW} height={Math.max(1, h)} fill={s.color} rx={2}>
                    <title>{`${dayLabel(d)} · ${s.name}: ${n(v)} ${unit}`}</title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 || i === days.length - 1 ? (
                <text x={pad.l + i * slot + slot / 2} y={height - 8} textAnchor="middle" className="tick">
                  {dayLabel(d)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {series.length === 0 ? <span className="muted">No deployments with data.</span> : null}
        {series.map((s) => (
          <span key={s.name} className="legend">
            <i style={{ background: s.color }} /> {s.name} <span className="muted">({n([...s.values.values()].reduce((a, b) => a + b, 0))})</span>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function compact(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}K`;
  return String(+v.toFixed(v < 10 && v % 1 ? 1 : 0));
}
