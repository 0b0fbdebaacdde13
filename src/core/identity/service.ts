// Identity: the signing key, tenants and their subscriptions, principals, role assignments;
// issues and verifies RS256 tokens shaped like Entra ID's v1 access tokens, and decides
// whether a principal may perform an action at an ARM scope.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { IngotError } from "../errors.ts";
import { decodeJwt, rsaThumbprint, signJwt, verifyRs256 } from "../../lib/jwt.ts";
import { aadErrors, armAuthErrors, COGNITIVE_SERVICES_AUDIENCES, MANAGEMENT_AUDIENCES } from "./errors.ts";
import { invalidScopeReason, normalizeScope, parseRoleName, ROLE_NAMES, roleGrants, scopeCovers, subscriptionOf } from "./roles.ts";
import type { Action, Audience, Principal, RoleAssignment, RoleName } from "./types.ts";
import type { IdentityStore } from "../ports/index.ts";

/** The tenant of the local admin and of the default subscription. */
export const DEFAULT_TENANT_ID = "1ce7a1f0-0000-4000-8000-00000000196e";
export const DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000";
/** The authority path segment of an ADFS-style login endpoint (`{base}/adfs`): no tenant in the URL. */
export const ADFS_TENANT = "adfs";
export const ADMIN_DISPLAY_NAME = "Ingot local admin";

/** The `aud` claim each audience gets when nothing more specific was asked for. */
export const AUDIENCE_CLAIM: Record<Audience, string> = {
  management: "https://management.azure.com/",
  cognitiveservices: "https://cognitiveservices.azure.com",
  storage: "https://storage.azure.com",
};

const ALLOWED_AUDIENCES: Record<Audience, string[]> = {
  management: MANAGEMENT_AUDIENCES,
  cognitiveservices: COGNITIVE_SERVICES_AUDIENCES,
  // Ingot's blob service (Azure ML datastores) takes storage tokens, and management tokens too (the CLI's one token).
  storage: ["https://storage.azure.com", "https://storage.azure.com/", ...MANAGEMENT_AUDIENCES],
};

/** Resources the token endpoint serves (compared without a trailing slash), and the `aud` each gets. */
const RESOURCES: Record<string, string> = {
  "https://management.azure.com": "https://management.azure.com/",
  "https://management.core.windows.net": "https://management.core.windows.net/",
  "https://cognitiveservices.azure.com": "https://cognitiveservices.azure.com",
  "https://ai.azure.com": "https://ai.azure.com",
  "https://storage.azure.com": "https://storage.azure.com",
};

/** The `aud` a token for this resource (or `{resource}/.default` scope) gets, or undefined when Ingot serves no such resource. */
export function audienceForResource(resource: string): string | undefined {
  return RESOURCES[resource.replace(/\/\.default$/, "").replace(/\/+$/, "").toLowerCase()];
}

const SIGNING_KEY_SECRET = "token-signing-key";
const ADMIN_OID_SECRET = "admin-object-id";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

