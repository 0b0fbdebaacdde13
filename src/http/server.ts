// Server composition. One ordered pipeline for every request:
//   request id → public route? (public-routes.ts) → authenticate for the route's surface
//   (data-plane key or token; ARM bearer token; administrator for server status; anything
//   else refused) → route (parse, call core, shape) → error mapping per surface → metrics.
// Role checks that need the resource's scope stay in the handlers.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerOptions as ServerOptionsHttp } from "node:http";
import type { Duplex } from "node:stream";
import Fastify from "fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from "fastify";
import { errors, IngotError } from "../core/errors.ts";
import { authenticate, requireAdministrator } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { errorBody, errorHeaders, isMlPath, MAX_PARAM_LENGTH, surfaceForPath, toIngotError, withMlErrorInfo } from "./errors.ts";
import type { Surface } from "./errors.ts";
import { managementPrincipal } from "./identity/bearer.ts";
import { registerIdentityRoutes } from "./identity/routes.ts";
import { registerModelInferenceRoutes } from "./inference/routes.ts";
import { registerOpenAIRoutes } from "./openai/routes.ts";
import { registerProjectEndpointRoutes } from "./projects/routes.ts";
import { registerResponsesRoutes } from "./openai/responses.ts";
import { registerOpsRoutes, registerPrivateOpsRoutes } from "./ops/routes.ts";
import { registerArmRoutes } from "./arm/routes.ts";
import { registerArmMetadataRoutes } from "./arm/metadata.ts";
import { registerMlWorkspaceRoutes } from "./ml/workspaces.ts";
import { registerMlRegistryRoutes } from "./ml/registries.ts";
import { registerMlMarketplaceRoutes } from "./ml/marketplace.ts";
import { BLOB_SERVICE_VERSION, blobErrorXml, blobHostRewrite, registerBlobRoutes } from "./ml/blob.ts";
import { registerMlDataRoutes } from "./ml/data.ts";
import { registerMlDatastoreRoutes } from "./ml/datastores.ts";
import { registerMlOnlineRoutes } from "./ml/online.ts";
import { authenticateOnline, registerOnlineScoringRoutes } from "./ml/online-scoring.ts";
import { registerMlJobRoutes } from "./ml/jobs.ts";
import { registerMlModelRoutes } from "./ml/models.ts";
import { registerMlServerlessRoutes } from "./ml/serverless.ts";
import { authenticateServerless, registerServerlessInferenceRoutes } from "./ml/serverless-inference.ts";
import { registerCatalogRoutes } from "./arm/catalog.ts";
import { registerPrincipalRoutes } from "./arm/principals.ts";
import { registerFineTuningRoutes } from "./openai/fine-tuning.ts";
import { registerContentSafetyRoutes } from "./contentsafety/routes.ts";
import { registerPortalRoutes } from "./portal.ts";
import { registerPortalSignInRoutes } from "./portal-signin.ts";
import { isPublicRoute } from "./public-routes.ts";
import { logRedaction } from "./redact.ts";
import { registerTracing } from "./tracing.ts";

/** Connection limits. Responses are never cut: generations and streams take as long as they take. */
export interface ServerTimeouts {
  /** The request line and headers must arrive within this (slowloris). Default 30 s. */
  headersMs?: number;
  /** A request body must arrive within this, uploads excepted. Default 5 minutes. */
  requestMs?: number;
  /** An idle keep-alive connection closes after this. Default 72 s (above common load balancers' 60 s). */
  keepAliveMs?: number;
  /** A multipart upload that sends no byte for this long is aborted (its partial file removed). Default 60 s. */
  uploadStallMs?: number;
}

export const DEFAULT_TIMEOUTS: Required<ServerTimeouts> = { headersMs: 30_000, requestMs: 300_000, keepAliveMs: 72_000, uploadStallMs: 60_000 };

export interface ServerOptions {
  tls?: { cert: string; key: string };
  timeouts?: ServerTimeouts;
}

/** Every route the server registered (method, pattern, config): what the access test enumerates. */
export interface RegisteredRoute {
  method: string;
  url: string;
  surface: Surface | undefined;
}
const ROUTES = new WeakMap<FastifyInstance, RegisteredRoute[]>();
export const registeredRoutes = (app: FastifyInstance): readonly RegisteredRoute[] => ROUTES.get(app) ?? [];

