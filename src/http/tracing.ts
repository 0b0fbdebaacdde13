// The HTTP server span of each request (OpenTelemetry HTTP conventions), current for the
// request's hooks and handler so that the generation and engine spans are its children.
import type { FastifyInstance } from "fastify";
import type { Tracing } from "../core/ports/index.ts";

export function registerTracing(app: FastifyInstance, tracing: Tracing): void {
  // A callback hook (not async): the span entered here stays current for what runs next.
  app.addHook("onRequest", (request, reply, done) => {
    const route = request.routeOptions.url;
    const span = tracing.startSpan(`${request.method} ${route ?? "unmatched"}`, {
      "http.request.method": request.method,
      "http.route": route,
      "url.path": request.url.split("?")[0],
      "url.scheme": request.protocol,
      "server.address": request.hostname,
      "user_agent.original": request.headers["user-agent"],
      "ingot.request_id": request.id,
    }, "server");
    reply.raw.once("close", () => {
      const status = reply.raw.statusCode;
      span.setAttributes({ "http.response.status_code": status });
      if (status >= 500) span.recordError(new Error(`HTTP ${status}`));
      span.end();
    });
    tracing.enterSpan(span);
    done();
  });
}
