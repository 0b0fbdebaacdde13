// The token charge at admission (§2.7): a prompt estimate plus the most the request may
// generate. Azure estimates the prompt partly by characters; ~4 characters per token is
// the usual English rate and needs no tokenizer, so admission never waits on a model.
// The charge is corrected to the real usage once the reply is complete.
import type { ChatRequest, CompletionRequest, EmbeddingRequest } from "../generation/types.ts";

export interface TokenEstimate {
  prompt: number;
  /** The most tokens the request may generate; 0 when it sets no limit (charged after the reply). */
  completion: number;
  total: number;
}

const CHARS_PER_TOKEN = 4;
const tokensOf = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);
const estimate = (prompt: number, completion: number): TokenEstimate => ({ prompt, completion, total: prompt + completion });

export function estimateChat(req: ChatRequest): TokenEstimate {
  let chars = 0;
  for (const m of req.messages) {
    chars += m.content.length + (m.name?.length ?? 0);
    for (const c of m.toolCalls ?? []) chars += c.name.length + c.arguments.length;
  }
  for (const t of req.tools) chars += JSON.stringify({ name: t.name, description: t.description, parameters: t.parameters }).length;
  if (req.responseFormat.type === "json_schema") chars += JSON.stringify(req.responseFormat.schema).length;
  return estimate(tokensOf(chars), (req.maxTokens ?? 0) * req.n);
}

export function estimateCompletion(req: CompletionRequest): TokenEstimate {
  const chars = req.prompts.reduce((sum, p) => sum + p.length, 0) + (req.suffix?.length ?? 0) * req.prompts.length;
  // best_of candidates are all generated, so each may use max_tokens.
  return estimate(tokensOf(chars), req.maxTokens * Math.max(req.n, req.bestOf) * req.prompts.length);
}

export function estimateEmbedding(req: EmbeddingRequest): TokenEstimate {
  return estimate(tokensOf(req.inputs.reduce((sum, s) => sum + s.length, 0)), 0);
}
