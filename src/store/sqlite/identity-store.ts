// SQLite adapter for the identity port: subscriptions → tenants, principals, role
// assignments and signing secrets. Shares the SqliteStore connection (same file, same migrations).
import type { SqlDatabase } from "../sql/database.ts";
import type { Principal, RoleAssignment, RoleName } from "../../core/identity/types.ts";
import type { IdentityStore } from "../../core/ports/index.ts";

interface PrincipalRow {
  object_id: string;
  tenant: string;
  kind: Principal["kind"];
  app_id: string | null;
  display_name: string;
  secret_hash: string | null;
}

const toPrincipal = (r: PrincipalRow): Principal & { secretHash?: string } => ({
  tenantId: r.tenant,
  objectId: r.object_id,
  kind: r.kind,
  ...(r.app_id ? { appId: r.app_id } : {}),
  displayName: r.display_name,
  ...(r.secret_hash ? { secretHash: r.secret_hash } : {}),
});

export class SqliteIdentityStore implements IdentityStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getSubscriptionTenant(subscriptionId: string): string | undefined {
    const r = this.#db.prepare("SELECT tenant FROM subscriptions WHERE lower(id) = lower(?)").get(subscriptionId) as { tenant: string } | undefined;
    return r?.tenant;
  }

  putSubscription(subscriptionId: string, tenantId: string): void {
    this.#db
      .prepare("INSERT INTO subscriptions (id, tenant, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant")
      .run(subscriptionId, tenantId, Date.now());
  }

  listSubscriptions(tenantId?: string): { subscriptionId: string; tenantId: string }[] {
    const rows = (
      tenantId === undefined
        ? this.#db.prepare("SELECT id, tenant FROM subscriptions ORDER BY created_at, rowid").all()
        : this.#db.prepare("SELECT id, tenant FROM subscriptions WHERE tenant = ? ORDER BY created_at, rowid").all(tenantId)
    ) as { id: string; tenant: string }[];
    return rows.map((r) => ({ subscriptionId: r.id, tenantId: r.tenant }));
  }

  listTenants(): string[] {
    const rows = this.#db.prepare("SELECT tenant FROM subscriptions UNION SELECT tenant FROM principals").all() as { tenant: string }[];
    return rows.map((r) => r.tenant);
  }

  getPrincipal(objectId: string): (Principal & { secretHash?: string }) | undefined {
    const r = this.#db.prepare("SELECT * FROM principals WHERE object_id = ?").get(objectId) as PrincipalRow | undefined;
    return r && toPrincipal(r);
  }

  getPrincipalByAppId(appId: string): (Principal & { secretHash?: string }) | undefined {
    const r = this.#db.prepare("SELECT * FROM principals WHERE app_id = ?").get(appId) as PrincipalRow | undefined;
    return r && toPrincipal(r);
  }

  listPrincipals(tenantId?: string): Principal[] {
    const rows = (
      tenantId === undefined
        ? this.#db.prepare("SELECT * FROM principals ORDER BY created_at, object_id").all()
        : this.#db.prepare("SELECT * FROM principals WHERE tenant = ? ORDER BY created_at, object_id").all(tenantId)
    ) as unknown as PrincipalRow[];
    return rows.map((r) => {
      const { secretHash: _, ...p } = toPrincipal(r);
      return p;
    });
  }

  putPrincipal(p: Principal & { secretHash?: string }): void {
    this.#db
      .prepare(
        `INSERT INTO principals (object_id, tenant, kind, app_id, display_name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(object_id) DO UPDATE SET tenant = excluded.tenant, kind = excluded.kind, app_id = excluded.app_id,
           display_name = excluded.display_name, secret_hash = excluded.secret_hash`,
      )
      .run(p.objectId, p.tenantId, p.kind, p.appId ?? null, p.displayName, p.secretHash ?? null, Date.now());
  }

  deletePrincipal(objectId: string): void {
    this.#db.prepare("DELETE FROM principals WHERE object_id = ?").run(objectId);
  }

  listRoleAssignments(principalId?: string): RoleAssignment[] {
    const rows = (
      principalId === undefined
        ? this.#db.prepare("SELECT * FROM role_assignments ORDER BY created_at, rowid").all()
        : this.#db.prepare("SELECT * FROM role_assignments WHERE principal = ? ORDER BY created_at, rowid").all(principalId)
    ) as { id: string; principal: string; role: RoleName; scope: string; created_at: number }[];
    return rows.map((r) => ({ id: r.id, principalId: r.principal, role: r.role, scope: r.scope, createdAt: r.created_at }));
  }

  putRoleAssignment(a: RoleAssignment): void {
    this.#db
      .prepare(
        `INSERT INTO role_assignments (id, principal, role, scope, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET principal = excluded.principal, role = excluded.role, scope = excluded.scope`,
      )
      .run(a.id, a.principalId, a.role, a.scope, a.createdAt);
  }

  deleteRoleAssignment(id: string): void {
    this.#db.prepare("DELETE FROM role_assignments WHERE id = ?").run(id);
  }

  getSecret(name: string): string | undefined {
    const r = this.#db.prepare("SELECT value FROM secrets WHERE name = ?").get(name) as { value: string } | undefined;
    return r?.value;
  }

  putSecret(name: string, value: string): void {
    this.#db.prepare("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value").run(name, value);
  }

  putSecretIfAbsent(name: string, value: string): string {
    this.#db.prepare("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING").run(name, value);
    return this.getSecret(name)!;
  }
}
