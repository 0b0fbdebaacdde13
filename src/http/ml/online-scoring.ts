// Scoring of Azure ML managed online endpoints (reference azure-ml.md §10), at `scoringUri` =
// https://host:port/online/<endpoint>/score (path-based: no per-endpoint DNS here), taking and
// answering OpenAI's chat-completions shapes, with /v1/chat/completions beside it. The
// `azureml-model-deployment` header pins a deployment; otherwise the endpoint's traffic weights
// choose. The reply names the deployment that served in the same header. Each route declares
// `onlineEndpoint`: the pipeline (server.ts) authenticates it with authenticateOnline, by the
// endpoint's own keys, tokens or (AADToken) an Ingot token with inference rights on the workspace.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { IngotError } from "../../core/errors.ts";
import { mlDeploymentAccount, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { handleChat } from "../openai/handlers.ts";
import { looksLikeJwt } from "../identity/bearer.ts";
import { scoringUriOf } from "./online.ts";

const PREFIX = "/online/:endpoint";
type Route = { Params: { endpoint: string } };
const DEPLOYMENT_HEADER = "azureml-model-deployment";

const notFound = (name: string) =>
  new IngotError("not_found", "404", `There is no online endpoint '${name.slice(0, 64)}'. Check the scoring URI (properties.scoringUri of the endpoint).`);

/** `Authorization: Bearer <key or token>` (a bare value is taken too). */
function credentialOf(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth !== "string" || !auth.trim()) return undefined;
  return auth.trim().replace(/^bearer\s+/i, "").trim();
}

/**
 * Run by the pipeline for routes declaring `onlineEndpoint`: the credential must open the
 * endpoint the path names, per its authMode. Account keys and other endpoints' keys open nothing here.
 */
export function authenticateOnline(ctx: AppContext, request: FastifyRequest): void {
  const name = (request.params as { endpoint?: string }).endpoint ?? "";
  const found = ctx.online.endpointByName(name);
  // Unknown endpoints answer as a wrong credential does: 401 (deny by default), not whether the name exists.
  if (!found)
    throw new IngotError("unauthorized", "401", `Access denied: there is no online endpoint '${name.slice(0, 64)}' that this credential opens. Check the scoring URI (properties.scoringUri) and send the endpoint's key or token as 'Authorization: Bearer <key>'.`);
  const { endpoint, workspace } = found;
  const credential = credentialOf(request);
  let ok: boolean;
  if (endpoint.authMode === "AADToken") {
    try {
      ok = !!credential && looksLikeJwt(credential) && ctx.identity.isAuthorized(ctx.identity.verifyToken(credential, "management"), workspaceArmId(workspace), "inference");
    } catch {
      ok = false;
    }
  } else ok = ctx.online.authenticate(endpoint, credential);
  if (!ok)
    throw new IngotError(
      "unauthorized",
      "401",
      endpoint.authMode === "Key"
        ? `Access denied: send one of endpoint '${endpoint.name}''s keys (POST …/onlineEndpoints/${endpoint.name}/listKeys) as 'Authorization: Bearer <key>'. Account keys do not open online endpoints.`
        : endpoint.authMode === "AMLToken"
          ? `Access denied: send a token of endpoint '${endpoint.name}' (POST …/onlineEndpoints/${endpoint.name}/token) as 'Authorization: Bearer <token>'; tokens expire after an hour.`
          : `Access denied: send a management bearer token (\`ingot token\`) of a principal that may run inference in workspace '${workspace.name}' as 'Authorization: Bearer <token>'.`,
    );
  request.account = mlDeploymentAccount(workspace);
}

export function registerOnlineScoringRoutes(app: FastifyInstance, ctx: AppContext): void {
  const config = { config: { surface: "openai" as const, onlineEndpoint: true } };

  const score = async (request: FastifyRequest<Route>, reply: FastifyReply) => {
    const found = ctx.online.endpointByName(request.params.endpoint);
    if (!found) throw notFound(request.params.endpoint);
    const pinned = request.headers[DEPLOYMENT_HEADER];
    const chosen = ctx.online.route(found.workspace, found.endpoint, typeof pinned === "string" ? pinned.trim() : undefined);
    // Counted in flight until the reply is over (streamed or not, answered or failed).
    reply.raw.once("close", chosen.release);
    reply.header(DEPLOYMENT_HEADER, chosen.deployment);
    return handleChat(ctx, "openai", request, reply, chosen.record, request.body);
  };
  app.post<Route>(`${PREFIX}/score`, config, score);
  app.post<Route>(`${PREFIX}/v1/chat/completions`, config, score);

  // swaggerUri: what the scoring routes take and answer.
  app.get<Route>(`${PREFIX}/swagger.json`, config, async (request) => {
    const url = new URL(scoringUriOf(`${request.protocol}://${request.host}`, request.params.endpoint));
    return {
      openapi: "3.0.1",
      info: { title: `Online endpoint ${request.params.endpoint}`, version: "1.0" },
      servers: [{ url: url.origin }],
      paths: Object.fromEntries(
        [url.pathname, `/online/${request.params.endpoint}/v1/chat/completions`].map((p) => [
          p,
          {
            post: {
              summary: "Chat completion (OpenAI's request and response shapes); header azureml-model-deployment pins a deployment.",
              requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["messages"] } } } },
              responses: { "200": { description: "A chat completion (or a stream of chunks with stream: true)." } },
            },
          },
        ]),
      ),
    };
  });
}
