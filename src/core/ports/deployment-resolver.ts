// The DeploymentResolver port: what the generation service runs a call on (deployment,
// model, engine key, adapter, capabilities). Implemented in app.ts over the deployments.
import type { Capability } from "../generation/service.ts";
import type { RateLimits } from "../quotas/policy.ts";

export interface ResolvedDeployment {
  account: string;
  name: string;
  /** The SKU decides the rate limits (Standard-like: TPM/RPM from capacity; Provisioned: parallel sequences). */
  sku: { name: string; capacity: number };
  /** The model name reported in responses (e.g. "tiny-chat"). */
  modelName: string;
  engineKey: string;
  /** The LoRA adapter on the engine's base a fine-tuned deployment runs through. */
  adapter?: string;
  capabilities: Capability[];
  /** Per-minute limits replacing the SKU's (DeploymentOptions.limits). */
  limits?: RateLimits;
  /** A model-router deployment: requests run on the chat deployment its routing picks. */
  routing?: { mode: "balanced" | "cost" | "quality"; models?: { format: string; name: string; version: string }[] };
}

export interface DeploymentResolver {
  /** Throws DeploymentNotFound when the account has no such deployment. */
  resolve(account: string, deployment: string): ResolvedDeployment;
}
