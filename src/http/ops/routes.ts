// Operations endpoints: liveness, readiness and metrics. Anonymous callers get readiness as a
// status only; the details (every account's deployments, errors, runner pids) and /metrics
// need an administrator (the pipeline checks /metrics; /readyz checks itself), or the
// --metrics-address listener (registerPrivateOpsRoutes), which trusts its network.
import type { FastifyInstance, FastifyReply } from "fastify";
import { optionalAdministrator } from "../auth.ts";
import type { AppContext } from "../context.ts";

/** Readiness with its details: whether serving is ready (and why not), failing deployments, each loaded model and each deployment. */
function readiness(ctx: AppContext) {
  // Ready per the desired state (core/deployments/readiness.ts): a Failed deployment is reported, not disqualifying.
  const { ready, reasons, failing } = ctx.readiness();
  const models = ctx.engine.status();
  const deployments = ctx.deployments.list().map((d) => ({ account: d.account, name: d.name, state: d.state, error: d.error }));
  // Redis lost does not make a replica unready (it serves on local limits); the details say so.
  return { status: ready ? "ready" : "not_ready", reasons, failing, models, deployments, ...ctx.sharedState?.() };
}

function sendMetrics(ctx: AppContext, reply: FastifyReply) {
  reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
  return ctx.metrics.registry.text();
}

export function registerOpsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const ops = { config: { surface: "ops" as const } };
  app.get("/healthz", ops, async () => ({ status: "ok" }));
  app.get("/readyz", ops, async (request, reply) => {
    const r = readiness(ctx);
    reply.code(r.status === "ready" ? 200 : 503);
    return optionalAdministrator(ctx.identity, request) ? r : { status: r.status };
  });
  app.get("/metrics", ops, async (_request, reply) => sendMetrics(ctx, reply));
}

/** The same endpoints with full details and no credentials, for the --metrics-address listener. */
export function registerPrivateOpsRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const r = readiness(ctx);
    reply.code(r.status === "ready" ? 200 : 503);
    return r;
  });
  app.get("/metrics", async (_request, reply) => sendMetrics(ctx, reply));
}
