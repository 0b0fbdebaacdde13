// Runs one Batch API line the way the online endpoint runs a request (same parsers, the same
// content-filter path, the same reply shapes), on the batch deployment (GenerationService's
// `batch` option: no online rate limits; the job's enqueued tokens were counted at create).
// An IngotError becomes the line's status_code and error body, as the online call would answer.
import type { LineExecutor } from "../../core/batch/service.ts";
import type { BatchEndpoint, LineOutcome } from "../../core/batch/types.ts";
import type { Usage } from "../../core/generation/types.ts";
import { chatPromptText, filteredGeneration } from "../../core/safety/filter.ts";
import type { AppContext } from "../context.ts";
import { errorBody, toIngotError } from "../errors.ts";
import { collectChat } from "./chat-response.ts";
import { parseChatRequest } from "./chat-request.ts";
import { collectCompletion, parseCompletionRequest } from "./completions.ts";
import { embeddingsJson, parseEmbeddingRequest } from "./embeddings.ts";
import { ResponseBuilder } from "./responses-events.ts";
import { conversationFor, newId, parseResponsesRequest } from "./responses-request.ts";

type Deps = Pick<AppContext, "generation" | "safety" | "responses">;

const usageOf = (u: Usage) => ({ promptTokens: u.promptTokens, completionTokens: u.completionTokens, cachedTokens: u.cachedTokens });

export function batchLineExecutor(ctx: Deps): LineExecutor {
  return async (account, deployment, endpoint, body, signal) => {
    try {
      return await run(ctx, account, deployment, endpoint, body, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      const err = toIngotError(e);
      return { statusCode: err.status, body: errorBody("openai", err) };
    }
  };
}

async function run(ctx: Deps, account: string, deployment: string, endpoint: BatchEndpoint, body: Record<string, unknown>, signal: AbortSignal): Promise<LineOutcome> {
  const opts = { batch: true, apiVersion: "batch" };
  switch (endpoint) {
    case "/chat/completions": {
      const req = parseChatRequest(body, deployment);
      const call = { account, deployment, prompts: [chatPromptText(req.messages)], streaming: false, choices: req.n, signal };
      const stream = await filteredGeneration(ctx.safety, call, () => ctx.generation.chat(account, req, signal, opts));
      const json = await collectChat(stream, req.logprobs);
      return { statusCode: 200, body: json, usage: usageOf(stream.usage) };
    }
    case "/completions": {
      const req = parseCompletionRequest(body, deployment);
      const call = { account, deployment, prompts: req.prompts.map((text) => ({ text })), streaming: false, choices: req.prompts.length * req.n, signal };
      const stream = await filteredGeneration(ctx.safety, call, () => ctx.generation.complete(account, req, signal, opts));
      const json = await collectCompletion(stream, req.logprobs !== null);
      return { statusCode: 200, body: json, usage: usageOf(stream.usage) };
    }
    case "/embeddings": {
      const req = parseEmbeddingRequest(body, deployment);
      const result = await ctx.generation.embed(account, req, signal, opts);
      return { statusCode: 200, body: embeddingsJson(result, req.encoding), usage: { promptTokens: result.promptTokens, completionTokens: 0, cachedTokens: 0 } };
    }
    case "/responses": {
      const req = parseResponsesRequest(body, deployment);
      const chain = ctx.responses.conversationBefore(account, req.previousResponseId);
      const messages = conversationFor(req, chain);
      const call = { account, deployment, prompts: [chatPromptText(messages)], streaming: false, choices: 1, signal };
      const stream = await filteredGeneration(ctx.safety, call, () => ctx.generation.chat(account, { ...req.chat, messages }, signal, opts));
      // Batch answers are not stored for chaining: the output file holds them.
      const builder = new ResponseBuilder({ id: newId("resp"), created_at: stream.created, model: stream.model, ...req.echo, store: false });
      for await (const c of stream.chunks) if (c.type !== "content_filter") builder.push(c);
      const { response } = builder.finish(stream.usage);
      return { statusCode: 200, body: response, usage: usageOf(stream.usage) };
    }
  }
}
