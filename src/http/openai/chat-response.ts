// Core → wire: chat completion objects and stream chunks in OpenAI's shape, which Azure
// OpenAI and the model-inference API share. Azure's content-filter annotations
// (prompt_filter_results, per-choice content_filter_results, and the first stream chunk with
// empty choices that carries them) belong here, fed by a real filter's verdicts; until one
// exists none are sent rather than fabricated "safe" results.
import type { ChatChunk, FinishReason, TokenLogprob, ToolCall, Usage } from "../../core/generation/types.ts";
import type { GenerationStream } from "../../core/generation/service.ts";

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

/** Drains a generation into a chat.completion object. */
export async function collectChat(stream: GenerationStream, wantLogprobs: boolean) {
  const choices = new Map<number, ChoiceState>();
  const choice = (i: number) => choices.get(i) ?? choices.set(i, { content: "", toolCalls: [], finish: null, logprobs: wantLogprobs ? [] : undefined }).get(i)!;
  for await (const c of stream.chunks) applyChunk(choice(c.index), c);
  return {
    id: stream.id,
    object: "chat.completion",
    created: stream.created,
    model: stream.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
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
export async function* chatChunks(stream: GenerationStream, includeUsage: boolean): AsyncGenerator<object> {
  const base = { id: stream.id, object: "chat.completion.chunk", created: stream.created, model: stream.model, system_fingerprint: SYSTEM_FINGERPRINT };
  const started = new Set<number>();
  const chunk = (index: number, delta: object, finish: FinishReason | null = null, logprobs: object | null = null) => ({
    ...base,
    choices: [{ index, delta, finish_reason: finish, logprobs }],
  });
  for await (const c of stream.chunks) {
    if (!started.has(c.index)) {
      started.add(c.index);
      yield chunk(c.index, { role: "assistant", content: "", refusal: null });
    }
    if (c.type === "content") {
      if (c.text || c.logprobs?.length) yield chunk(c.index, { content: c.text }, null, c.logprobs ? logprobsJson(c.logprobs) : null);
    } else if (c.type === "tool_call") {
      yield chunk(c.index, { tool_calls: [{ index: c.callIndex, ...toolCallJson(c.call) }] });
    } else yield chunk(c.index, {}, c.reason);
  }
  if (includeUsage) yield { ...base, choices: [], usage: usageJson(stream.usage) };
}