export interface TokenResponse {
  token_type: "Bearer";
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

export interface ServicePrincipalCredentials {
  appId: string;
  displayName: string;
  password: string;
  tenant: string;
  objectId: string;
}

export interface ClientCredentialsRequest {
  tenant: string;
  clientId?: string;
  clientSecret?: string;
  /** v2 endpoint: space-separated scopes, one `{resource}/.default`. */
  scope?: string;
  /** v1 endpoint (`/oauth2/token`): the resource itself. */
  resource?: string;
  /** This server's own base URL: as a resource it means the management API it serves. */
  selfResource?: string;
  grantType?: string;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Secrets from `createServicePrincipal` are 240 random bits, so a fast hash is as safe as a slow one. */
const hashSecret = (secret: string) => `sha256:${createHash("sha256").update(secret, "utf8").digest("hex")}`;

function secretMatches(secret: string, stored: string | undefined): boolean {
  if (!stored) return false;
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class IdentityService {
  #store: IdentityStore;
  #clock: () => number;
  #key: SigningKey | undefined;

  constructor(store: IdentityStore, options: { clock?: () => number } = {}) {
    this.#store = store;
    this.#clock = options.clock ?? Date.now;
  }

  /** Signing key, default tenant and subscription, local admin (Owner at "/"). Safe to call from several processes at once. */
  ensureDefaults(): void {
    this.#signingKey();
    if (!this.#store.getSubscriptionTenant(DEFAULT_SUBSCRIPTION_ID)) this.#store.putSubscription(DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID);
    const oid = this.#store.putSecretIfAbsent(ADMIN_OID_SECRET, randomUUID());
    if (!this.#store.getPrincipal(oid))
      this.#store.putPrincipal({ tenantId: DEFAULT_TENANT_ID, objectId: oid, kind: "user", displayName: ADMIN_DISPLAY_NAME });
    // A fixed id, so concurrent first starts write the same row.
    const id = `admin-owner-${oid}`;
    if (!this.#store.listRoleAssignments(oid).some((a) => a.id === id))
      this.#store.putRoleAssignment({ id, principalId: oid, role: "Owner", scope: "/", createdAt: this.#clock() });
  }

  /** The local admin user (what `ingot token` signs for). */
  admin(): Principal {
    const oid = this.#store.getSecret(ADMIN_OID_SECRET);
    const p = oid ? this.#store.getPrincipal(oid) : undefined;
    if (!p) throw new IngotError("internal", "InternalServerError", "The local admin does not exist yet: call ensureDefaults() first.");
    return stripSecret(p);
  }

  adminToken(audience: Audience = "management", lifetimeSeconds = 3600): string {
    return this.issueToken(this.admin(), audience, lifetimeSeconds);
  }

  /**
   * An RS256 JWT shaped like an Entra ID v1 access token. `audience` is an Audience, or an
   * exact `aud` value (e.g. "https://management.core.windows.net/").
   */
  issueToken(principal: Principal, audience: Audience | string, lifetimeSeconds = 3600): string {
    const key = this.#signingKey();
    const now = Math.floor(this.#clock() / 1000);
    const aud = audience === "management" || audience === "cognitiveservices" ? AUDIENCE_CLAIM[audience] : audience;
    const payload: Record<string, unknown> = {
      aud,
      iss: issuerOf(principal.tenantId),
      iat: now,
      nbf: now,
      exp: now + lifetimeSeconds,
      ...(principal.appId ? { appid: principal.appId, appidacr: "1" } : {}),
      idtyp: principal.kind === "servicePrincipal" ? "app" : "user",
      name: principal.displayName,
      oid: principal.objectId,
      sub: principal.objectId,
      tid: principal.tenantId,
      uti: randomBytes(16).toString("base64url"),
      ver: "1.0",
    };
    return signJwt({ typ: "JWT", alg: "RS256", kid: key.kid }, payload, key.privateKey);
  }

  /** The principal a token was issued to, or an ARM-worded `unauthorized` error. */
  verifyToken(token: string, audience: Audience): Principal {
    const decoded = decodeJwt(token);
    if (!decoded) throw armAuthErrors.invalidToken("It is not a JWT: send 'Authorization: Bearer <token>' with a token from `ingot token` or the token endpoint.");
    const key = this.#signingKey();
    if (decoded.header.alg !== "RS256") throw armAuthErrors.invalidToken(`Its signing algorithm '${String(decoded.header.alg)}' is not RS256.`);
    if (decoded.header.kid !== undefined && decoded.header.kid !== key.kid)
      throw armAuthErrors.invalidToken("It was not signed by this Ingot (unknown key id): get a new token from this Ingot.");
    if (!verifyRs256(token, key.publicKey))
      throw armAuthErrors.invalidToken("Its signature does not verify against this Ingot's signing key: the token was altered, or issued by another Ingot.");
    const c = decoded.payload;
    const aud = typeof c.aud === "string" ? c.aud : String(c.aud);
    const allowed = ALLOWED_AUDIENCES[audience];
    if (!allowed.includes(aud)) throw armAuthErrors.wrongAudience(aud, allowed);
    const nowMs = this.#clock();
    if (typeof c.exp !== "number") throw armAuthErrors.invalidToken("It has no expiry ('exp').");
    if (nowMs >= c.exp * 1000) throw armAuthErrors.expired(c.exp * 1000, nowMs);
    if (typeof c.nbf === "number" && nowMs < c.nbf * 1000) throw armAuthErrors.invalidToken("It is not valid yet ('nbf' is in the future).");
    if (typeof c.oid !== "string" || typeof c.tid !== "string" || c.iss !== issuerOf(c.tid))
      throw armAuthErrors.invalidToken("Its 'oid', 'tid' or 'iss' claim is missing or inconsistent.");
    const principal = this.#store.getPrincipal(c.oid);
    if (!principal || principal.tenantId !== c.tid)
      throw armAuthErrors.invalidToken(`The principal '${c.oid}' it was issued to no longer exists in tenant '${c.tid}'.`);
    return stripSecret(principal);
  }

  /**
   * Throws unless `principal` may perform `action` at `scope` (an ARM id). `operation` is the
   * Azure action string named in the error, e.g. "Microsoft.CognitiveServices/accounts/deployments/write".
   */
  authorize(principal: Principal, scope: string, action: Action, operation: string): void {
    const assignments = this.#store.listRoleAssignments(principal.objectId);
    const sub = subscriptionOf(scope);
    if (sub) {
      let tenant = this.#store.getSubscriptionTenant(sub);
      if (!tenant && assignments.some((a) => scopeCovers(a.scope, `/subscriptions/${sub}`))) {
        // Local convenience: whoever can reach an unregistered subscription claims it for its tenant.
        this.#store.putSubscription(sub, principal.tenantId);
        tenant = principal.tenantId;
      }
      if (!tenant) throw armAuthErrors.authorizationFailed(principal.objectId, operation, scope);
      if (tenant.toLowerCase() !== principal.tenantId.toLowerCase()) throw armAuthErrors.wrongTenant(principal.tenantId, tenant);
    }
    if (!assignments.some((a) => scopeCovers(a.scope, scope) && roleGrants(a.role, action)))
      throw armAuthErrors.authorizationFailed(principal.objectId, operation, scope);
  }

  /** `authorize` as a yes/no without side effects, for filtering lists (e.g. accounts a Reader can see). */
  isAuthorized(principal: Principal, scope: string, action: Action): boolean {
    const assignments = this.#store.listRoleAssignments(principal.objectId);
    const sub = subscriptionOf(scope);
    if (sub) {
      const tenant = this.#store.getSubscriptionTenant(sub);
      if (tenant && tenant.toLowerCase() !== principal.tenantId.toLowerCase()) return false;
    }
    return assignments.some((a) => scopeCovers(a.scope, scope) && roleGrants(a.role, action));
  }

  roleAssignments(principalId?: string): RoleAssignment[] {
    return this.#store.listRoleAssignments(principalId);
  }

  assignRole(principalId: string, role: RoleName | string, scope: string): RoleAssignment {
    const roleName = roleOrThrow(role);
    const reason = invalidScopeReason(scope);
    if (reason) throw new IngotError("invalid_request", "InvalidScope", reason);
    const principal = this.#store.getPrincipal(principalId);
    if (!principal) throw new IngotError("not_found", "PrincipalNotFound", `Principal ${principalId} does not exist in the directory.`);
    const normalized = normalizeScope(scope);
    const existing = this.#store.listRoleAssignments(principalId).find((a) => a.role === roleName && normalizeScope(a.scope).toLowerCase() === normalized.toLowerCase());
    if (existing) return existing;
    // A principal granted something in an unregistered subscription brings it into its own tenant.
    const sub = subscriptionOf(normalized);
    if (sub && !this.#store.getSubscriptionTenant(sub)) this.#store.putSubscription(sub, principal.tenantId);
    const assignment: RoleAssignment = { id: randomUUID(), principalId, role: roleName, scope: normalized, createdAt: this.#clock() };
    this.#store.putRoleAssignment(assignment);
    return assignment;
  }

  /**
   * A service principal with one role assignment, as `az ad sp create-for-rbac` makes one. A
   * display name that already exists in the tenant gets a new password and the extra role
   * (az does the same). The password is returned once and stored hashed.
   */
  createServicePrincipal(opts: { displayName?: string; role: RoleName | string; scope: string; tenantId?: string }): ServicePrincipalCredentials {
    const tenantId = opts.tenantId ?? DEFAULT_TENANT_ID;
    if (!GUID.test(tenantId)) throw new IngotError("invalid_request", "InvalidTenantId", `The tenant id '${tenantId}' is not a GUID. Use one from 'ingot sp create --tenant new' or omit it for the default tenant.`);
    roleOrThrow(opts.role);
    const reason = invalidScopeReason(opts.scope);
    if (reason) throw new IngotError("invalid_request", "InvalidScope", reason);
    const displayName = opts.displayName?.trim() || `ingot-sp-${new Date(this.#clock()).toISOString().slice(0, 19).replace(/[T:]/g, "-")}`;
    const existing = this.#store.listPrincipals(tenantId).find((p) => p.kind === "servicePrincipal" && p.displayName === displayName);
    const password = newSecret();
    const principal: Principal = existing ?? { tenantId, objectId: randomUUID(), kind: "servicePrincipal", appId: randomUUID(), displayName };
    this.#store.putPrincipal({ ...principal, secretHash: hashSecret(password) });
    this.assignRole(principal.objectId, opts.role, opts.scope);
    return { appId: principal.appId!, displayName, password, tenant: tenantId, objectId: principal.objectId };
  }

  servicePrincipals(tenantId?: string): Principal[] {
    return this.#store.listPrincipals(tenantId).filter((p) => p.kind === "servicePrincipal");
  }

  /** Removes a service principal (by appId or object id) and its role assignments; its tokens stop verifying. */
  deleteServicePrincipal(id: string): boolean {
    const p = this.#store.getPrincipalByAppId(id) ?? this.#store.getPrincipal(id);
    if (!p || p.kind !== "servicePrincipal") return false;
    for (const a of this.#store.listRoleAssignments(p.objectId)) this.#store.deleteRoleAssignment(a.id);
    this.#store.deletePrincipal(p.objectId);
    return true;
  }

  /** A new, empty tenant id; it becomes known once it holds a subscription or a principal. */
  createTenant(): string {
    return randomUUID();
  }

  /** Registers a subscription to a tenant; a subscription already in another tenant is a conflict. */
  registerSubscription(subscriptionId: string, tenantId: string): void {
    if (!GUID.test(tenantId)) throw new IngotError("invalid_request", "InvalidTenantId", `The tenant id '${tenantId}' is not a GUID.`);
    if (!/^[0-9A-Za-z-]+$/.test(subscriptionId)) throw new IngotError("invalid_request", "InvalidSubscriptionId", `The subscription id '${subscriptionId}' is malformed: use a GUID.`);
    const current = this.#store.getSubscriptionTenant(subscriptionId);
    if (current && current.toLowerCase() !== tenantId.toLowerCase())
      throw new IngotError("conflict", "SubscriptionInAnotherTenant", `The subscription '${subscriptionId}' belongs to tenant '${current}'. Use another subscription id for tenant '${tenantId}'.`);
    if (!current) this.#store.putSubscription(subscriptionId, tenantId);
  }

  subscriptionTenant(subscriptionId: string): string | undefined {
    return this.#store.getSubscriptionTenant(subscriptionId);
  }

  /** Subscriptions registered to a tenant (what `GET /subscriptions` lists for a principal of it). */
  subscriptions(tenantId: string): string[] {
    return this.#store.listSubscriptions(tenantId).map((s) => s.subscriptionId);
  }

  /**
   * Subscriptions a principal sees in `GET /subscriptions` (what `az login` lists): those of its
   * tenant where it holds a role at the subscription, above it, or on anything inside it.
   */
  visibleSubscriptions(principal: Principal): string[] {
    const assignments = this.#store.listRoleAssignments(principal.objectId);
    return this.subscriptions(principal.tenantId).filter((sub) =>
      assignments.some((a) => scopeCovers(a.scope, `/subscriptions/${sub}`) || subscriptionOf(a.scope)?.toLowerCase() === sub.toLowerCase()),
    );
  }

  /** The tenant id as stored when `tenant` (any case) is known, else undefined. */
  knownTenant(tenant: string): string | undefined {
    const t = tenant.toLowerCase();
    return [DEFAULT_TENANT_ID, ...this.#store.listTenants()].find((x) => x.toLowerCase() === t);
  }

  /** OAuth2 client-credentials grant, with Entra ID's errors. */
  clientCredentials(req: ClientCredentialsRequest): TokenResponse {
    if (req.grantType !== undefined && req.grantType !== "client_credentials") {
      if (!req.grantType) throw aadErrors.missingParameter("grant_type");
      throw aadErrors.unsupportedGrant(req.grantType);
    }
    if (["common", "organizations", "consumers"].includes(req.tenant.toLowerCase())) throw aadErrors.noTenant();
    // An ADFS-style authority (`{base}/adfs`, as Azure Stack Hub's az logins use) names no
    // tenant: the client id, unique across tenants, is the service principal's own.
    const adfs = req.tenant.toLowerCase() === ADFS_TENANT;
    if (adfs && !req.clientId) throw aadErrors.missingParameter("client_id");
    const tenant = adfs ? (this.#store.getPrincipalByAppId(req.clientId!)?.tenantId ?? DEFAULT_TENANT_ID) : this.knownTenant(req.tenant);
    if (!tenant) throw aadErrors.tenantNotFound(req.tenant);
    if (!req.clientId) throw aadErrors.missingParameter("client_id");
    const sp = this.#store.getPrincipalByAppId(req.clientId);
    if (!sp || sp.tenantId.toLowerCase() !== tenant.toLowerCase()) throw aadErrors.appNotFound(req.clientId, req.tenant);
    if (!req.clientSecret) throw aadErrors.missingSecret();
    if (!secretMatches(req.clientSecret, sp.secretHash)) throw aadErrors.invalidSecret(req.clientId);
    const aud = this.#audienceFor(req, tenant);
    const lifetime = 3599;
    return { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: this.issueToken(stripSecret(sp), aud, lifetime) };
  }

  #audienceFor(req: ClientCredentialsRequest, tenant: string): string {
    let resource: string;
    if (req.scope !== undefined) {
      const scopes = req.scope.split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
      if (scopes.length !== 1 || !scopes[0].endsWith("/.default")) throw aadErrors.invalidScope(req.scope);
      resource = scopes[0].slice(0, -"/.default".length);
    } else if (req.resource !== undefined) resource = req.resource;
    else throw aadErrors.missingParameter("scope");
    const self = req.selfResource && resource.replace(/\/+$/, "").toLowerCase() === req.selfResource.replace(/\/+$/, "").toLowerCase();
    const aud = self ? AUDIENCE_CLAIM.management : audienceForResource(resource);
    if (!aud) throw aadErrors.resourceNotFound(resource, tenant);
    return aud;
  }

  /** The JSON Web Key Set that verifies Ingot's tokens. */
  jwks(): { keys: Record<string, unknown>[] } {
    const key = this.#signingKey();
    const jwk = key.publicKey.export({ format: "jwk" }) as { n: string; e: string };
    return { keys: [{ kty: "RSA", use: "sig", alg: "RS256", kid: key.kid, n: jwk.n, e: jwk.e }] };
  }

  #signingKey(): SigningKey {
    if (this.#key) return this.#key;
    let stored = this.#store.getSecret(SIGNING_KEY_SECRET);
    if (!stored) {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
      stored = this.#store.putSecretIfAbsent(SIGNING_KEY_SECRET, JSON.stringify({ kid: rsaThumbprint(createPublicKey(privateKey)), pem }));
    }
    const { kid, pem } = JSON.parse(stored) as { kid: string; pem: string };
    const privateKey = createPrivateKey(pem);
    this.#key = { kid, privateKey, publicKey: createPublicKey(privateKey) };
    return this.#key;
  }
}

export const issuerOf = (tenantId: string) => `https://sts.windows.net/${tenantId}/`;

function roleOrThrow(role: string): RoleName {
  const roleName = parseRoleName(role);
  if (!roleName)
    throw new IngotError("invalid_request", "RoleDefinitionDoesNotExist", `The role '${role}' does not exist. Use one of: ${ROLE_NAMES.join(", ")}.`);
  return roleName;
}

function stripSecret(p: Principal & { secretHash?: string }): Principal {
  const { secretHash: _, ...rest } = p;
  return rest;
}

/**
 * A service principal's secret: 240 random bits, base64url, never starting with '-' (about 1 in
 * 64 would), which `az login -p <secret>` and other CLIs' parsers would take for an option.
 */
export function newSecret(): string {
  for (;;) {
    const secret = randomBytes(30).toString("base64url");
    if (!secret.startsWith("-")) return secret;
  }
}
