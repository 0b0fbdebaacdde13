// Azure AI model inference (/models/…, reference §3): `model` picks the deployment, and the
// `extra-parameters` header decides what happens to parameters the API does not define.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import { checkApiVersion, MODEL_INFERENCE_VERSIONS } from "../api-versions.ts";
import type { DeploymentRecord } from "../../core/ports/index.ts";
import type { AppContext } from "../context.ts";
import { handleChat, handleEmbeddings, withLimits } from "../openai/handlers.ts";
import type { Body } from "../validate.ts";
import { asBody } from "../validate.ts";

export const CHAT_PARAMS = new Set([
  "messages", "model", "frequency_penalty", "presence_penalty", "temperature", "top_p", "max_tokens", "stop", "stream", "seed", "response_format", "tools", "tool_choice",
]);
export const EMBEDDING_PARAMS = new Set(["input", "model", "dimensions", "encoding_format", "input_type"]);
/** Parameters the engine understands that the API leaves to `extra-parameters: pass-through`. */
const PASS_THROUGH = new Set([
  "n", "logprobs", "top_logprobs", "logit_bias", "stream_options", "max_completion_tokens", "parallel_tool_calls", "user", "top_k", "min_p",
]);
const SURFACE = { config: { surface: "inference" as const } };

type Query = { Querystring: Record<string, string> };

export function applyExtraParameters(request: FastifyRequest, body: Body, known: Set<string>): Body {
  const mode = String(request.headers["extra-parameters"] ?? "error").toLowerCase();
  if (!["error", "drop", "pass-through"].includes(mode))
    throw errors.invalid(`Invalid 'extra-parameters' header '${mode}': use 'error', 'drop' or 'pass-through'.`, "extra-parameters");
  const out: Body = {};
  for (const [k, v] of Object.entries(body)) {
    if (known.has(k) || (mode === "pass-through" && PASS_THROUGH.has(k))) out[k] = v;
    else if (mode === "error") throw errors.unsupportedParameter(k, v);
    // drop, or pass-through of a parameter this engine has no use for: leave it out.
  }
  return out;
}

function deploymentFor(request: FastifyRequest, body: Body | undefined, ctx: AppContext): string {
  const fromHeader = request.headers["azureml-model-deployment"];
  const model = body?.model ?? (request.query as Record<string, string>).model ?? fromHeader;
  if (typeof model === "string" && model) {
    // Model names are case-insensitive on this API.
    const match = ctx.deployments.list(request.account).find((d) => d.name.toLowerCase() === model.toLowerCase());
    return match?.name ?? model;
  }
  const names = ctx.deployments.list(request.account).map((d) => d.name);
  throw errors.invalid(`Missing 'model': name the deployment to use (one of: ${names.join(", ")}).`, "model");
}

export function registerModelInferenceRoutes(app: FastifyInstance, ctx: AppContext): void {
  const check = (request: FastifyRequest<Query>) => checkApiVersion(request.query["api-version"], MODEL_INFERENCE_VERSIONS, ctx.settings.skipApiVersionCheck);

  app.post<Query>("/models/chat/completions", SURFACE, async (request, reply) => {
    check(request);
    const raw = asBody(request.body);
    const deployment = deploymentFor(request, raw, ctx);
    // Inside withLimits so that a 422 for an unknown parameter carries the deployment's limits too.
    return withLimits(ctx, request, reply, deployment, () => handleChat(ctx, "inference", request, reply, deployment, applyExtraParameters(request, raw, CHAT_PARAMS)));
  });
  app.post<Query>("/models/embeddings", SURFACE, async (request, reply) => {
    check(request);
    const raw = asBody(request.body);
    const deployment = deploymentFor(request, raw, ctx);
    return withLimits(ctx, request, reply, deployment, () => handleEmbeddings(ctx, request, reply, deployment, applyExtraParameters(request, raw, EMBEDDING_PARAMS)));
  });
  app.get<Query>("/models/info", SURFACE, async (request) => {
    check(request);
    const name = deploymentFor(request, undefined, ctx);
    const d = ctx.deployments.list(request.account).find((x) => x.name === name);
    if (!d) throw errors.deploymentNotFound();
    return modelInfo(ctx, d);
  });
}

/** GET /info: the deployment's model as the model-inference API describes it. */
export function modelInfo(ctx: AppContext, d: DeploymentRecord) {
  const caps = ctx.catalog.find(d.model).capabilities;
  return { model_name: d.model.name, model_type: caps.includes("embeddings") ? "embeddings" : "chat-completions", model_provider_name: d.model.format };
}
