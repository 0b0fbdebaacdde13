// The inference data plane of Azure ML serverless endpoints (reference azure-ml.md §9.2), at
// `inferenceEndpoint.uri` = https://host:port/serverless/<name>-<suffix> (path-based: no DNS
// here): OpenAI's /v1/chat/completions (the seed's call), /v1/completions and /v1/embeddings,
// and the Azure AI Model Inference shapes /chat/completions, /embeddings and /info through the
// same translators as /models/… . Each route declares `serverlessEndpoint`: the pipeline
// (server.ts) authenticates it with authenticateServerless, by the endpoint's own keys (and, for
// authMode AAD, a token with inference rights on its workspace); account keys never open it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors, IngotError } from "../../core/errors.ts";
import { serverlessPathSegment } from "../../core/ml/serverless.ts";
import { mlDeploymentAccount, workspaceArmId } from "../../core/ml/workspaces.ts";
import { looksLikeJwt } from "../identity/bearer.ts";
import { checkApiVersion, MODEL_INFERENCE_VERSIONS } from "../api-versions.ts";
import type { AppContext } from "../context.ts";
import { applyExtraParameters, CHAT_PARAMS, EMBEDDING_PARAMS, modelInfo } from "../inference/routes.ts";
import { handleChat, handleCompletion, handleEmbeddings, withLimits } from "../openai/handlers.ts";
import { asBody } from "../validate.ts";

const PREFIX = "/serverless/:endpoint";
type Route = { Params: { endpoint: string }; Querystring: Record<string, string> };

/** The endpoint's key: `api-key`, or `Authorization` with or without "Bearer " (seed 004 sends the bare key). */
export function serverlessKeyFrom(request: FastifyRequest): string | undefined {
  const apiKey = request.headers["api-key"];
  if (typeof apiKey === "string" && apiKey.trim()) return apiKey.trim();
  const auth = request.headers.authorization;
  if (typeof auth === "string" && auth.trim()) return auth.trim().replace(/^bearer\s+/i, "").trim();
  return undefined;
}

const unauthorized = () =>
  new IngotError(
    "unauthorized",
    "401",
    "Access denied due to an invalid or missing key for this serverless endpoint. Send one of the endpoint's keys (listKeys) as 'Authorization: <key>', 'Authorization: Bearer <key>' or 'api-key: <key>' (an endpoint of authMode AAD also takes 'Authorization: Bearer <token>' of a principal that may run inference in its workspace).",
  );

/**
 * Run by the pipeline for routes declaring `serverlessEndpoint`: the key must be one of the
 * keys of the endpoint the path names. Account keys, other endpoints' keys and tokens open nothing here.
 */
export function authenticateServerless(ctx: AppContext, request: FastifyRequest): void {
  const segment = (request.params as { endpoint?: string }).endpoint ?? "";
  const credential = serverlessKeyFrom(request);
  const byKey = ctx.serverless.authenticate(credential);
  const endpoint = byKey && serverlessPathSegment(byKey).toLowerCase() === segment.toLowerCase() ? byKey : byToken(ctx, segment, credential);
  const workspace = endpoint && ctx.workspaces.getByWorkspaceId(endpoint.workspaceId);
  if (!workspace) throw unauthorized();
  request.account = mlDeploymentAccount(workspace);
}

/** An endpoint of authMode AAD also opens to an Ingot token (`ingot token`) of a principal that may run inference in its workspace. */
function byToken(ctx: AppContext, segment: string, credential: string | undefined) {
  if (!credential || !looksLikeJwt(credential)) return undefined;
  const endpoint = ctx.serverless.findByPathSegment(segment);
  const workspace = endpoint?.authMode === "AAD" ? ctx.workspaces.getByWorkspaceId(endpoint.workspaceId) : undefined;
  if (!endpoint || !workspace) return undefined;
  for (const audience of ["management", "cognitiveservices"] as const) {
    try {
      if (ctx.identity.isAuthorized(ctx.identity.verifyToken(credential, audience), workspaceArmId(workspace), "inference")) return endpoint;
    } catch {
      // not a token of this audience (or not valid): try the next, else 401
    }
  }
  return undefined;
}

/** The deployment behind the endpoint: named after it (the path segment less its `-xxxxx` suffix, checked by authenticateServerless). */
const deploymentOf = (request: FastifyRequest<Route>) => request.params.endpoint.slice(0, -6);

export function registerServerlessInferenceRoutes(app: FastifyInstance, ctx: AppContext): void {
  const openai = { config: { surface: "openai" as const, serverlessEndpoint: true } };
  const inference = { config: { surface: "inference" as const, serverlessEndpoint: true } };
  // The api-version is optional here (the seed's call sends none); one that is sent must be known.
  const check = (request: FastifyRequest<Route>) => {
    if (request.query["api-version"] !== undefined) checkApiVersion(request.query["api-version"], MODEL_INFERENCE_VERSIONS, ctx.settings.skipApiVersionCheck);
  };

  app.post<Route>(`${PREFIX}/v1/chat/completions`, openai, async (request, reply) => handleChat(ctx, "openai", request, reply, deploymentOf(request), request.body));
  app.post<Route>(`${PREFIX}/v1/completions`, openai, async (request, reply) => handleCompletion(ctx, "openai", request, reply, deploymentOf(request), request.body));
  app.post<Route>(`${PREFIX}/v1/embeddings`, openai, async (request, reply) => handleEmbeddings(ctx, request, reply, deploymentOf(request), request.body));

  app.post<Route>(`${PREFIX}/chat/completions`, inference, async (request, reply) => {
    check(request);
    const deployment = deploymentOf(request);
    return withLimits(ctx, request, reply, deployment, () => handleChat(ctx, "inference", request, reply, deployment, applyExtraParameters(request, asBody(request.body), CHAT_PARAMS)));
  });
  app.post<Route>(`${PREFIX}/embeddings`, inference, async (request, reply) => {
    check(request);
    const deployment = deploymentOf(request);
    return withLimits(ctx, request, reply, deployment, () => handleEmbeddings(ctx, request, reply, deployment, applyExtraParameters(request, asBody(request.body), EMBEDDING_PARAMS)));
  });
  app.get<Route>(`${PREFIX}/info`, inference, async (request) => {
    check(request);
    const d = ctx.deployments.get(request.account, deploymentOf(request));
    if (!d) throw errors.deploymentNotFound();
    return modelInfo(ctx, d);
  });
}
