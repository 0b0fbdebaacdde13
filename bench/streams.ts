// Streaming HTTP clients for Ingot's /openai/v1/completions and llama-server's
// /completion, with per-request timing, and a runner for N concurrent streams.
//
// The client shares the cores with the servers it measures, so its CPU per token is taken
// from them; with 2 decode threads on 2 cores, time a client spends on an SSE event is time
// a decode thread does not run. Two transports: "fetch" (undici, web streams) and "http"
// (node:http, chunks handed straight to the SSE splitter), which costs less per event.
// Default: fetch; INGOT_BENCH_CLIENT=http (or --client http) selects the other.
import { Agent, request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";

export type StreamClient = "fetch" | "http";
let defaultClient: StreamClient = process.env.INGOT_BENCH_CLIENT === "http" ? "http" : "fetch";

export function setStreamClient(client: StreamClient): void {
  defaultClient = client;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });

/** Calls `onChunk` with each body chunk until it returns true or the body ends; the status first. */
function httpStream(url: string, init: RequestInit, timeoutMs: number, onChunk: (chunk: string) => boolean): Promise<{ status: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method, headers: init.headers as Record<string, string>, agent: keepAlive, timeout: timeoutMs }, (res) => {
      res.setEncoding("utf8");
      if (res.statusCode !== 200) {
        let body = "";
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 599, body }));
        return;
      }
      let done = false;
      res.on("data", (c: string) => {
        if (done) return;
        try {
          done = onChunk(c);
        } catch (e) {
          res.destroy();
          reject(e);
          return;
        }
        if (done) {
          res.destroy();
          resolve({ status: 200 });
        }
      });
      res.on("end", () => resolve({ status: 200 }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(init.body as string);
  });
}

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
export async function streamOnce(target: Target, prompt: string, tokens: number, timeoutMs: number, client: StreamClient = defaultClient): Promise<StreamTiming> {
  const { url, init } = requestFor(target, prompt, tokens);
  const sent = performance.now();
  let first = 0;
  let last = 0;
  let count: number | undefined;
  let serverDecodeTps: number | undefined;
  let buffered = "";
  let events = 0;
  const maxEvents = tokens * 4 + 64;
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
  const onChunk = (chunk: string): boolean => {
    buffered += chunk;
    let cut: number;
    while (!done && (cut = buffered.indexOf("\n\n")) !== -1) {
      const event = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 2);
      if (++events > maxEvents) throw new Error(`${target.kind}: more than ${maxEvents} events for ${tokens} tokens`);
      for (const line of event.split("\n")) if (line.startsWith("data: ") && onData(line.slice(6))) done = true;
    }
    return done;
  };
  if (client === "http") {
    const r = await httpStream(url, init, timeoutMs, onChunk);
    if (r.status !== 200) throw new Error(`${target.kind} ${url}: HTTP ${r.status} ${r.body ?? ""}`.slice(0, 600));
  } else {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok || !res.body) throw new Error(`${target.kind} ${url}: HTTP ${res.status} ${await res.text().catch(() => "")}`.slice(0, 600));
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) if (onChunk(decoder.decode(chunk, { stream: true }))) break;
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
