// Validation of a Batch API input file (reference §3.3–3.4): JSON Lines in UTF-8 without a BOM,
// each line {custom_id, method: "POST", url, body} calling one of the batch endpoints, every
// line naming the same deployment in body.model and the same url, custom_ids unique, at most
// 100,000 lines. Problems carry Azure's codes and the 1-based line. Used twice: when a file
// with purpose "batch" arrives (status_details) and when a batch is created (errors.data).
// What the request bodies themselves contain is checked when each line runs: a bad body is a
// failed line (status_code 400, the same message an online call gets), not a failed batch.
import { firstInvalidUtf8, splitLines } from "../files/validate.ts";
import { canonicalEndpoint, type BatchEndpoint, type BatchError, type BatchLineInput } from "./types.ts";

export const MAX_BATCH_LINES = 100_000;
/** Longer custom_ids are refused (OpenAI allows 512 characters). */
export const MAX_CUSTOM_ID = 512;
const ENDPOINT_LIST = "/v1/chat/completions, /v1/completions, /v1/embeddings or /v1/responses (the /v1 prefix is optional)";
const EXAMPLE = `{"custom_id": "task-0", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "<batch deployment>", "messages": [{"role": "user", "content": "Hi"}]}}`;

export interface BatchCheckOptions {
  /** The batch's endpoint: every line's url must be it (url_mismatch). Absent: the first line's. */
  endpoint?: BatchEndpoint;
  /** The batch's deployment: every line's body.model must be it (model_mismatch). Absent: the first line's. */
  deployment?: string;
  /** Keep the parsed lines (batch create); file validation only counts. */
  keepLines?: boolean;
  maxLines?: number;
  /** Problems listed; the rest are counted (default 100). */
  maxErrors?: number;
  signal?: AbortSignal;
}

export interface BatchFileCheck {
  errors: BatchError[];
  errorCount: number;
  /** Non-blank lines. */
  requests: number;
  lines: BatchLineInput[];
  /** The deployment the lines name (the first line's), when any line named one. */
  model: string | undefined;
  /** The first line's url. */
  url: string | undefined;
  /** Estimated input tokens of all lines (~4 characters a token, as admission estimates). */
  tokens: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/** Input tokens of a request body, estimated from the length of its text (no tokenizer needed). */
export function estimateLineTokens(body: Record<string, unknown>): number {
  let chars = 0;
  for (const key of ["messages", "prompt", "input", "instructions", "tools"]) {
    const v = body[key];
    if (v === undefined) continue;
    chars += typeof v === "string" ? v.length : JSON.stringify(v).length;
  }
  return Math.ceil(chars / 4);
}

/** Streams and checks a batch input file. */
export async function checkBatchFile(chunks: AsyncIterable<Uint8Array>, opts: BatchCheckOptions = {}): Promise<BatchFileCheck> {
  const maxLines = opts.maxLines ?? MAX_BATCH_LINES;
  const maxErrors = opts.maxErrors ?? 100;
  const out: BatchFileCheck = { errors: [], errorCount: 0, requests: 0, lines: [], model: opts.deployment, url: undefined, tokens: 0 };
  const fail = (e: BatchError) => {
    out.errorCount++;
    if (out.errors.length < maxErrors) out.errors.push(e);
  };
  let endpoint = opts.endpoint;
  const seen = new Map<string, number>();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  for await (const l of splitLines(chunks, 16 * 1024 * 1024)) {
    if (opts.signal?.aborted) break;
    let bytes = l.bytes;
    if (!l.tooLong && bytes.length && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    if (!l.tooLong && bytes.every((b) => b === 32 || b === 9)) continue;
    out.requests++;
    if (out.requests > maxLines) {
      if (out.requests === maxLines + 1)
        fail({ code: "too_many_tasks", message: `The file has more than ${maxLines} requests, the most one batch takes. Split it into several files and batches.`, line: l.number });
      continue;
    }
    if (l.tooLong) {
      fail({ code: "invalid_json_line", message: `Line ${l.number}: longer than 16 MB. Shorten the request.`, line: l.number });
      continue;
    }
    if (l.number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      fail({ code: "invalid_json_line", message: "Line 1: the file starts with a byte order mark (BOM). Save it as UTF-8 without a BOM.", line: 1 });
      continue;
    }
    const bad = firstInvalidUtf8(bytes);
    if (bad !== -1) {
      fail({ code: "invalid_json_line", message: `Line ${l.number}: not valid UTF-8 (byte ${bad + 1}). Save the file as UTF-8.`, line: l.number });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes));
    } catch (e) {
      fail({ code: "invalid_json_line", message: `Line ${l.number}: not valid JSON (${(e as Error).message}). Each line must be one JSON object, e.g. ${EXAMPLE}`, line: l.number });
      continue;
    }
    const problem = checkLine(value, l.number, { endpoint, model: out.model, seen });
    if (problem) {
      fail(problem);
      continue;
    }
    const line = value as { custom_id: string; url: string; body: Record<string, unknown> };
    out.url ??= line.url;
    endpoint ??= canonicalEndpoint(line.url);
    out.model ??= line.body.model as string;
    seen.set(line.custom_id, l.number);
    out.tokens += estimateLineTokens(line.body);
    if (opts.keepLines) out.lines.push({ line: l.number, customId: line.custom_id, body: line.body });
  }
  if (out.requests === 0) fail({ code: "empty_file", message: 'The file has no requests. Put one JSON request a line, e.g. ' + EXAMPLE, line: null });
  return out;
}

