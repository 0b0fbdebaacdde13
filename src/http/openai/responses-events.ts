// Core → wire for the Responses API: one builder turns a generation's chunks into the
// response object and, for streams, the event sequence openai-node's strict accumulator
// accepts (reference azure-api-2 §6): response.created → response.in_progress → per output item
// output_item.added (→ content_part.added → output_text.delta… → output_text.done →
// content_part.done | → function_call_arguments.delta → .done) → output_item.done → and last
// response.completed (or .incomplete) carrying the whole output and usage. Every event has a
// rising sequence_number. Only standard event types are emitted: the accumulator throws on others.
import type { ChatChunk, FinishReason, Usage } from "../../core/generation/types.ts";
import { newId } from "./responses-request.ts";
import type { ResponseEcho } from "./responses-request.ts";

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed" | "cancelled";

/** The response fields fixed at creation (the request's echo). */
export interface ResponseBase extends ResponseEcho {
  id: string;
  created_at: number;
  model: string;
}

type MessageItem = { type: "message"; id: string; role: "assistant"; status: string; content: { type: "output_text"; text: string; annotations: never[]; logprobs?: never[] }[] };
type FunctionCallItem = { type: "function_call"; id: string; call_id: string; name: string; arguments: string; status: string };
export type OutputItem = MessageItem | FunctionCallItem;

export interface ResponseEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

export function usageJson(u: Usage) {
  return {
    input_tokens: u.promptTokens,
    input_tokens_details: { cached_tokens: u.cachedTokens },
    output_tokens: u.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.promptTokens + u.completionTokens,
  };
}

/** The text of a response's message items, as Azure's `output_text` convenience field (and openai-node) computes it. */
export const outputText = (output: OutputItem[]) =>
  output.flatMap((i) => (i.type === "message" ? i.content.map((c) => c.text) : [])).join("");

export function responseObject(base: ResponseBase, output: OutputItem[], status: ResponseStatus, usage: Usage | null, extra: { incomplete?: string; error?: { code: string; message: string } } = {}) {
  return {
    id: base.id,
    object: "response",
    created_at: base.created_at,
    status,
    background: false,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete ? { reason: extra.incomplete } : null,
    instructions: base.instructions,
    max_output_tokens: base.max_output_tokens,
    model: base.model,
    output: structuredClone(output),
    output_text: outputText(output),
    parallel_tool_calls: base.parallel_tool_calls,
    previous_response_id: base.previous_response_id,
    reasoning: { effort: null, summary: null },
    store: base.store,
    temperature: base.temperature,
    text: base.text,
    tool_choice: base.tool_choice,
    tools: base.tools,
    top_p: base.top_p,
    truncation: "disabled",
    usage: usage ? usageJson(usage) : null,
    user: null,
    metadata: base.metadata,
  };
}

export type ResponseJson = ReturnType<typeof responseObject>;

/**
 * Builds a response from choice 0's chunks. `start()`, `push()` and `finish()` return the
 * events each step adds (a non-streaming caller ignores them and reads `finish()`'s response).
 */
export class ResponseBuilder {
  readonly base: ResponseBase;
  readonly output: OutputItem[] = [];
  #seq = 0;
  #open: MessageItem | null = null;
  #finish: FinishReason | null = null;

  constructor(base: ResponseBase) {
    this.base = base;
  }

  #event(type: string, fields: Record<string, unknown>): ResponseEvent {
    return { type, sequence_number: this.#seq++, ...fields };
  }

  #index(item: OutputItem) {
    return this.output.indexOf(item);
  }

  start(): ResponseEvent[] {
    const snapshot = responseObject(this.base, [], "in_progress", null);
    return [this.#event("response.created", { response: snapshot }), this.#event("response.in_progress", { response: snapshot })];
  }

  push(chunk: ChatChunk): ResponseEvent[] {
    if (chunk.index !== 0) return [];
    if (chunk.type === "finish") {
      this.#finish = chunk.reason;
      return [];
    }
    if (chunk.type === "content") {
      if (!chunk.text) return [];
      const events = this.#open ? [] : this.#openMessage();
      const item = this.#open!;
      item.content[0].text += chunk.text;
      events.push(this.#event("response.output_text.delta", { item_id: item.id, output_index: this.#index(item), content_index: 0, delta: chunk.text, logprobs: [] }));
      return events;
    }
    const events = this.#closeMessage("completed");
    const item: FunctionCallItem = { type: "function_call", id: newId("fc"), call_id: chunk.call.id, name: chunk.call.name, arguments: "", status: "in_progress" };
    this.output.push(item);
    const output_index = this.#index(item);
    events.push(this.#event("response.output_item.added", { output_index, item: { ...item } }));
    item.arguments = chunk.call.arguments;
    events.push(this.#event("response.function_call_arguments.delta", { item_id: item.id, output_index, delta: chunk.call.arguments }));
    events.push(this.#event("response.function_call_arguments.done", { item_id: item.id, output_index, name: item.name, arguments: item.arguments }));
    item.status = "completed";
    events.push(this.#event("response.output_item.done", { output_index, item: { ...item } }));
    return events;
  }

  #openMessage(): ResponseEvent[] {
    const item: MessageItem = { type: "message", id: newId("msg"), role: "assistant", status: "in_progress", content: [] };
    this.output.push(item);
    this.#open = item;
    const output_index = this.#index(item);
    const events = [this.#event("response.output_item.added", { output_index, item: structuredClone(item) })];
    item.content.push({ type: "output_text", text: "", annotations: [] });
    events.push(this.#event("response.content_part.added", { item_id: item.id, output_index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }));
    return events;
  }

  #closeMessage(status: string): ResponseEvent[] {
    const item = this.#open;
    if (!item) return [];
    this.#open = null;
    const output_index = this.#index(item);
    const part = item.content[0];
    item.status = status;
    return [
      this.#event("response.output_text.done", { item_id: item.id, output_index, content_index: 0, text: part.text, logprobs: [] }),
      this.#event("response.content_part.done", { item_id: item.id, output_index, content_index: 0, part: { ...part } }),
      this.#event("response.output_item.done", { output_index, item: structuredClone(item) }),
    ];
  }

  /** Closes what is open and gives the final lifecycle event and response: length → incomplete (max_output_tokens), content_filter → incomplete (content_filter). */
  finish(usage: Usage): { events: ResponseEvent[]; response: ResponseJson } {
    const incomplete = this.#finish === "length" ? "max_output_tokens" : this.#finish === "content_filter" ? "content_filter" : undefined;
    const itemStatus = incomplete ? "incomplete" : "completed";
    const events: ResponseEvent[] = [];
    // A reply with no text and no call is still one (empty) message, as OpenAI answers.
    if (!this.output.length) events.push(...this.#openMessage());
    events.push(...this.#closeMessage(itemStatus));
    const response = responseObject(this.base, this.output, incomplete ? "incomplete" : "completed", usage, incomplete ? { incomplete } : {});
    events.push(this.#event(incomplete ? "response.incomplete" : "response.completed", { response }));
    return { events, response };
  }

  /** A failure after the stream started: the error event (openai-node raises it as an APIError). */
  error(code: string, message: string, param: string | null): ResponseEvent {
    return this.#event("error", { code, message, param });
  }
}
