// The playground's Responses API turn: the request body (only the new message once the server
// holds the conversation, chained by previous_response_id) and the stream of events
// (response.output_text.delta … response.completed) read into text, usage and the response id.
import { ApiError, stream } from "../api.ts";
import type { Session } from "../api.ts";

export type PlaygroundApi = "chat" | "responses";

export interface TurnInput {
  deployment: string;
  system: string;
  temperature: number;
  maxTokens: number;
  jsonMode: boolean;
  /** The stored response this turn continues; null starts a new server-side conversation. */
  previousId: string | null;
  /** The conversation on screen, ending with this turn's user message. */
  history: { role: "user" | "assistant"; content: string }[];
}

export function responsesBody(t: TurnInput): Record<string, unknown> {
  const last = t.history.at(-1)?.content ?? "";
  // Chained: the server has everything before this message. New chain: what is on screen goes once, as items.
  const input = t.previousId || t.history.length <= 1 ? last : t.history.map((m) => ({ type: "message", role: m.role, content: m.content }));
  return {
    model: t.deployment,
    input,
    // Instructions are not carried along a chain: every turn sends them.
    ...(t.system.trim() ? { instructions: t.system } : {}),
    ...(t.previousId ? { previous_response_id: t.previousId } : {}),
    temperature: t.temperature,
    max_output_tokens: t.maxTokens,
    store: true,
    stream: true,
    ...(t.jsonMode ? { text: { format: { type: "json_object" } } } : {}),
  };
}

export interface TurnResult {
  /** The stored response (set once the stream completed or stopped incomplete). */
  responseId?: string;
  stats: { promptTokens?: number; completionTokens?: number; totalTokens?: number; finishReason?: string | null };
}

/** Streams one turn; `onDelta` gets each piece of output text. Throws the response's error as an ApiError. */
export async function responseTurn(session: Session, body: Record<string, unknown>, signal: AbortSignal, onDelta: (text: string) => void): Promise<TurnResult> {
  const result: TurnResult = { stats: {} };
  for await (const ev of stream(session, "/responses", body, signal)) {
    switch (ev.type) {
      case "response.output_text.delta":
        if (ev.delta) onDelta(ev.delta);
        break;
      case "response.completed":
      case "response.incomplete": {
        const r = ev.response ?? {};
        result.responseId = r.id;
        if (r.usage) result.stats = { promptTokens: r.usage.input_tokens, completionTokens: r.usage.output_tokens, totalTokens: r.usage.total_tokens };
        result.stats.finishReason = r.status === "incomplete" ? (r.incomplete_details?.reason ?? "incomplete") : r.status;
        break;
      }
      case "response.failed": {
        const e = ev.response?.error ?? {};
        throw new ApiError(500, String(e.code ?? "server_error"), String(e.message ?? "The response failed."));
      }
      case "error":
        throw new ApiError(500, String(ev.code ?? "error"), String(ev.message ?? "The stream failed."));
    }
  }
  return result;
}