/** The first problem of one parsed line, or undefined. `seen`: custom_ids of earlier lines (their line numbers). */
export function checkLine(value: unknown, n: number, ctx: { endpoint?: BatchEndpoint; model?: string; seen: Map<string, number> }): BatchError | undefined {
  const at = (code: string, message: string, param: string | null = null): BatchError => ({ code, message: `Line ${n}: ${message}`, param, line: n });
  if (!isObject(value)) return at("invalid_json_line", `expected a JSON object, got ${kind(value)}. Each line must look like ${EXAMPLE}`);
  const v = value;
  if (typeof v.custom_id !== "string" || !v.custom_id)
    return at("invalid_request", v.custom_id === undefined ? "'custom_id' is missing. Give every request a unique string id." : `'custom_id' must be a non-empty string, got ${kind(v.custom_id)}.`, "custom_id");
  if (v.custom_id.length > MAX_CUSTOM_ID) return at("invalid_request", `'custom_id' is longer than ${MAX_CUSTOM_ID} characters.`, "custom_id");
  const first = ctx.seen.get(v.custom_id);
  if (first !== undefined) return at("duplicate_custom_id", `custom_id '${v.custom_id}' was already used on line ${first}. Every request needs its own custom_id.`, "custom_id");
  if (v.method !== "POST") return at("invalid_request", `'method' must be "POST", got ${JSON.stringify(v.method) ?? "nothing"}.`, "method");
  if (typeof v.url !== "string") return at("invalid_request", `'url' is missing or not a string. Use ${ENDPOINT_LIST}.`, "url");
  const endpoint = canonicalEndpoint(v.url);
  if (!endpoint) return at("invalid_url", `url '${v.url}' is not a batch endpoint. Use ${ENDPOINT_LIST}.`, "url");
  if (ctx.endpoint && endpoint !== ctx.endpoint)
    return at("url_mismatch", `url '${v.url}' differs from the batch's endpoint '${ctx.endpoint}'. All lines of a batch must call the endpoint given when the batch is created.`, "url");
  if (!isObject(v.body)) return at("invalid_request", `'body' must be a JSON object (the request as the online API takes it), got ${kind(v.body)}.`, "body");
  const model = v.body.model;
  if (typeof model !== "string" || !model) return at("invalid_request", "'body.model' must name the GlobalBatch or DataZoneBatch deployment the request runs on.", "body.model");
  if (ctx.model !== undefined && model !== ctx.model)
    return at("model_mismatch", `body.model '${model}' differs from '${ctx.model}'. Every line of a batch must name the same batch deployment.`, "body.model");
  if (v.body.stream === true) return at("invalid_request", "'body.stream' must not be true: batch requests are answered in the output file, not streamed. Remove 'stream'.", "body.stream");
  return undefined;
}

/** `status_details` of a file that failed validation: the listed problems, one a line, then a count. */
export function problemSummary(check: BatchFileCheck, listed = 10): string {
  const lines = check.errors.slice(0, listed).map((e) => `${e.code}: ${e.message}`);
  const more = check.errorCount - lines.length;
  if (more > 0) lines.push(`and ${more} more problem${more === 1 ? "" : "s"}`);
  return lines.join("\n");
}
