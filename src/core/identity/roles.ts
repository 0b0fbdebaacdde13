// Built-in roles and ARM scope matching: which actions a role grants, and whether an
// assignment's scope covers the scope of a call.
import type { Action, RoleName } from "./types.ts";

const ALL: readonly Action[] = ["read", "accountWrite", "deploymentWrite", "listKeys", "inference", "authoring"];

export const ROLE_ACTIONS: Record<RoleName, readonly Action[]> = {
  Owner: ALL,
  Contributor: ALL,
  "Cognitive Services OpenAI Contributor": ["read", "deploymentWrite", "inference", "authoring"],
  "Cognitive Services OpenAI User": ["read", "inference"],
  Reader: ["read"],
};

export const ROLE_NAMES = Object.keys(ROLE_ACTIONS) as RoleName[];

/** Azure's built-in role definition ids (same GUIDs as in every Azure tenant). */
export const ROLE_DEFINITION_IDS: Record<RoleName, string> = {
  Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  "Cognitive Services OpenAI Contributor": "a001fd3d-188f-4b5d-821b-7da978bf7442",
  "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
};

/** The role named case-insensitively (as az accepts it), or undefined. */
export function parseRoleName(name: string): RoleName | undefined {
  return ROLE_NAMES.find((r) => r.toLowerCase() === name.trim().toLowerCase());
}

export function roleGrants(role: RoleName, action: Action): boolean {
  return ROLE_ACTIONS[role]?.includes(action) ?? false;
}

/** Lower-cased segments of an ARM id; "/" and "" are the root (no segments). */
export function scopeSegments(scope: string): string[] {
  return scope
    .split("/")
    .filter((s) => s !== "")
    .map((s) => s.toLowerCase());
}

/** "/" or "/a/b/…" with no trailing slash, case kept. */
export function normalizeScope(scope: string): string {
  const segs = scope.split("/").filter((s) => s !== "");
  return segs.length ? `/${segs.join("/")}` : "/";
}

/** True when `assigned` is `target` or an ancestor of it, compared per segment and case-insensitively. */
export function scopeCovers(assigned: string, target: string): boolean {
  const a = scopeSegments(assigned);
  const t = scopeSegments(target);
  if (a.length > t.length) return false;
  return a.every((seg, i) => seg === t[i]);
}

/** The subscription id in an ARM id, if it names one. */
export function subscriptionOf(scope: string): string | undefined {
  const segs = scope.split("/").filter((s) => s !== "");
  return segs[0]?.toLowerCase() === "subscriptions" && segs[1] ? segs[1] : undefined;
}

/** The ARM id of an AI-services account. */
export function accountScope(subscription: string, resourceGroup: string, account: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account}`;
}

/**
 * Checks that a scope given by a user is an ARM id Ingot can assign at: "/", a subscription,
 * a resource group, or a resource below one. Returns a message saying what to change, or undefined.
 */
export function invalidScopeReason(scope: string): string | undefined {
  const segs = scope.split("/").filter((s) => s !== "");
  if (!scope.startsWith("/")) return `The scope '${scope}' is not an ARM id. Use '/', '/subscriptions/{id}', '/subscriptions/{id}/resourceGroups/{group}' or an account id.`;
  if (segs.length === 0) return undefined;
  if (segs[0].toLowerCase() !== "subscriptions" || segs.length < 2)
    return `The scope '${scope}' must start with '/subscriptions/{subscriptionId}'.`;
  if (segs.length >= 3 && segs[2].toLowerCase() !== "resourcegroups")
    return `The scope '${scope}' is not valid: after the subscription comes '/resourceGroups/{group}'.`;
  if (segs.length === 3) return `The scope '${scope}' is missing the resource group name.`;
  return undefined;
}
