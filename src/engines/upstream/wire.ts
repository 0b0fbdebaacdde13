// Ingot's generation types to the OpenAI wire format an upstream takes, and the upstream's
// streamed chunks back to engine events. Upstream-specific bits: llama-server's per-request
// `lora` list, vLLM's LoRA adapters addressed by model name.
import type { ChatMessage, TokenLogprob, ToolChoice } from "../../core/generation/types.ts";
import type { GenerateParams } from "../../core/ports/index.ts";

/**
 * How a request selects a LoRA adapter on the upstream. llama-server applies its loaded adapters at
 * their global scale unless a request lists them (an empty `lora` list counts as not listing them),
 * so every request to a server with adapters lists all of them: the chosen one at 1, the others at 0.
 */
export type AdapterSelection = { kind: "none"; loraIds: number[] } | { kind: "llama-server"; id: number; loraIds: number[] } | { kind: "vllm"; name: string };

function wireMessage(m: ChatMessage): Record<string, unknown> {
  // `developer` is the newer name of `system`; not every server's chat template knows it.
  const role = m.role === "developer" ? "system" : m.role;
  const out: Record<string, unknown> = { role, content: m.content };
  if (m.name) out.name = m.name;
  if (m.role === "assistant" && m.toolCalls?.length) {
    out.content = m.content === "" ? null : m.content;
    out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  }
  if (m.role === "tool" && m.toolCallId) out.tool_call_id = m.toolCallId;
  return out;
}

const wireToolChoice = (c: ToolChoice) => (typeof c === "string" ? c : { type: "function", function: { name: c.name } });

/** The JSON body of chat/completions or completions for one choice (always streamed, usage asked for). */
export function requestBody(model: string, params: GenerateParams, adapter: AdapterSelection): { path: string; body: Record<string, unknown> } {
  const s = params.sampling;
  const body: Record<string, unknown> = { model: adapter.kind === "vllm" ? adapter.name : model, stream: true, stream_options: { include_usage: true } };
  let path: string;
  const input = params.input;
  if (input.kind === "chat") {
    path = "chat/completions";
    body.messages = input.messages.map(wireMessage);
    if (input.tools.length) {
      body.tools = input.tools.map((t) => ({
        type: "function",
        function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), ...(t.parameters !== undefined ? { parameters: t.parameters } : {}), ...(t.strict !== undefined ? { strict: t.strict } : {}) },
      }));
      body.tool_choice = wireToolChoice(input.toolChoice);
      body.parallel_tool_calls = input.parallelToolCalls;
    }
    const f = input.responseFormat;
    if (f.type === "json_object") body.response_format = { type: "json_object" };
    else if (f.type === "json_schema") body.response_format = { type: "json_schema", json_schema: { name: f.name, schema: f.schema, strict: f.strict } };
    if (params.logprobs !== null) {
      body.logprobs = true;
      if (params.logprobs > 0) body.top_logprobs = params.logprobs;
    }
  } else {
    path = "completions";
    body.prompt = input.prompt;
    if (input.suffix !== undefined) body.suffix = input.suffix;
    if (params.logprobs !== null) body.logprobs = params.logprobs;
  }
  if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
  body.temperature = s.temperature;
  body.top_p = s.topP;
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.presencePenalty) body.presence_penalty = s.presencePenalty;
  if (s.frequencyPenalty) body.frequency_penalty = s.frequencyPenalty;
  if (Object.keys(s.logitBias).length) body.logit_bias = s.logitBias;
  if (s.topK !== undefined) body.top_k = s.topK;
  if (s.minP !== undefined) body.min_p = s.minP;
  if (params.stop.length) body.stop = params.stop;
  if (adapter.kind === "llama-server") body.lora = [...new Set([adapter.id, ...adapter.loraIds])].map((id) => ({ id, scale: id === adapter.id ? 1 : 0 }));
  else if (adapter.kind === "none" && adapter.loraIds.length) body.lora = adapter.loraIds.map((id) => ({ id, scale: 0 }));
  return { path, body };
}

/** What one chat or completion stream accumulates until its end. */
export class ChunkReader {
  finishReason: string | undefined;
  usage: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | undefined;
  /** Tool calls by their stream index, arguments concatenated. */
  toolCalls = new Map<number, { name: string; arguments: string }>();
  text = "";
  done = false;

