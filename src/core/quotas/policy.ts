// What a deployment's SKU means for admission (reference §1.5, §1.6, §2.7). Standard-like
// SKUs sell tokens and requests per minute; Provisioned SKUs sell dedicated parallel
// sequences; Batch SKUs do not serve synchronous requests at all.

export interface Sku {
  name: string;
  capacity: number;
}

/** One quota unit of a Standard-like deployment: 1,000 tokens and 6 requests per minute (§1.6). */
export const TOKENS_PER_UNIT = 1000;
export const REQUESTS_PER_UNIT_PER_MINUTE = 6;
/** Azure enforces the request rate over 10-second windows, each allowing a sixth of the RPM. */
export const REQUEST_WINDOW_MS = 10_000;
export const TOKEN_WINDOW_MS = 60_000;

export type RatePolicy =
  | {
      kind: "standard";
      sku: string;
      /** Requests admitted per `requestWindowMs` (= capacity, i.e. capacity × 6 per minute). */
      requestsPerWindow: number;
      requestWindowMs: number;
      /** Tokens admitted per `tokenWindowMs` (= capacity × 1,000 per minute). */
      tokensPerWindow: number;
      tokenWindowMs: number;
    }
  | { kind: "provisioned"; sku: string; /** Parallel sequences dedicated to the deployment. */ slots: number }
  | { kind: "batch"; sku: string };

// SKU names are compared case-insensitively: Azure's own samples send "standard" and "developertier".
const STANDARD = ["standard", "globalstandard", "datazonestandard", "developertier", "developer"];
const PROVISIONED = ["provisionedmanaged", "globalprovisionedmanaged", "datazoneprovisionedmanaged"];
const BATCH = ["globalbatch", "datazonebatch"];

/** Fixed per-minute limits that replace the SKU's (Azure ML serverless endpoints: 200,000 TPM and 1,000 RPM each). */
export interface RateLimits {
  tokensPerMinute: number;
  requestsPerMinute: number;
}

export type SkuFamily = "standard" | "provisioned" | "batch";

/** The family of a deployment SKU name, or undefined for a name Azure does not define. */
export function skuFamily(name: string): SkuFamily | undefined {
  const n = name.toLowerCase();
  if (STANDARD.includes(n)) return "standard";
  if (PROVISIONED.includes(n)) return "provisioned";
  if (BATCH.includes(n)) return "batch";
  return undefined;
}

/**
 * The admission policy of a deployment. An unknown SKU name is treated as Standard (the
 * management API rejects such names; a stored one should still be limited, not unlimited).
 */
export function policyFor(sku: Sku, limits?: RateLimits): RatePolicy {
  const capacity = Math.max(0, Math.floor(sku.capacity));
  const family = skuFamily(sku.name) ?? "standard";
  if (family === "provisioned") return { kind: "provisioned", sku: sku.name, slots: capacity };
  if (family === "batch") return { kind: "batch", sku: sku.name };
  // Fixed limits count requests over a whole minute: 1,000 RPM in 10 s windows would be 166.67,
  // and the limiter counts whole admissions (it indexes its window by this number).
  if (limits)
    return {
      kind: "standard",
      sku: sku.name,
      requestsPerWindow: limits.requestsPerMinute,
      requestWindowMs: 60_000,
      tokensPerWindow: limits.tokensPerMinute,
      tokenWindowMs: TOKEN_WINDOW_MS,
    };
  return {
    kind: "standard",
    sku: sku.name,
    requestsPerWindow: (capacity * REQUESTS_PER_UNIT_PER_MINUTE * REQUEST_WINDOW_MS) / 60_000,
    requestWindowMs: REQUEST_WINDOW_MS,
    tokensPerWindow: capacity * TOKENS_PER_UNIT,
    tokenWindowMs: TOKEN_WINDOW_MS,
  };
}

/** ARM's ThrottlingRule (§1.4); renewal periods in seconds. */
export interface ThrottlingRule {
  key: string;
  renewalPeriod: number;
  count: number;
}

export interface CallRateLimit {
  count: number;
  renewalPeriod: number;
  rules: ThrottlingRule[];
}

/**
 * `properties.rateLimits` and `properties.callRateLimit` of the deployment resource: the
 * limits this server actually enforces. Provisioned and Batch deployments have no rate
 * rules (their limit is concurrency, resp. no synchronous traffic), so both are empty.
 */
export function rateLimitsOf(sku: Sku): { rateLimits: ThrottlingRule[]; callRateLimit?: CallRateLimit } {
  const p = policyFor(sku);
  if (p.kind !== "standard") return { rateLimits: [] };
  const rateLimits = [
    { key: "request", renewalPeriod: p.requestWindowMs / 1000, count: p.requestsPerWindow },
    { key: "token", renewalPeriod: p.tokenWindowMs / 1000, count: p.tokensPerWindow },
  ];
  return { rateLimits, callRateLimit: { count: p.requestsPerWindow, renewalPeriod: p.requestWindowMs / 1000, rules: rateLimits.map((r) => ({ ...r })) } };
}
