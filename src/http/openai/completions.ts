// Legacy completions: wire ↔ core for `/completions`.
import { errors } from "../../core/errors.ts";
import type { ContentFilterResults, FilteredStream } from "../../core/safety/filter.ts";
import type { CompletionRequest, FinishReason, TokenLogprob } from "../../core/generation/types.ts";
import { asBody, optBoolean, optNumber, optString, stopSequences } from "../validate.ts";
import { asyncAnnotationChunk, choiceAnnotations, promptAnnotationChunk, SYSTEM_FINGERPRINT, usageJson } from "./chat-response.ts";
import { sampling } from "./sampling.ts";

/** Completions one request may ask for: prompts × max(n, best_of), as `n` alone is capped (1–128). */
const MAX_CHOICES = 128;

export function parseCompletionRequest(raw: unknown, deployment: string): CompletionRequest & { stream: boolean; includeUsage: boolean } {
  const body = asBody(raw);
  const prompt = body.prompt;
  if (prompt === undefined) throw errors.missing("prompt");
  const prompts = typeof prompt === "string" ? [prompt] : prompt;
  if (!Array.isArray(prompts) || prompts.length === 0 || prompts.some((p) => typeof p !== "string"))
    throw errors.invalid("Invalid 'prompt': send a string or a non-empty array of strings (token-id prompts are not supported; send the text).", "prompt");
  if (prompts.length > MAX_CHOICES)
    throw errors.invalid(
      `Invalid 'prompt': expected an array with maximum length ${MAX_CHOICES}, but got an array with length ${prompts.length} instead. Send the prompts in several requests.`,
      "prompt",
      "array_above_max_length",
    );
  const n = optNumber(body, "n", { min: 1, max: MAX_CHOICES, integer: true }) ?? 1;
  const stream = optBoolean(body, "stream") ?? false;
  const bestOf = optNumber(body, "best_of", { min: 1, max: 20, integer: true }) ?? n;
  if (bestOf < n) throw errors.invalid(`'best_of' (${bestOf}) must be greater than or equal to 'n' (${n}).`, "best_of");
  // Every prompt runs max(n, best_of) sequences: one request may not queue more than n's own cap.
  if (prompts.length * bestOf > MAX_CHOICES)
    throw errors.invalid(
      `Too many completions in one request: ${prompts.length} prompts × ${bestOf} ${bestOf > n ? "'best_of'" : "'n'"} = ${prompts.length * bestOf}; at most ${MAX_CHOICES} are allowed. Send fewer prompts per request or lower '${bestOf > n ? "best_of" : "n"}'.`,
      bestOf > n ? "best_of" : "n",
    );
  if (stream && bestOf > n) throw errors.invalid("'best_of' cannot be used with 'stream': the best candidate is only known once all have finished.", "best_of");
  return {
    deployment,
    prompts: prompts as string[],
    suffix: optString(body, "suffix"),
    echo: optBoolean(body, "echo") ?? false,
    maxTokens: optNumber(body, "max_tokens", { min: 0, integer: true }) ?? 16,
    sampling: sampling(body),
    stop: stopSequences(body),
    n,
    bestOf,
    logprobs: optNumber(body, "logprobs", { min: 0, max: 5, integer: true }) ?? null,
    stream,
    includeUsage: (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
  };
}

/** OpenAI's legacy logprobs; `start` is where the first token begins in the choice's whole text. */
function legacyLogprobs(items: TokenLogprob[] | undefined, start: number) {
  if (!items) return null;
  let offset = start;
  const text_offset = items.map((l) => {
    const at = offset;
    offset += l.token.length;
    return at;
  });
  return {
    tokens: items.map((l) => l.token),
    token_logprobs: items.map((l) => l.logprob),
    top_logprobs: items.map((l) => Object.fromEntries(l.top.map((t) => [t.token, t.logprob]))),
    text_offset,
  };
}

export async function collectCompletion(stream: FilteredStream, wantLogprobs: boolean) {
  const choices = new Map<number, { text: string; finish: FinishReason | null; logprobs: TokenLogprob[]; offsets: number[] }>();
  for await (const c of stream.chunks) {
    if (c.type === "content_filter") continue;
    const s = choices.get(c.index) ?? choices.set(c.index, { text: "", finish: null, logprobs: [], offsets: [] }).get(c.index)!;
    if (c.type === "content") {
      // Offsets count from the start of the choice's text (an echoed prompt included).
      if (c.logprobs) {
        s.logprobs.push(...c.logprobs);
        s.offsets.push(...legacyLogprobs(c.logprobs, s.text.length)!.text_offset);
      }
      s.text += c.text;
    } else if (c.type === "finish") s.finish = c.reason;
  }
  return {
    id: stream.id,
    object: "text_completion",
    created: stream.created,
    model: stream.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    ...(stream.promptFilterResults ? { prompt_filter_results: stream.promptFilterResults } : {}),
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, s]) => ({
        index,
        text: s.text,
        finish_reason: s.finish,
        logprobs: wantLogprobs ? { ...legacyLogprobs(s.logprobs, 0)!, text_offset: s.offsets } : null,
        ...choiceAnnotations(stream, index),
      })),
    usage: usageJson(stream.usage),
  };
}

export async function* completionChunks(stream: FilteredStream, includeUsage: boolean): AsyncGenerator<object> {
  const base = { id: stream.id, object: "text_completion", created: stream.created, model: stream.model, system_fingerprint: SYSTEM_FINGERPRINT };
  // Characters of each choice's text sent so far: text_offset counts from the start of the text, not of the chunk.
  const sent = new Map<number, number>();
  const filtered = !!stream.promptFilterResults;
  const current = new Map<number, ContentFilterResults>();
  const annotations = (index: number) => (filtered ? { content_filter_results: current.get(index) ?? {} } : {});
  if (filtered) yield promptAnnotationChunk(stream);
  for await (const c of stream.chunks) {
    if (c.type === "content_filter") {
      if (c.inline) current.set(c.index, c.results);
      else yield asyncAnnotationChunk(c);
    } else if (c.type === "content") {
      const at = sent.get(c.index) ?? 0;
      sent.set(c.index, at + c.text.length);
      yield { ...base, choices: [{ index: c.index, text: c.text, finish_reason: null, logprobs: legacyLogprobs(c.logprobs, at), ...annotations(c.index) }] };
    } else if (c.type === "finish") yield { ...base, choices: [{ index: c.index, text: "", finish_reason: c.reason, logprobs: null, ...annotations(c.index) }] };
  }
  if (includeUsage) yield { ...base, choices: [], usage: usageJson(stream.usage) };
}
