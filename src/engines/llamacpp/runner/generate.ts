// One generation on one sequence: evaluate the prompt (reusing the cached prefix), sample
// with the request's options and grammar, and send text pieces back as they are ready.
import { LlamaGrammarEvaluationState, TokenBias } from "node-llama-cpp";
import type { LlamaGrammar, LlamaModel, Token } from "node-llama-cpp";
import type { TokenLogprob } from "../../../core/generation/types.ts";
import type { FromRunner, GenerateMessage } from "../protocol.ts";
import type { SequencePool } from "./sequence-pool.ts";
import { TextStream } from "./text-stream.ts";

export interface GenerationDeps {
  model: LlamaModel;
  pool: SequencePool;
  contextLength: number;
  grammarFor(gbnf: string): LlamaGrammar;
  send(message: FromRunner): void;
}

/** Logprob stand-in for tokens sampling made impossible (p = 0), since JSON has no -Infinity. */
const IMPOSSIBLE_LOGPROB = -9999;

export async function runGeneration(deps: GenerationDeps, request: GenerateMessage, prompt: Token[], signal: { cancelled: boolean }): Promise<void> {
  const { model, pool, send } = deps;
  if (prompt.length >= deps.contextLength) {
    send({
      type: "error",
      id: request.id,
      code: "invalid_request",
      param: "messages",
      message: `This model's maximum context length is ${deps.contextLength} tokens. However, your messages resulted in ${prompt.length} tokens. Please reduce the length of the messages.`,
    });
    return;
  }
  const lease = await pool.acquire(prompt, signal);
  if (!lease) return;
  try {
    const { sequence, cachedTokens, id } = lease;
    let joined = false;
    const room = deps.contextLength - prompt.length;
    const maxTokens = Math.min(request.maxTokens ?? room, room);
    const grammarEvaluationState = request.grammar ? new LlamaGrammarEvaluationState({ model, grammar: deps.grammarFor(request.grammar) }) : undefined;
    const tokenBias = biasFor(model, request.sampling.logitBias);
    const generated: Token[] = [];
    const stream = new TextStream(request.stop, (tokens) => model.detokenize(tokens as Token[], false, generated.slice(-8 - tokens.length, -tokens.length)));
    const wantLogprobs = request.logprobs !== null;
    const s = request.sampling;
    const iterator = sequence.evaluateWithMetadata(
      prompt.slice(cachedTokens),
      { confidence: wantLogprobs, probabilities: wantLogprobs && (request.logprobs ?? 0) > 0 },
      {
        temperature: s.temperature,
        topP: s.topP,
        topK: s.topK,
        minP: s.minP,
        seed: s.seed,
        grammarEvaluationState,
        tokenBias,
        repeatPenalty:
          s.presencePenalty !== 0 || s.frequencyPenalty !== 0
            ? { punishTokens: () => generated, penalty: 1, presencePenalty: s.presencePenalty, frequencyPenalty: s.frequencyPenalty, maxPunishTokens: 256 }
            : undefined,
        contextShift: { strategy: "eraseBeginning" },
      },
    );
    let finishReason: "stop" | "length" = "stop";
    // Lockstep: after each token a sequence waits for the others, so all ask for their next
    // token together and node-llama-cpp decodes them in one batch (see step-barrier.ts).
    try {
      for await (const evaluated of iterator) {
        if (signal.cancelled) break;
        const output = evaluated as { token: Token; confidence?: number; probabilities?: Map<Token, number> };
        generated.push(output.token);
        const logprob = wantLogprobs ? tokenLogprob(model, output.token, output.confidence, output.probabilities, request.logprobs ?? 0) : undefined;
        const piece = stream.push(output.token, logprob);
        if (piece.text || piece.logprobs.length) send({ type: "text", id: request.id, text: piece.text, logprobs: wantLogprobs ? piece.logprobs : undefined });
        if (stream.stopped) break;
        if (generated.length >= maxTokens) {
          finishReason = "length";
          break;
        }
        if (!joined) pool.barrier.join(id);
        joined = true;
        await pool.barrier.arrive(id);
      }
    } finally {
      if (joined) pool.barrier.leave(id);
    }
    if (signal.cancelled) return;
    const tail = stream.end();
    if (tail.text || tail.logprobs.length) send({ type: "text", id: request.id, text: tail.text, logprobs: wantLogprobs ? tail.logprobs : undefined });
    if (stream.stopped) finishReason = "stop";
    send({ type: "done", id: request.id, finishReason, promptTokens: prompt.length, completionTokens: generated.length, cachedTokens });
  } finally {
    lease.release();
  }
}

function biasFor(model: LlamaModel, logitBias: [number, number][]): TokenBias | undefined {
  if (logitBias.length === 0) return undefined;
  const bias = new TokenBias(model.tokenizer);
  for (const [token, value] of logitBias) bias.set(token as Token, value <= -100 ? "never" : { logit: value });
  return bias;
}

function tokenLogprob(model: LlamaModel, token: Token, confidence: number | undefined, probabilities: Map<Token, number> | undefined, top: number): TokenLogprob {
  const entry = (t: Token, p: number | undefined) => {
    const text = model.detokenize([t], true);
    return { token: text, logprob: p && p > 0 ? Math.log(p) : IMPOSSIBLE_LOGPROB, bytes: [...Buffer.from(text, "utf8")] };
  };
  const alternatives: TokenLogprob["top"] = [];
  if (probabilities && top > 0) {
    for (const [t, p] of probabilities) {
      if (alternatives.length >= top) break;
      alternatives.push(entry(t, p));
    }
  }
  return { ...entry(token, confidence ?? probabilities?.get(token)), top: alternatives };
}