export function buildServer(ctx: AppContext, logger: FastifyServerOptions["logger"], tlsOrOptions?: { cert: string; key: string } | ServerOptions): FastifyInstance {
  const options: ServerOptions = tlsOrOptions && "cert" in tlsOrOptions ? { tls: tlsOrOptions } : (tlsOrOptions ?? {});
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  // Node checks header and request deadlines on this interval: a fraction of the shortest deadline.
  const nodeTimeouts = { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 4))) };
  const app = Fastify({
    logger: typeof logger === "object" && logger !== null ? { ...logger, ...logRedaction } : logger,
    // (typed as http: https.createServer takes the same server options, plus the certificate)
    ...((options.tls ? { https: { ...options.tls, ...nodeTimeouts } } : { http: nodeTimeouts }) as { http: ServerOptionsHttp }),
    // Node's request timeout would also cut slow uploads: the pipeline applies it per request below.
    requestTimeout: 0,
    keepAliveTimeout: timeouts.keepAliveMs,
    // ARM paths are case-insensitive (clients send resourcegroups as well as resourceGroups).
    routerOptions: { caseSensitive: false, maxParamLength: MAX_PARAM_LENGTH },
    bodyLimit: ctx.settings.bodyLimit,
    genReqId: () => randomUUID(),
    // Fastify's own 503 while closing is not Azure-shaped: the pipeline answers it (below).
    return503OnClosing: false,
    // Malformed URLs (bad percent-encoding, over-long segments) answer in the surface's shape too.
    frameworkErrors: (error, request, reply) => sendError(request, reply, toIngotError(error), surfaceForPath(request.raw.url)),
    clientErrorHandler: clientError,
    // Host-style blob URLs (<account>.blob.<suffix>/<container>/<blob>) reach the /blob/<account>/… routes.
    rewriteUrl: blobHostRewrite,
  });
  const routes: RegisteredRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, surface: route.config?.surface });
  });
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.decorateRequest("account", "");
  app.decorateRequest("principal", undefined);

  // One rule for every surface: an empty body is no body, whatever its Content-Type says
  // (clients send `Content-Type: application/json` on DELETE and on POST actions such as cancel).
  const json = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if ((body as string).trim() === "") return done(null, undefined);
    json(request, body as string, done);
  });

  // First, so that the request's span is current through the pipeline and the handler.
  if (ctx.tracing) registerTracing(app, ctx.tracing);
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
    limitBodyTime(request, reply, timeouts);
    if (closing) {
      reply.header("connection", "close");
      throw new IngotError("unavailable", "ServiceUnavailable", "Ingot is shutting down. Retry the request against another instance, or once it has restarted.", { retryAfterMs: 1000 });
    }
    if (request.is404 || isPublicRoute(request.method, request.routeOptions.url)) return;
    const surface = request.routeOptions.config?.surface;
    if (request.routeOptions.config?.serverlessEndpoint) authenticateServerless(ctx, request);
    else if (request.routeOptions.config?.onlineEndpoint) authenticateOnline(ctx, request);
    else if (surface === "openai" || surface === "inference" || surface === "contentsafety") authenticate(ctx.accounts, request, ctx.identity);
    else if (surface === "arm") request.principal = managementPrincipal(ctx.identity, request);
    else if (surface === "ops") request.principal = requireAdministrator(ctx.identity, request);
    // The blob endpoint authenticates itself (Shared Key, SAS or bearer): only through the route's own check, never without one.
    else if (surface === "blob" && request.routeOptions.config?.authenticate) await request.routeOptions.config.authenticate(request, reply);
    // Deny by default: a route that declares no surface (and is not public) opens to no one.
    else throw errors.unauthorized();
  });

  app.setErrorHandler((error, request, reply) => {
    const surface: Surface = request.routeOptions.config?.surface ?? surfaceForPath(request.url);
    const e = toIngotError(error);
    if (e.status >= 500) request.log.error({ err: error }, "request failed");
    sendError(request, reply, e, surface);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    const surface = surfaceForPath(path);
    const message =
      surface === "arm"
        ? `No route for ${request.method} ${path}. Management paths look like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.CognitiveServices/accounts/{account}?api-version=2024-10-01.`
        : surface === "inference"
          ? `No route for ${request.method} ${path}. Model inference paths are /models/chat/completions, /models/embeddings and /models/info (?api-version=2024-05-01-preview).`
          : surface === "contentsafety"
            ? `No route for ${request.method} ${path}. Content Safety paths are /contentsafety/text:analyze, text:shieldPrompt, text:detectProtectedMaterial and text/blocklists/… (?api-version=2024-09-01).`
            : `No route for ${request.method} ${path}. Check the path: e.g. /openai/deployments/{deployment}/chat/completions?api-version=2024-10-21 or /openai/v1/chat/completions.`;
    sendError(request, reply, new IngotError("not_found", surface === "arm" ? "NotFound" : surface === "contentsafety" ? "ResourceNotFound" : "404", message), surface);
  });

  registerOpenAIRoutes(app, ctx);
  registerProjectEndpointRoutes(app, ctx);
  registerResponsesRoutes(app, ctx);
  registerModelInferenceRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  registerIdentityRoutes(app, ctx.identity);
  registerArmRoutes(app, ctx);
  registerArmMetadataRoutes(app, ctx);
  registerMlWorkspaceRoutes(app, ctx);
  registerMlRegistryRoutes(app, ctx);
  registerMlMarketplaceRoutes(app, ctx);
  registerMlDatastoreRoutes(app, ctx);
  registerMlDataRoutes(app, ctx);
  registerBlobRoutes(app, ctx);
  registerMlOnlineRoutes(app, ctx);
  registerOnlineScoringRoutes(app, ctx);
  registerMlJobRoutes(app, ctx);
  registerMlModelRoutes(app, ctx);
  registerMlServerlessRoutes(app, ctx);
  registerServerlessInferenceRoutes(app, ctx);
  registerCatalogRoutes(app, ctx);
  registerPrincipalRoutes(app, ctx);
  registerFineTuningRoutes(app, ctx);
  registerContentSafetyRoutes(app, ctx);
  registerPortalRoutes(app);
  registerPortalSignInRoutes(app, ctx.identity, ctx.signInCodes);
  return app;
}

