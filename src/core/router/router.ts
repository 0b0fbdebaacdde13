// The model router service: turns a router deployment's routing config and one chat request
// into the ordered candidates (policy.ts decides), measures each model's speed from the usage
// the generation service reports, and counts decisions and fallbacks.
import type { Catalog, CatalogModel } from "../catalog/catalog.ts";
import { errors } from "../errors.ts";
import type { ChatRequest } from "../generation/types.ts";
import type { DeploymentRecord, ModelRef, UsageSink } from "../ports/index.ts";
import type { TokenEstimate } from "../quotas/estimate.ts";
import { capabilityOf, difficultyOf, plan, priceOf } from "./policy.ts";
import type { RouteCandidate, RoutePlan, RoutingConfig } from "./policy.ts";

/** Built-in models carry no size: the tiny ones have ~1 M parameters. */
const DEFAULT_PARAMETERS = 1e6;
/** Weight of a new speed sample in the moving average. */
const SPEED_WEIGHT = 0.3;

export const isRouterModel = (m: Pick<CatalogModel, "engine">) => m.engine === "router";
const sameRef = (a: ModelRef, b: ModelRef) => a.format === b.format && a.name === b.name && a.version === b.version;

/** Why a candidate was passed over: counted and logged. */
export type FallbackReason = "unavailable" | "rate_limited" | "server_error" | "timeout";

export interface RouterMetrics {
  /** One per routed request: the model that served it and why it was picked (or `fallback_<why>`). */
  routed(e: { router: string; model: string; mode: string; reason: string }): void;
  /** One per candidate passed over. */
  fallback(e: { router: string; model: string; reason: FallbackReason }): void;
}

export interface RouterDeps {
  deployments: { list(account: string): DeploymentRecord[] };
  catalog: Pick<Catalog, "find">;
  metrics?: RouterMetrics;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export class ModelRouter implements UsageSink {
  #deps: RouterDeps;
  /** Completion tokens per second by model name (moving average). */
  #speed = new Map<string, number>();

  constructor(deps: RouterDeps) {
    this.#deps = deps;
  }

  /** UsageSink: measured speed = completion tokens over the time after the first token. */
  record(entry: { model: string; usage: { completionTokens: number }; firstTokenMs?: number; durationMs: number }): void {
    const ms = entry.durationMs - (entry.firstTokenMs ?? 0);
    if (entry.usage.completionTokens < 2 || ms <= 0) return;
    const sample = (entry.usage.completionTokens * 1000) / ms;
    const old = this.#speed.get(entry.model);
    this.#speed.set(entry.model, old === undefined ? sample : old + SPEED_WEIGHT * (sample - old));
  }

  speedOf(model: string): number | undefined {
    return this.#speed.get(model);
  }

  /** The account's Succeeded chat deployments the router may use (routers excluded). */
  candidates(account: string, routing: RoutingConfig): RouteCandidate[] {
    const out: RouteCandidate[] = [];
    for (const d of this.#deps.deployments.list(account)) {
      if (d.state !== "Succeeded") continue;
      if (routing.models && !routing.models.some((m) => sameRef(m, d.model))) continue;
      let m: CatalogModel;
      try {
        m = this.#deps.catalog.find(d.model);
      } catch {
        continue;
      }
      if (isRouterModel(m) || !m.capabilities.includes("chatCompletion")) continue;
      const parameters = m.sizeBytes ?? DEFAULT_PARAMETERS;
      out.push({ deployment: d.name, model: d.model.name, contextLength: m.contextLength, capability: capabilityOf(parameters), price: priceOf(m.price, parameters), tokensPerSecond: this.#speed.get(d.model.name) });
    }
    return out;
  }

  /** Ordered candidates for one chat request through router deployment `router`. */
  plan(account: string, router: string, routing: RoutingConfig, req: ChatRequest, estimate: TokenEstimate): RoutePlan {
    const candidates = this.candidates(account, routing);
    if (candidates.length === 0)
      throw errors.unavailable(
        `Model router '${router}' has no chat deployment to route to${routing.models ? ` among ${routing.models.map((m) => m.name).join(", ")}` : ""}: deploy one (or wait until it is Succeeded) and retry.`,
      );
    const text = req.messages.map((m) => (typeof m.content === "string" ? m.content : "")).join("\n");
    const p = plan(routing.mode, candidates, { promptTokens: estimate.prompt, maxTokens: req.maxTokens ?? 0, difficulty: difficultyOf(text, estimate.prompt) });
    if (p.order.length === 0) {
      const widest = Math.max(...candidates.map((c) => c.contextLength));
      throw errors.invalid(
        `This request needs about ${estimate.prompt + (req.maxTokens ?? 0)} tokens (prompt + max_tokens), more than any model router '${router}' routes to can hold (largest context: ${widest} tokens). Shorten the messages or lower max_tokens.`,
        "messages",
        "context_length_exceeded",
      );
    }
    return p;
  }

  routed(router: string, model: string, mode: string, reason: string): void {
    this.#deps.metrics?.routed({ router, model, mode, reason });
  }

  fellBack(router: string, candidate: RouteCandidate, reason: FallbackReason, detail: string): void {
    this.#deps.metrics?.fallback({ router, model: candidate.model, reason });
    this.#deps.log?.("model router fell back", { router, deployment: candidate.deployment, model: candidate.model, reason, detail });
  }
}

/** Why an attempt on a candidate failed before any output, or undefined when the error is not one to fall back on. */
export function fallbackReasonOf(e: unknown): FallbackReason | undefined {
  const status = (e as { status?: number }).status;
  const code = (e as { code?: string }).code;
  if (status === 429) return "rate_limited";
  if (code === "DeploymentNotFound" || status === 404) return "unavailable";
  if (status === 503) return "unavailable";
  if (status === 504 || (e as { name?: string }).name === "TimeoutError") return "timeout";
  if (typeof status === "number" && status >= 500) return "server_error";
  if (status === undefined && e instanceof Error && !(e as { kind?: string }).kind) return "server_error";
  return undefined;
}

/**
 * `model: "auto"` (Azure's preview on /openai/v1/responses): the account's model-router
 * deployment, when it has one and no deployment is itself named "auto". Several routers: the
 * first by name, so the choice is stable. Undefined: not "auto", or no router to use.
 */
export function autoDeployment(model: string, deployments: DeploymentRecord[], catalog: Pick<Catalog, "find">): string | undefined {
  if (model !== "auto" || deployments.some((d) => d.name.toLowerCase() === "auto")) return undefined;
  const routers = deployments.filter((d) => {
    try {
      return isRouterModel(catalog.find(d.model));
    } catch {
      return false;
    }
  });
  return routers.sort((a, b) => a.name.localeCompare(b.name))[0]?.name;
}
