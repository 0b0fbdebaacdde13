// The IdentityStore port: subscriptions, principals, role assignments and secrets (the
// signing key). Implemented by store/sqlite/identity-store.ts (SqliteIdentityStore).
import type { Principal, RoleAssignment } from "../identity/types.ts";

/** Persistence for tenants' subscriptions, principals, role assignments and signing secrets. */
export interface IdentityStore {
  getSubscriptionTenant(subscriptionId: string): string | undefined;
  putSubscription(subscriptionId: string, tenantId: string): void;
  getPrincipal(objectId: string): (Principal & { secretHash?: string }) | undefined;
  getPrincipalByAppId(appId: string): (Principal & { secretHash?: string }) | undefined;
  listPrincipals(tenantId?: string): Principal[];
  putPrincipal(p: Principal & { secretHash?: string }): void;
  listRoleAssignments(principalId?: string): RoleAssignment[];
  putRoleAssignment(a: RoleAssignment): void;
  deleteRoleAssignment(id: string): void;
  getSecret(name: string): string | undefined;
  putSecret(name: string, value: string): void;
  /** Stores `value` unless `name` is already set; returns what is stored (first writer wins across processes). */
  putSecretIfAbsent(name: string, value: string): string;
  listSubscriptions(tenantId?: string): { subscriptionId: string; tenantId: string }[];
  /** Every tenant that has a subscription or a principal. */
  listTenants(): string[];
  deletePrincipal(objectId: string): void;
}
