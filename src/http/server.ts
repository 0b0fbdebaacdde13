// Server composition. The pipeline, in order: request id → auth (data plane) → route
// (parse, call core, shape) → error mapping per surface → metrics on completion.
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import { errors } from "../core/errors.ts";
import { authenticate } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { errorBody, errorHeaders, toIngotError } from "./errors.ts";
import type { Surface } from "./errors.ts";
import { registerIdentityRoutes } from "./identity/routes.ts";
import { registerModelInferenceRoutes } from "./inference/routes.ts";
import { registerOpenAIRoutes } from "./openai/routes.ts";
import { registerOpsRoutes } from "./ops/routes.ts";
import { registerArmRoutes } from "./arm/routes.ts";
import { registerFineTuningRoutes } from "./openai/fine-tuning.ts";
import { registerPortalRoutes } from "./portal.ts";

export function buildServer(ctx: AppContext, logger: FastifyServerOptions["logger"], tls?: { cert: string; key: string }): FastifyInstance {
  const app = Fastify({
    logger,
    ...(tls ? { https: tls } : {}),
    // ARM paths are case-insensitive (clients send resourcegroups as well as resourceGroups).
    routerOptions: { caseSensitive: false },
    bodyLimit: ctx.settings.bodyLimit,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  app.decorateRequest("account", "");

  app.addHook("onRequest", async (request, reply) => {
    reply.header("apim-request-id", request.id);
    reply.header("x-request-id", request.id);
    const started = process.hrtime.bigint();
    reply.raw.once("close", () => {
      const route = request.routeOptions.url ?? "unmatched";
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.metrics.requests.inc({ method: request.method, route, status: String(reply.raw.statusCode) });
      ctx.metrics.latency.observe({ route }, seconds);
    });
    const surface = request.routeOptions.config?.surface;
    if (surface === "openai" || surface === "inference") authenticate(ctx.accounts, request, ctx.identity);
  });

  app.setErrorHandler((error, request, reply) => {
    const surface: Surface = request.routeOptions.config?.surface ?? "openai";
    const e = toIngotError(error);
    if (e.status >= 500) request.log.error({ err: error }, "request failed");
    reply.code(e.status).headers(errorHeaders(surface, e)).send(errorBody(surface, e));
  });

  app.setNotFoundHandler((request, reply) => {
    const e = errors.invalid(`No route for ${request.method} ${request.url.split("?")[0]}. Check the path: e.g. /openai/deployments/{deployment}/chat/completions?api-version=2024-10-21 or /openai/v1/chat/completions.`);
    reply.code(404).send({ error: { code: "404", message: e.message } });
  });

  registerOpenAIRoutes(app, ctx);
  registerModelInferenceRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  registerIdentityRoutes(app, ctx.identity);
  registerArmRoutes(app, ctx);
  registerFineTuningRoutes(app, ctx);
  registerPortalRoutes(app);
  return app;
}
