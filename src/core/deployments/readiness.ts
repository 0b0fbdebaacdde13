// What /readyz answers: whether this instance can serve what its desired state says it serves.
//
// The rule. Ready when both hold:
//  1. Startup reconciliation has settled: every deployment found at start reached Succeeded or
//     Failed once (before that, nothing the store promises is loaded).
//  2. Every runner (base model, and adapter for a fine-tuned model) that a Succeeded deployment
//     runs on is ready, or has been loading/restarting for less than the grace period: requests
//     wait for a runner that restarts after a crash, so a short restart keeps the instance in the
//     load balancer; a runner that does not come back within the grace takes it out.
// Not counted, only reported: Failed deployments (bad or truncated weights, a model too big for
// memory, a load timeout). The reconciler retries them with backoff, and one bad model must not
// take every other deployment out of the load balancer. Deployments created after startup
// (Accepted/Creating) are not counted either: nothing was serving them yet. A runner whose
// restart failed turns its deployments Failed at the reconciler's next pass.
import type { DeploymentRecord, EngineStatus, EngineTarget } from "../ports/index.ts";

export interface Readiness {
  ready: boolean;
  /** Why not ready; empty when ready. */
  reasons: string[];
  /** Deployments whose model is not serving (reported; they do not make the instance unready). */
  failing: { account: string; name: string; error: string | null; attempts?: number; nextRetryAt?: string }[];
}

/** Engine targets serving Succeeded deployments that are loading or restarting, by `targetId`. */
export function transientTargets(deployments: DeploymentRecord[], engine: EngineStatus[], targetOf: (d: DeploymentRecord) => EngineTarget): Set<string> {
  const byKey = new Map(engine.map((s) => [s.key, s]));
  const out = new Set<string>();
  for (const d of deployments) {
    if (d.state !== "Succeeded") continue;
    const t = targetOf(d);
    const s = byKey.get(t.key);
    if (s && (s.state === "loading" || s.state === "restarting")) out.add(targetId({ key: t.key }));
    if (t.adapter !== undefined && s?.state === "ready" && s.adapters?.find((a) => a.id === t.adapter)?.state === "loading") out.add(targetId(t));
  }
  return out;
}

export const targetId = (t: EngineTarget) => (t.adapter === undefined ? t.key : `${t.key}+${t.adapter}`);

export function computeReadiness(input: {
  startupReconciled: boolean;
  deployments: DeploymentRecord[];
  engine: EngineStatus[];
  targetOf: (d: DeploymentRecord) => EngineTarget;
  /** When each transient target was first seen loading/restarting (the reconciler's loop notes it). */
  transientSince: ReadonlyMap<string, number>;
  now: number;
  graceMs: number;
}): Readiness {
  const reasons: string[] = [];
  if (!input.startupReconciled) reasons.push("startup reconciliation has not finished: deployments are still loading");
  for (const id of transientTargets(input.deployments, input.engine, input.targetOf)) {
    const since = input.transientSince.get(id) ?? input.now;
    if (input.now - since >= input.graceMs) reasons.push(`the runner of ${id} has been loading or restarting for ${Math.round((input.now - since) / 1000)} s`);
  }
  const failing = input.deployments
    .filter((d) => d.state === "Failed")
    .map((d) => ({
      account: d.account,
      name: d.name,
      error: d.error,
      ...(d.progress?.attempts !== undefined ? { attempts: d.progress.attempts } : {}),
      ...(d.progress?.nextRetryAt !== undefined ? { nextRetryAt: d.progress.nextRetryAt } : {}),
    }));
  return { ready: reasons.length === 0, reasons, failing };
}
