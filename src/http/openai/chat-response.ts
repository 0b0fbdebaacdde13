// Core → wire: chat completion objects and stream chunks in OpenAI's shape, which Azure
// OpenAI and the model-inference API share. Azure's content-filter annotations
// (prompt_filter_results, per-choice content_filter_results, and the first stream chunk with
// empty choices that carries them) are rendered from the filter's verdicts (core/safety/filter.ts);
// an unfiltered deployment gets none rather than fabricated "safe" results.
import type { ChatChunk, FinishReason, TokenLogprob, ToolCall, Usage } from "../../core/generation/types.ts";
import type { ContentFilterResults, FilteredStream, FilterEvent } from "../../core/safety/filter.ts";

export const SYSTEM_FINGERPRINT = "fp_ingot";

export function usageJson(u: Usage) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

export function logprobsJson(items: TokenLogprob[] | undefined) {
  if (!items) return null;
  return { content: items.map((l) => ({ token: l.token, logprob: l.logprob, bytes: l.bytes, top_logprobs: l.top })), refusal: null };
}

const toolCallJson = (c: ToolCall) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } });

interface ChoiceState {
  content: string;
  toolCalls: ToolCall[];
  finish: FinishReason | null;
  logprobs?: TokenLogprob[];
}

/** Azure's first stream event: no choices, the prompt's annotations (reference §2.5). */
export function promptAnnotationChunk(stream: FilteredStream) {
  return { id: "", object: "", created: 0, model: "", choices: [], system_fingerprint: null, prompt_filter_results: stream.promptFilterResults };
}

/** Asynchronous_filter's annotation event: empty id and model, the choice's results and the characters they cover. */
export function asyncAnnotationChunk(e: FilterEvent) {
  return { id: "", object: "", created: 0, model: "", choices: [{ index: e.index, finish_reason: null, content_filter_results: e.results, content_filter_offsets: e.offsets }] };
}

/** Per-choice annotations of a filtered reply (a choice the filter saw nothing of was still classified: its empty text). */
export const choiceAnnotations = (stream: FilteredStream, index: number): { content_filter_results?: ContentFilterResults } =>
  stream.promptFilterResults ? { content_filter_results: stream.completionResults?.get(index) ?? {} } : {};

/** Drains a generation into a chat.completion object. */
export async function collectChat(stream: FilteredStream, wantLogprobs: boolean) {
  const choices = new Map<number, ChoiceState>();
  const choice = (i: number) => choices.get(i) ?? choices.set(i, { content: "", toolCalls: [], finish: null, logprobs: wantLogprobs ? [] : undefined }).get(i)!;
  for await (const c of stream.chunks) if (c.type !== "content_filter") applyChunk(choice(c.index), c);
  return {
    id: stream.id,
    object: "chat.completion",
    created: stream.created,
    model: stream.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    ...(stream.promptFilterResults ? { prompt_filter_results: stream.promptFilterResults } : {}),
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, s]) => ({
        index,
        message: {
          role: "assistant",
          content: s.toolCalls.length && !s.content ? null : s.content,
          refusal: null,
          ...(s.toolCalls.length ? { tool_calls: s.toolCalls.map(toolCallJson) } : {}),
        },
        finish_reason: s.finish,
        logprobs: logprobsJson(s.logprobs),
        ...choiceAnnotations(stream, index),
      })),
    usage: usageJson(stream.usage),
  };
}

function applyChunk(s: ChoiceState, c: ChatChunk): void {
  if (c.type === "content") {
    s.content += c.text;
    if (s.logprobs && c.logprobs) s.logprobs.push(...c.logprobs);
  } else if (c.type === "tool_call") s.toolCalls.push(c.call);
  else s.finish = c.reason;
}

/** Yields the chat.completion.chunk objects for a stream, in Azure's order. */
export async function* chatChunks(stream: FilteredStream, includeUsage: boolean): AsyncGenerator<object> {
  const base = { id: stream.id, object: "chat.completion.chunk", created: stream.created, model: stream.model, system_fingerprint: SYSTEM_FINGERPRINT };
  const started = new Set<number>();
  const filtered = !!stream.promptFilterResults;
  // Default mode: the results of the checked segment ride on its chunks.
  const current = new Map<number, ContentFilterResults>();
  const chunk = (index: number, delta: object, finish: FinishReason | null = null, logprobs: object | null = null) => ({
    ...base,
    choices: [{ index, delta, finish_reason: finish, logprobs, ...(filtered ? { content_filter_results: current.get(index) ?? {} } : {}) }],
  });
  if (filtered) yield promptAnnotationChunk(stream);
  for await (const c of stream.chunks) {
    if (c.type === "content_filter") {
      if (c.inline) current.set(c.index, c.results);
      else yield asyncAnnotationChunk(c);
      continue;
    }
    if (!started.has(c.index)) {
      started.add(c.index);
      // The role delta carries empty results (as Azure's does): nothing of the completion was checked yet.
      yield { ...base, choices: [{ index: c.index, delta: { role: "assistant", content: "", refusal: null }, finish_reason: null, logprobs: null, ...(filtered ? { content_filter_results: {} } : {}) }] };
    }
    if (c.type === "content") {
      if (c.text || c.logprobs?.length) yield chunk(c.index, { content: c.text }, null, c.logprobs ? logprobsJson(c.logprobs) : null);
    } else if (c.type === "tool_call") {
      yield chunk(c.index, { tool_calls: [{ index: c.callIndex, ...toolCallJson(c.call) }] });
    } else yield chunk(c.index, {}, c.reason);
  }
  if (includeUsage) yield { ...base, choices: [], usage: usageJson(stream.usage) };
}