/**
 * The listener for `--metrics-address`: /metrics, /readyz with details and /healthz without
 * credentials, for scrapers on a trusted (loopback by default) address.
 */
export function buildOpsServer(ctx: AppContext, logger: FastifyServerOptions["logger"]): FastifyInstance {
  const app = Fastify({
    logger: typeof logger === "object" && logger !== null ? { ...logger, ...logRedaction } : logger,
    genReqId: () => randomUUID(),
    frameworkErrors: (error, request, reply) => sendError(request, reply, toIngotError(error), "ops"),
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, toIngotError(error), "ops"));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new IngotError("not_found", "404", "This listener serves /metrics, /readyz and /healthz."), "ops"));
  registerPrivateOpsRoutes(app, ctx);
  return app;
}

function sendError(request: FastifyRequest, reply: FastifyReply, e: IngotError, surface: Surface): void {
  if (reply.sent) return;
  // The blob endpoint's errors that its own handler did not write (a malformed URL, an unknown path under /blob): Blob's XML.
  if (surface === "blob") return void reply.code(e.status).headers({ "x-ms-error-code": e.code, "x-ms-request-id": request.id, "x-ms-version": BLOB_SERVICE_VERSION, "content-type": "application/xml" }).send(request.method === "HEAD" ? undefined : blobErrorXml(e, request.id, Date.now()));
  reply.code(e.status).headers(errorHeaders(surface, e)).send(surface === "arm" && isMlPath(request.url) ? withMlErrorInfo(errorBody(surface, e)) : errorBody(surface, e));
}

/**
 * Bodies must arrive in time: within `requestMs` for ordinary requests; a multipart upload may
 * take as long as it keeps sending, but is aborted after `uploadStallMs` without a byte.
 * Node's own requestTimeout is off because it cannot except uploads.
 */
function limitBodyTime(request: FastifyRequest, reply: FastifyReply, timeouts: Required<ServerTimeouts>): void {
  const raw: IncomingMessage = request.raw;
  if (raw.complete) return;
  const socket = raw.socket;
  // Blob PUTs are uploads too (Put Blob, Put Block): they may take as long as they keep sending.
  const upload = /^multipart\//i.test(String(request.headers["content-type"] ?? "")) || request.routeOptions.config?.surface === "blob";
  if (upload) {
    const onStall = () => {
      if (raw.complete) return;
      request.log.warn({ stallMs: timeouts.uploadStallMs }, "upload stalled: aborting it");
      socket.destroy();
    };
    socket.setTimeout(timeouts.uploadStallMs);
    socket.on("timeout", onStall);
    // Once the body is in, the stall limit ends; after the response, Node's keep-alive timer owns
    // the socket's timeout and must not be cleared.
    raw.once("end", () => {
      if (!reply.raw.writableFinished) socket.setTimeout(0);
      socket.off("timeout", onStall);
    });
    reply.raw.once("close", () => socket.off("timeout", onStall));
    return;
  }
  const timer = setTimeout(() => {
    if (raw.complete || socket.destroyed) return;
    request.log.warn({ requestMs: timeouts.requestMs }, "request body not received in time: closing the connection");
    if (!reply.sent && socket.writable) {
      const body = JSON.stringify(errorBody(surfaceForPath(raw.url), timeoutError()));
      socket.end(`HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    socket.destroy();
  }, timeouts.requestMs);
  timer.unref();
  raw.once("end", () => clearTimeout(timer));
  reply.raw.once("close", () => clearTimeout(timer));
}

const timeoutError = () => new IngotError("invalid_request", "timeout", "The request was not received in time. Send the whole request promptly, or check the connection.");

/**
 * Errors Node raises before a request exists (malformed HTTP, oversized headers, header
 * timeouts): answered in the shape of the surface the request line names, then closed.
 */
function clientError(this: FastifyInstance, err: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  this.log.debug({ err }, "client error");
  const head = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 2048).toString("latin1") : "";
  const surface = surfaceForPath(/^[A-Z]+ (\S+)/.exec(head)?.[1]);
  const [status, reason, e] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Request Timeout", timeoutError()]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", errors.invalid("The request headers are too large (at most 16 KB in all). Send fewer or smaller headers.", null, "request_header_too_large")]
        : [400, "Bad Request", errors.invalid("The request is not valid HTTP/1.1. Check the request line, headers and body framing.", null, "invalid_request")];
  const shaped = errorBody(surface, e) as Record<string, unknown>;
  if (surface === "inference") Object.assign(shaped, { status }, { error: { ...(shaped.error as object), status } });
  const body = JSON.stringify(shaped);
  if (socket.writable)
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.destroy(err);
}
