// Deployment validation rules (seed 000, reference §1.4–1.6): names, SKUs, capacity, quota.
// Pure functions: the service feeds them the catalog model and the account's deployments.
import { errors } from "../errors.ts";

/** Seed 000: "max 64 chars, alphanumeric + hyphens". */
const DEPLOYMENT_NAME = /^[A-Za-z0-9-]{1,64}$/;

export const PROVISIONED_SKUS = ["ProvisionedManaged", "GlobalProvisionedManaged", "DataZoneProvisionedManaged"];
/** Spellings seen in Azure's own samples for the developer tier (reference §7.8). */
const SKU_ALIASES: Record<string, string> = { developer: "DeveloperTier" };

export interface SkuOffer {
  name: string;
  usageName: string;
  minCapacity: number;
  maxCapacity: number;
  defaultCapacity: number;
  step?: number;
}

export function checkDeploymentName(name: string): void {
  if (!DEPLOYMENT_NAME.test(name))
    throw errors.armInvalid(
      "InvalidResourceName",
      `Resource name '${name}' is invalid. A deployment name is 1 to 64 characters of letters, digits and hyphens (-); rename the deployment${name.length > 64 ? ` (this one is ${name.length} characters)` : ""}.`,
      "name",
    );
}

/** Finds the offered SKU (names compare case-insensitively, as Azure's samples send "standard") and checks the capacity. */
export function resolveSku(modelLabel: string, offers: SkuOffer[], sku: { name?: unknown; capacity?: unknown } | undefined): { offer: SkuOffer; capacity: number } {
  const offered = offers.map((o) => o.name).join(", ");
  if (!sku || typeof sku.name !== "string" || !sku.name)
    throw errors.armInvalid("InvalidResourceProperties", `sku.name is required. Model ${modelLabel} can be deployed with: ${offered}.`, "sku.name");
  const wanted = SKU_ALIASES[sku.name.toLowerCase()] ?? sku.name;
  const offer = offers.find((o) => o.name.toLowerCase() === wanted.toLowerCase());
  if (!offer)
    throw errors.armInvalid("InvalidSkuName", `SKU '${sku.name}' is not available for model ${modelLabel}. Use one of: ${offered}.`, "sku.name");
  const capacity = sku.capacity ?? offer.defaultCapacity;
  if (typeof capacity !== "number" || !Number.isInteger(capacity))
    throw errors.armInvalid("InvalidCapacity", `sku.capacity must be an integer, got ${JSON.stringify(sku.capacity)}.`, "sku.capacity");
  const step = offer.step ?? 1;
  if (capacity < offer.minCapacity || capacity > offer.maxCapacity || (capacity - offer.minCapacity) % step !== 0)
    throw errors.armInvalid(
      "InvalidCapacity",
      `Capacity ${capacity} is not valid for SKU ${offer.name} of model ${modelLabel}: use ${offer.minCapacity} to ${offer.maxCapacity}${step > 1 ? ` in steps of ${step}` : ""}.`,
      "sku.capacity",
    );
  return { offer, capacity };
}

/** Azure's localized quota name, e.g. "Tokens Per Minute (thousands) - tiny-chat - GlobalStandard". */
export function quotaLabel(usageName: string, skuName: string, modelName: string): string {
  // A batch deployment's capacity is its model's enqueued-token quota (core/batch), not a rate.
  if (skuName === "GlobalBatch" || skuName === "DataZoneBatch") return `Enqueued Tokens (thousands) - ${modelName} - ${skuName}`;
  return PROVISIONED_SKUS.includes(skuName) ? `Provisioned Throughput Units - ${modelName}` : `Tokens Per Minute (thousands) - ${modelName} - ${skuName}`;
}

/** The sum of the account's capacities under one usage name must stay within its quota. */
export function checkQuota(q: { usageName: string; label: string; requested: number; used: number; limit: number }): void {
  const available = Math.max(0, q.limit - q.used);
  if (q.requested > available)
    throw errors.armInvalid(
      "InsufficientQuota",
      `This operation require ${q.requested} new capacity in quota ${q.label}, which is bigger than the current available capacity ${available}. The current quota usage is ${q.used} and the quota limit is ${q.limit} for quota ${q.usageName}. Lower sku.capacity, or delete or scale down another deployment.`,
    );
}
