// The benchmark's results: their shape, the per-model tables printed at the end, and
// the JSON summary.
export interface SingleStreamRow {
  threads: number;
  llamaBench?: { tps: number; stddev: number; runs: number[] };
  nodeLlamaCpp?: { tps: number; runs: number[] };
  /** The same direct call with UV_THREADPOOL_SIZE=1 in its process. */
  nodeLlamaCppUv1?: { tps: number; runs: number[] };
  ingot?: { tps: number; runs: number[]; ttftMs: number };
  /** Median over rounds of Ingot's run over the llama-bench run just before it. */
  ingotOverLlamaBenchByRound?: number;
  error?: string;
}

export interface AggregateRow {
  streams: number;
  ingot?: { tps: number; runs: number[]; perStreamDecodeTps: number };
  llamaServer?: { tps: number; runs: number[]; perStreamDecodeTps: number };
}

export interface ModelResult {
  model: string;
  engine: "src";
  file: string;
  tokens: number;
  single: SingleStreamRow[];
  aggregate: { threads: number; rows: AggregateRow[]; llamaServerArgs?: string[]; error?: string };
  ratios: {
    ingotOverLlamaBench: Record<string, number | null>;
    nodeLlamaCppOverLlamaBench: Record<string, number | null>;
    /** Ingot at its best thread count over llama-bench at its best. */
    ingotBestOverLlamaBenchBest?: number | null;
    /** The round-by-round ratio at the thread count where Ingot was fastest. */
    ingotOverLlamaBenchByRoundAtBest?: number | null;
    ingotOverLlamaServerAt8?: number | null;
  };
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function computeRatios(r: Omit<ModelResult, "ratios">): ModelResult["ratios"] {
  const ingotOverLlamaBench: Record<string, number | null> = {};
  const nodeLlamaCppOverLlamaBench: Record<string, number | null> = {};
  for (const s of r.single) {
    ingotOverLlamaBench[s.threads] = ratio(s.ingot?.tps, s.llamaBench?.tps) ?? null;
    nodeLlamaCppOverLlamaBench[s.threads] = ratio(s.nodeLlamaCpp?.tps, s.llamaBench?.tps) ?? null;
  }
  const at8 = r.aggregate.rows.find((x) => x.streams === 8);
  const best = (xs: (number | undefined)[]) => (xs.some((x) => x !== undefined) ? Math.max(...xs.filter((x) => x !== undefined)) : undefined);
  return {
    ingotOverLlamaBench,
    nodeLlamaCppOverLlamaBench,
    ingotBestOverLlamaBenchBest: ratio(best(r.single.map((s) => s.ingot?.tps)), best(r.single.map((s) => s.llamaBench?.tps))) ?? null,
    ingotOverLlamaBenchByRoundAtBest: r.single.reduce<SingleStreamRow | undefined>((a, s) => ((s.ingot?.tps ?? 0) > (a?.ingot?.tps ?? 0) ? s : a), undefined)?.ingotOverLlamaBenchByRound ?? null,
    ingotOverLlamaServerAt8: at8 ? (ratio(at8.ingot?.tps, at8.llamaServer?.tps) ?? null) : undefined,
  };
}

export function renderModel(r: ModelResult): string {
  const out: string[] = [];
  out.push(`\n=== ${r.model} Q8_0 (random weights) — ${r.file}`);
  out.push(`Single stream, greedy, ${r.tokens} generated tokens: decode tokens/s (first to last token; median)`);
  out.push(
    table(
      ["threads", "llama-bench tg", "node-llama-cpp", "nlc uv1", "Ingot HTTP", "nlc/llama-bench", "Ingot/llama-bench", "by round", "Ingot TTFT ms"],
      r.single.map((s) => [
        String(s.threads),
        s.llamaBench ? `${fmt(s.llamaBench.tps)} ±${fmt(s.llamaBench.stddev)}` : "—",
        fmt(s.nodeLlamaCpp?.tps),
        fmt(s.nodeLlamaCppUv1?.tps),
        fmt(s.ingot?.tps),
        fmt(ratio(s.nodeLlamaCpp?.tps, s.llamaBench?.tps), 3),
        fmt(ratio(s.ingot?.tps, s.llamaBench?.tps), 3),
        fmt(s.ingotOverLlamaBenchByRound, 3),
        fmt(s.ingot?.ttftMs, 0),
      ]),
    ),
  );
  for (const s of r.single) if (s.error) out.push(`  threads ${s.threads}: ${s.error}`);
  out.push(`  Ingot (best threads) / llama-bench (best threads): ${fmt(r.ratios.ingotBestOverLlamaBenchBest ?? undefined, 3)} (medians); round by round at Ingot's best: ${fmt(r.ratios.ingotOverLlamaBenchByRoundAtBest ?? undefined, 3)}`);
  out.push("  llama-bench and Ingot alternate: each round is one llama-bench run (-r 1) and then one Ingot stream");
  out.push("  nlc uv1 = node-llama-cpp direct with UV_THREADPOOL_SIZE=1 (see the report's findings)");
  out.push(`\nConcurrent streams, ${r.aggregate.threads} threads, ${r.tokens} tokens each: aggregate tokens/s (all tokens / wall time; median)`);
  out.push(
    table(
      ["streams", "Ingot", "llama-server", "Ingot/llama-server", "per-stream decode Ingot", "per-stream decode llama-server"],
      r.aggregate.rows.map((a) => [
        String(a.streams),
        fmt(a.ingot?.tps),
        fmt(a.llamaServer?.tps),
        fmt(ratio(a.ingot?.tps, a.llamaServer?.tps), 3),
        fmt(a.ingot?.perStreamDecodeTps),
        fmt(a.llamaServer?.perStreamDecodeTps),
      ]),
    ),
  );
  if (r.aggregate.error) out.push(`  ${r.aggregate.error}`);
  out.push(`  Ingot/llama-server at 8 streams: ${fmt(r.ratios.ingotOverLlamaServerAt8 ?? undefined, 3)}`);
  if (r.aggregate.llamaServerArgs) out.push(`  llama-server ${r.aggregate.llamaServerArgs.join(" ")}`);
  return out.join("\n");
}
