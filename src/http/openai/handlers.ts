// Handlers shared by every surface that speaks OpenAI's chat/completions/embeddings shapes.
// Each one: parse the wire body, call the generation service, shape the reply.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../context.ts";
import type { Surface } from "../errors.ts";
import { hasRateLimitHeaders, limitsOnReply, rateLimitErrorHeaders, rateLimitHeaders } from "../rate-limit-headers.ts";
import { sendSse } from "../sse.ts";
import { parseChatRequest } from "./chat-request.ts";
import { chatChunks, collectChat } from "./chat-response.ts";
import { collectCompletion, completionChunks, parseCompletionRequest } from "./completions.ts";
import { embeddingsJson, parseEmbeddingRequest } from "./embeddings.ts";
import { chatPromptText, filteredGeneration } from "../../core/safety/filter.ts";

/** Aborts generation when the client goes away before the reply is complete. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Every reply for a resolved deployment carries its rate limits: the generation service
 * reports them at admission; an error before that (bad parameters) looks them up here.
 */
export async function withLimits<T>(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, deployment: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    reply.headers(rateLimitErrorHeaders(e));
    if (!hasRateLimitHeaders(reply)) {
      const limits = await ctx.generation.limits(request.account, deployment);
      if (limits) reply.headers(rateLimitHeaders(limits));
    }
    throw e;
  }
}

const apiVersionOf = (request: FastifyRequest) => (request.query as Record<string, string | undefined>)["api-version"];

export async function handleChat(ctx: AppContext, surface: Surface, request: FastifyRequest, reply: FastifyReply, deployment: string, body: unknown) {
  return withLimits(ctx, request, reply, deployment, async () => {
    const req = parseChatRequest(body, deployment);
    const signal = clientGone(reply);
    // Content filtering (core/safety): the prompt checked first, the completions through the filter.
    const call = { account: request.account, deployment, prompts: [chatPromptText(req.messages)], streaming: req.stream, choices: req.n, signal };
    const stream = await filteredGeneration(ctx.safety, call, () => ctx.generation.chat(request.account, req, signal, limitsOnReply(reply, apiVersionOf(request))));
    if (req.stream) return sendSse(reply, surface, chatChunks(stream, req.includeUsage), (e) => request.log.error({ err: e }, "stream failed"));
    return collectChat(stream, req.logprobs);
  });
}

export async function handleCompletion(ctx: AppContext, surface: Surface, request: FastifyRequest, reply: FastifyReply, deployment: string, body: unknown) {
  return withLimits(ctx, request, reply, deployment, async () => {
    const req = parseCompletionRequest(body, deployment);
    const signal = clientGone(reply);
    const call = { account: request.account, deployment, prompts: req.prompts.map((text) => ({ text })), streaming: req.stream, choices: req.prompts.length * req.n, signal };
    const stream = await filteredGeneration(ctx.safety, call, () => ctx.generation.complete(request.account, req, signal, limitsOnReply(reply, apiVersionOf(request))));
    if (req.stream) return sendSse(reply, surface, completionChunks(stream, req.includeUsage), (e) => request.log.error({ err: e }, "stream failed"));
    return collectCompletion(stream, req.logprobs !== null);
  });
}

/** Embeddings are not content-filtered (Azure filters generations only). */
export async function handleEmbeddings(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, deployment: string, body: unknown) {
  return withLimits(ctx, request, reply, deployment, async () => {
    const req = parseEmbeddingRequest(body, deployment);
    const result = await ctx.generation.embed(request.account, req, clientGone(reply), limitsOnReply(reply, apiVersionOf(request)));
    return embeddingsJson(result, req.encoding);
  });
}
