// One generation on one sequence: take a sequence (reusing the cached prefix), let the lane
// evaluate the prompt and each sampled token, sample with the request's options and grammar,
// and send text pieces back as they are ready.
import type { LlamaModel, Token } from "node-llama-cpp";
import type { TokenLogprob } from "../../../core/generation/types.ts";
import type { FromRunner, GenerateMessage } from "../protocol.ts";
import type { Lane } from "./lane.ts";
import type { RequestSampler, SampledProbabilities } from "./sampler.ts";
import { TextStream } from "./text-stream.ts";

export interface GenerationDeps {
  /** The vocabulary (node-llama-cpp, vocabulary only): detokenizing. */
  model: LlamaModel;
  lane: Lane;
  contextLength: number;
  isEog(token: number): boolean;
  /** The request's sampler (its grammar included); throws if the grammar cannot be used. */
  sampler(request: GenerateMessage, maxTokens: number): RequestSampler;
  send(message: FromRunner): void;
}

/** Logprob stand-in for tokens sampling made impossible (p = 0), since JSON has no -Infinity. */
const IMPOSSIBLE_LOGPROB = -9999;

export async function runGeneration(deps: GenerationDeps, request: GenerateMessage, prompt: number[], signal: { cancelled: boolean }): Promise<void> {
  const { model, lane, send } = deps;
  // No token to take logits from (the renderer gives an empty prompt a start token; this is the guard).
  if (prompt.length === 0)
    return send({ type: "error", id: request.id, code: "invalid_request", param: "prompt", message: "The prompt rendered to no tokens. Send a non-empty prompt." });
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
  const lease = await lane.acquire(prompt, signal);
  if (!lease) return;
  let sampler: RequestSampler | undefined;
  try {
    const { cachedTokens } = lease;
    const room = deps.contextLength - prompt.length;
    const maxTokens = Math.min(request.maxTokens ?? room, room);
    sampler = deps.sampler(request, maxTokens);
    const generated: Token[] = [];
    const stream = new TextStream(request.stop, (tokens) => model.detokenize(tokens as Token[], false, generated.slice(-8 - tokens.length, -tokens.length)));
    const wantLogprobs = request.logprobs !== null;
    const top = request.logprobs ?? 0;
    let finishReason: "stop" | "length" = "stop";
    const s = sampler;
    await lease.run(prompt, {
      cancelled: () => signal.cancelled,
      onLogits(idx) {
        const { token, probabilities } = s.sample(lane.ctx, idx);
        // The model finished: the end-of-generation token is not part of the text.
        if (deps.isEog(token)) return null;
        generated.push(token as Token);
        const logprob = wantLogprobs ? tokenLogprob(model, token, probabilities, top) : undefined;
        const piece = stream.push(token, logprob);
        if (piece.text || piece.logprobs.length) send({ type: "text", id: request.id, text: piece.text, logprobs: wantLogprobs ? piece.logprobs : undefined });
        if (stream.stopped) return null;
        if (generated.length >= maxTokens) {
          finishReason = "length";
          return null;
        }
        return token;
      },
    });
    if (signal.cancelled) return;
    const tail = stream.end();
    if (tail.text || tail.logprobs.length) send({ type: "text", id: request.id, text: tail.text, logprobs: wantLogprobs ? tail.logprobs : undefined });
    if (stream.stopped) finishReason = "stop";
    send({ type: "done", id: request.id, finishReason, promptTokens: prompt.length, completionTokens: generated.length, cachedTokens });
  } finally {
    sampler?.free();
    lease.release();
  }
}

function tokenLogprob(model: LlamaModel, token: number, probabilities: SampledProbabilities | undefined, top: number): TokenLogprob {
  const entry = (t: number, p: number | undefined) => {
    const text = model.detokenize([t as Token], true);
    return { token: text, logprob: p && p > 0 ? Math.log(p) : IMPOSSIBLE_LOGPROB, bytes: [...Buffer.from(text, "utf8")] };
  };
  const alternatives: TokenLogprob["top"] = [];
  if (probabilities && top > 0) for (const [t, p] of probabilities.top.slice(0, top)) alternatives.push(entry(t, p));
  return { ...entry(token, probabilities?.confidence), top: alternatives };
}
