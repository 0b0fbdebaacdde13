// Streaming HTTP clients for Ingot's /openai/v1/completions and llama-server's
// /completion, with per-request timing, and a runner for N concurrent streams.
import { performance } from "node:perf_hooks";

export interface StreamTiming {
  /** ms (performance.now) when the request was sent, the first and last token arrived, and the stream ended. */
  sent: number;
  first: number;
  last: number;
  ended: number;
  /** Completion tokens as the server counted them (usage / tokens_predicted). */
  tokens: number;
  /** Decode tokens/s the server itself reports, when it does (llama-server timings). */
  serverDecodeTps?: number;
}

export interface Target {
  kind: "ingot" | "llama-server";
  url: string;
  apiKey?: string;
  /** Ingot deployment name. */
  deployment?: string;
}

/** Decode rate of one stream: tokens after the first, over the time from first to last token. */
export function decodeTps(t: StreamTiming): number {
  return t.last > t.first ? ((t.tokens - 1) * 1000) / (t.last - t.first) : 0;
}

function requestFor(target: Target, prompt: string, tokens: number): { url: string; init: RequestInit } {
  if (target.kind === "ingot") {
    return {
      url: `${target.url}/openai/v1/completions`,
      init: {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": target.apiKey ?? "" },
        body: JSON.stringify({
          model: target.deployment,
          prompt,
          max_tokens: tokens,
          temperature: 0,
          stream: true,
          stream_options: { include_usage: true },
        }),
      },
    };
  }
  return {
    url: `${target.url}/completion`,
    init: {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, n_predict: tokens, ignore_eos: true, temperature: 0, stream: true, cache_prompt: true }),
    },
  };
}

/** Sends one streaming completion and times it. Bounded by `timeoutMs` and by the event count. */
export async function streamOnce(target: Target, prompt: string, tokens: number, timeoutMs: number): Promise<StreamTiming> {
  const { url, init } = requestFor(target, prompt, tokens);
  const sent = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`${target.kind} ${url}: HTTP ${res.status} ${await res.text().catch(() => "")}`.slice(0, 600));
  let first = 0;
  let last = 0;
  let count: number | undefined;
  let serverDecodeTps: number | undefined;
  let buffered = "";
  let events = 0;
  const maxEvents = tokens * 4 + 64;
  const decoder = new TextDecoder();
  const onData = (data: string): boolean => {
    if (data === "[DONE]") return true;
    const now = performance.now();
    const j = JSON.parse(data) as Record<string, unknown>;
    if (target.kind === "ingot") {
      const choices = j.choices as { text?: string }[] | undefined;
      if (choices?.some((c) => c.text)) {
        if (!first) first = now;
        last = now;
      }
      const usage = j.usage as { completion_tokens?: number } | undefined;
      if (usage?.completion_tokens !== undefined) count = usage.completion_tokens;
      return false;
    }
    if (typeof j.content === "string" && j.content.length > 0) {
      if (!first) first = now;
      last = now;
    }
    if (j.stop === true) {
      count = j.tokens_predicted as number;
      serverDecodeTps = (j.timings as { predicted_per_second?: number } | undefined)?.predicted_per_second;
      return true;
    }
    return false;
  };
  let done = false;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let cut: number;
    while (!done && (cut = buffered.indexOf("\n\n")) !== -1) {
      const event = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 2);
      if (++events > maxEvents) throw new Error(`${target.kind}: more than ${maxEvents} events for ${tokens} tokens`);
      for (const line of event.split("\n")) if (line.startsWith("data: ") && onData(line.slice(6))) done = true;
    }
    if (done) break;
  }
  const ended = performance.now();
  if (count === undefined) throw new Error(`${target.kind}: the stream ended without a token count`);
  if (count !== tokens) throw new Error(`${target.kind}: generated ${count} tokens, asked for ${tokens} (a model that emits end-of-text cannot be benchmarked this way)`);
  return { sent, first, last, ended, tokens: count, serverDecodeTps };
}

export interface ConcurrentResult {
  streams: number;
  /** All completion tokens over the wall time from the first request sent to the last stream ended. */
  aggregateTps: number;
  /** Mean of each stream's own decode rate. */
  perStreamDecodeTps: number;
  wallMs: number;
}

/** Starts `streams` requests at once (distinct prompts) and waits for all of them. */
export async function runConcurrent(target: Target, streams: number, promptFor: (i: number) => string, tokens: number, timeoutMs: number): Promise<ConcurrentResult> {
  const timings = await Promise.all(Array.from({ length: streams }, (_, i) => streamOnce(target, promptFor(i), tokens, timeoutMs)));
  const start = Math.min(...timings.map((t) => t.sent));
  const end = Math.max(...timings.map((t) => t.ended));
  const total = timings.reduce((s, t) => s + t.tokens, 0);
  return {
    streams,
    aggregateTps: (total * 1000) / (end - start),
    perStreamDecodeTps: timings.reduce((s, t) => s + decodeTps(t), 0) / streams,
    wallMs: end - start,
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