  /**
   * One parsed chunk (or a whole non-streamed reply): returns its content and logprobs, if any.
   * Throws on a chunk that is not an OpenAI-shaped object.
   */
  read(chunk: unknown): { text: string; logprobs?: TokenLogprob[] } | undefined {
    if (typeof chunk !== "object" || chunk === null) throw new Error("a chunk is not a JSON object");
    const c = chunk as { choices?: unknown; usage?: unknown; error?: unknown };
    if (c.error !== undefined) throw new UpstreamReplyError(c.error);
    if (c.usage && typeof c.usage === "object") this.usage = c.usage as ChunkReader["usage"];
    if (c.choices === undefined && c.usage !== undefined) return undefined;
    if (!Array.isArray(c.choices)) throw new Error("a chunk has no choices array");
    const choice = c.choices[0] as Record<string, unknown> | undefined;
    if (!choice) return undefined;
    if (typeof choice.finish_reason === "string") this.finishReason = choice.finish_reason;
    const delta = (choice.delta ?? choice.message) as Record<string, unknown> | undefined;
    let text = "";
    if (delta) {
      if (typeof delta.content === "string") text = delta.content;
      if (Array.isArray(delta.tool_calls)) {
        for (const [k, raw] of (delta.tool_calls as Record<string, unknown>[]).entries()) {
          const index = typeof raw.index === "number" ? raw.index : k;
          const fn = (raw.function ?? {}) as { name?: string; arguments?: string };
          const call = this.toolCalls.get(index) ?? { name: "", arguments: "" };
          if (fn.name) call.name += fn.name;
          if (typeof fn.arguments === "string") call.arguments += fn.arguments;
          this.toolCalls.set(index, call);
        }
      }
    } else if (typeof choice.text === "string") text = choice.text;
    this.text += text;
    const logprobs = readLogprobs(choice.logprobs);
    return text || logprobs ? { text, logprobs } : undefined;
  }

  /** The finish reason as the engine port knows it. */
  engineFinish(): "stop" | "length" | "tool_calls" {
    if (this.toolCalls.size > 0) return "tool_calls";
    if (this.finishReason === "length") return "length";
    if (this.finishReason === "tool_calls" || this.finishReason === "function_call") return "tool_calls";
    return "stop";
  }

  /** Tool calls with compact JSON arguments (as the engine port promises); a call whose arguments are not JSON is an upstream fault. */
  calls(): { name: string; arguments: string }[] {
    return [...this.toolCalls.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, c]) => {
        let args: unknown;
        try {
          args = JSON.parse(c.arguments || "{}");
        } catch {
          throw new Error(`tool call '${c.name}' has arguments that are not JSON`);
        }
        return { name: c.name, arguments: JSON.stringify(args) };
      });
  }
}

/** An `error` object the upstream sent in a 200 stream. */
export class UpstreamReplyError extends Error {
  readonly detail: unknown;
  constructor(detail: unknown) {
    const d = detail as { message?: unknown } | string;
    super(typeof d === "string" ? d : typeof d?.message === "string" ? d.message : JSON.stringify(detail));
    this.detail = detail;
  }
}

const utf8 = (s: string) => [...Buffer.from(s, "utf8")];

/** Chat logprobs ({content: [{token, logprob, bytes, top_logprobs}]}) or legacy completion logprobs ({tokens, token_logprobs, top_logprobs}). */
function readLogprobs(raw: unknown): TokenLogprob[] | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (Array.isArray(r.content)) {
    return (r.content as Record<string, unknown>[]).map((t) => ({
      token: String(t.token ?? ""),
      logprob: Number(t.logprob ?? 0),
      bytes: Array.isArray(t.bytes) ? (t.bytes as number[]) : utf8(String(t.token ?? "")),
      top: Array.isArray(t.top_logprobs)
        ? (t.top_logprobs as Record<string, unknown>[]).map((a) => ({ token: String(a.token ?? ""), logprob: Number(a.logprob ?? 0), bytes: Array.isArray(a.bytes) ? (a.bytes as number[]) : utf8(String(a.token ?? "")) }))
        : [],
    }));
  }
  if (Array.isArray(r.tokens)) {
    const tokens = r.tokens as string[];
    const lps = (r.token_logprobs ?? []) as number[];
    const tops = (r.top_logprobs ?? []) as (Record<string, number> | null)[];
    return tokens.map((token, i) => ({
      token,
      logprob: lps[i] ?? 0,
      bytes: utf8(token),
      top: Object.entries(tops[i] ?? {}).map(([t, lp]) => ({ token: t, logprob: lp, bytes: utf8(t) })),
    }));
  }
  return undefined;
}

/** A rough token count where neither the upstream nor a tokenizer gives one: ~4 characters per token. */
export const estimateTokens = (text: string) => (text.length === 0 ? 0 : Math.ceil(text.length / 4));

/** The text a chat prompt tokenizes like, roughly (role markers and contents). */
export const chatPromptText = (messages: ChatMessage[]) => messages.map((m) => `<|${m.role}|>\n${m.content}${m.toolCalls?.map((c) => `${c.name}${c.arguments}`).join("") ?? ""}\n`).join("") + "<|assistant|>\n";
