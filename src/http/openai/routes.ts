// Azure OpenAI (dated, /openai/deployments/{d}/…), OpenAI v1 (/openai/v1/…) and the Foundry
// project endpoint (/api/projects/{p}/openai/v1/…): three URL shapes over the same handlers.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import { AZURE_OPENAI_VERSIONS, checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";
import { registerFileRoutes } from "./files.ts";
import { registerBatchRoutes } from "./batches.ts";
import { handleChat, handleCompletion, handleEmbeddings } from "./handlers.ts";
import { registerModelsRoutes } from "./models.ts";
import { registerDataPlaneDeploymentRoutes } from "./deployments.ts";

type DeploymentParams = { Params: { deployment: string }; Querystring: Record<string, string> };

/** v1 routes name the deployment in the body's `model`. */
function modelFromBody(body: unknown): string {
  const model = (body as { model?: unknown } | null)?.model;
  if (model === undefined) throw errors.missing("model");
  if (typeof model !== "string" || !model) throw errors.invalid("Invalid 'model': expected the name of a deployment (a non-empty string).", "model");
  return model;
}

export function registerOpenAIRoutes(app: FastifyInstance, ctx: AppContext): void {
  const dated = { config: { surface: "openai" as const } };
  const checkVersion = (request: FastifyRequest<{ Querystring: Record<string, string> }>) =>
    checkApiVersion(request.query["api-version"], AZURE_OPENAI_VERSIONS, ctx.settings.skipApiVersionCheck);

  app.post<DeploymentParams>("/openai/deployments/:deployment/chat/completions", dated, async (request, reply) => {
    checkVersion(request);
    return handleChat(ctx, "openai", request, reply, request.params.deployment, request.body);
  });
  app.post<DeploymentParams>("/openai/deployments/:deployment/completions", dated, async (request, reply) => {
    checkVersion(request);
    return handleCompletion(ctx, "openai", request, reply, request.params.deployment, request.body);
  });
  app.post<DeploymentParams>("/openai/deployments/:deployment/embeddings", dated, async (request, reply) => {
    checkVersion(request);
    return handleEmbeddings(ctx, request, reply, request.params.deployment, request.body);
  });

  for (const prefix of ["/openai/v1", "/api/projects/:project/openai/v1"]) {
    app.post(`${prefix}/chat/completions`, dated, async (request, reply) => handleChat(ctx, "openai", request, reply, modelFromBody(request.body), request.body));
    app.post(`${prefix}/completions`, dated, async (request, reply) => handleCompletion(ctx, "openai", request, reply, modelFromBody(request.body), request.body));
    app.post(`${prefix}/embeddings`, dated, async (request, reply) => handleEmbeddings(ctx, request, reply, modelFromBody(request.body), request.body));
  }
  registerFileRoutes(app, ctx);
  registerBatchRoutes(app, ctx);
  registerModelsRoutes(app, ctx);
  registerDataPlaneDeploymentRoutes(app, ctx);
}
