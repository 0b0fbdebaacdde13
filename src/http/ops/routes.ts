// Operations endpoints: liveness, readiness (with each loaded model's state) and metrics.
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.ts";

export function registerOpsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const ops = { config: { surface: "ops" as const } };
  app.get("/healthz", ops, async () => ({ status: "ok" }));
  app.get("/readyz", ops, async (_request, reply) => {
    // Ready per the desired state (core/deployments/readiness.ts): a Failed deployment is reported, not disqualifying.
    const { ready, reasons, failing } = ctx.readiness();
    const models = ctx.engine.status();
    const deployments = ctx.deployments.list().map((d) => ({ account: d.account, name: d.name, state: d.state, error: d.error }));
    reply.code(ready ? 200 : 503);
    return { status: ready ? "ready" : "not_ready", reasons, failing, models, deployments };
  });
  app.get("/metrics", ops, async (_request, reply) => {
    reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
    return ctx.metrics.registry.text();
  });
}
