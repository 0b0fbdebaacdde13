// Authorization: roles × actions, ARM scope matching, tenant isolation; service principals and
// the client-credentials grant with Entra ID's errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ROLE_NAMES, scopeCovers } from "../../src/core/identity/roles.ts";
import { DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, IdentityService, newSecret } from "../../src/core/identity/service.ts";
import type { Action, Principal, RoleName } from "../../src/core/identity/types.ts";
import { SqliteIdentityStore } from "../../src/store/sqlite/identity-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { caught } from "./caught.ts";

const SUB = DEFAULT_SUBSCRIPTION_ID;
const GROUP = `/subscriptions/${SUB}/resourceGroups/ingot`;
const ACCOUNT = `${GROUP}/providers/Microsoft.CognitiveServices/accounts/ingot`;
const OP = "Microsoft.CognitiveServices/accounts/deployments/write";

function setup() {
  const store = new SqliteStore(":memory:");
  const identity = new IdentityService(new SqliteIdentityStore(store.database), { clock: () => Date.UTC(2025, 0, 1) });
  identity.ensureDefaults();
  return identity;
}

function principalOf(identity: IdentityService, appId: string): Principal {
  return identity.servicePrincipals().find((p) => p.appId === appId)!;
}

const error = caught;

test("each role grants exactly its documented actions", () => {
  const identity = setup();
  const expected: Record<RoleName, Action[]> = {
    Owner: ["read", "accountWrite", "deploymentWrite", "listKeys", "inference", "authoring"],
    Contributor: ["read", "accountWrite", "deploymentWrite", "listKeys", "inference", "authoring"],
    "Cognitive Services OpenAI Contributor": ["read", "deploymentWrite", "inference", "authoring"],
    "Cognitive Services OpenAI User": ["read", "inference"],
    Reader: ["read"],
  };
  const actions: Action[] = ["read", "accountWrite", "deploymentWrite", "listKeys", "inference", "authoring"];
  for (const role of ROLE_NAMES) {
    const sp = identity.createServicePrincipal({ displayName: `sp-${role}`, role, scope: ACCOUNT });
    const p = principalOf(identity, sp.appId);
    for (const action of actions) {
      const allowed = expected[role].includes(action);
      assert.equal(identity.isAuthorized(p, ACCOUNT, action), allowed, `${role} ${action}`);
      if (allowed) identity.authorize(p, ACCOUNT, action, OP);
      else {
        const e = error(() => identity.authorize(p, ACCOUNT, action, OP));
        assert.equal(e.code, "AuthorizationFailed");
        assert.equal(e.status, 403);
        assert.equal(
          e.message,
          `The client '${p.objectId}' with object id '${p.objectId}' does not have authorization to perform action '${OP}' over scope '${ACCOUNT}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        );
      }
    }
  }
});

test("scopes match as case-insensitive ARM-id prefixes on segment boundaries", () => {
  assert.ok(scopeCovers("/", ACCOUNT));
  assert.ok(scopeCovers(`/subscriptions/${SUB}`, ACCOUNT));
  assert.ok(scopeCovers(GROUP, ACCOUNT));
  assert.ok(scopeCovers(ACCOUNT, `${ACCOUNT}/deployments/tiny-chat`));
  assert.ok(scopeCovers(GROUP.toUpperCase(), ACCOUNT.replace("resourceGroups", "resourcegroups")));
  assert.ok(scopeCovers(`${GROUP}/`, ACCOUNT));
  assert.ok(scopeCovers(`${GROUP}2`, ACCOUNT.replace("/ingot/", "/ingot2/")));
  assert.ok(!scopeCovers(GROUP, ACCOUNT.replace("resourceGroups/ingot", "resourceGroups/ingot2")));
  assert.ok(!scopeCovers(`${GROUP}2`, ACCOUNT));
  assert.ok(!scopeCovers(ACCOUNT, GROUP));
  assert.ok(!scopeCovers(`/subscriptions/${SUB}/resourceGroups/other`, ACCOUNT));

  const identity = setup();
  const sp = identity.createServicePrincipal({ displayName: "group-reader", role: "Reader", scope: GROUP.toLowerCase() });
  const p = principalOf(identity, sp.appId);
  identity.authorize(p, ACCOUNT, "read", "Microsoft.CognitiveServices/accounts/read");
  identity.authorize(p, `${ACCOUNT}/deployments/tiny-chat`, "read", "Microsoft.CognitiveServices/accounts/deployments/read");
  assert.equal(error(() => identity.authorize(p, `/subscriptions/${SUB}/resourceGroups/ingot2`, "read", "x")).code, "AuthorizationFailed");
  assert.equal(error(() => identity.authorize(p, `/subscriptions/${SUB}`, "read", "x")).code, "AuthorizationFailed");
});

test("the local admin is Owner at '/' and claims unknown subscriptions for its tenant", () => {
  const identity = setup();
  const admin = identity.admin();
  assert.equal(admin.tenantId, DEFAULT_TENANT_ID);
  assert.equal(identity.subscriptionTenant(SUB), DEFAULT_TENANT_ID);
  const fresh = "11111111-2222-3333-4444-555555555555";
  identity.authorize(admin, `/subscriptions/${fresh}/resourceGroups/x`, "accountWrite", "Microsoft.CognitiveServices/accounts/write");
  assert.equal(identity.subscriptionTenant(fresh), DEFAULT_TENANT_ID);
  assert.deepEqual(identity.subscriptions(DEFAULT_TENANT_ID).sort(), [SUB, fresh].sort());
});

test("an unknown subscription outside a principal's roles is not authorized, and stays unclaimed", () => {
  const identity = setup();
  const sp = identity.createServicePrincipal({ displayName: "narrow", role: "Owner", scope: GROUP });
  const p = principalOf(identity, sp.appId);
  const unknown = "99999999-0000-0000-0000-000000000000";
  assert.equal(error(() => identity.authorize(p, `/subscriptions/${unknown}/resourceGroups/a`, "read", "x")).code, "AuthorizationFailed");
  assert.equal(identity.subscriptionTenant(unknown), undefined);
});

test("a principal of another tenant gets InvalidAuthenticationTokenTenant, before any role check", () => {
  const identity = setup();
  const tenantB = identity.createTenant();
  const subB = "bbbbbbbb-0000-0000-0000-000000000000";
  identity.registerSubscription(subB, tenantB);
  const spB = identity.createServicePrincipal({ displayName: "b-owner", role: "Owner", scope: "/", tenantId: tenantB });
  const pB = principalOf(identity, spB.appId);
  assert.equal(pB.tenantId, tenantB);
  identity.authorize(pB, `/subscriptions/${subB}/resourceGroups/g`, "accountWrite", "x");
  const e = error(() => identity.authorize(pB, ACCOUNT, "read", "Microsoft.CognitiveServices/accounts/read"));
  assert.equal(e.code, "InvalidAuthenticationTokenTenant");
  assert.equal(e.status, 401);
  assert.equal(
    e.message,
    `The access token is from the wrong issuer 'https://sts.windows.net/${tenantB}/'. It must match the tenant 'https://sts.windows.net/${DEFAULT_TENANT_ID}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${DEFAULT_TENANT_ID}' to get the token.`,
  );
  assert.equal(identity.isAuthorized(pB, ACCOUNT, "read"), false);
  // ... and the admin of the default tenant cannot reach tenant B's subscription.
  assert.equal(error(() => identity.authorize(identity.admin(), `/subscriptions/${subB}`, "read", "x")).code, "InvalidAuthenticationTokenTenant");
  // A subscription belongs to one tenant.
  assert.equal(error(() => identity.registerSubscription(subB, DEFAULT_TENANT_ID)).code, "SubscriptionInAnotherTenant");
});

test("createServicePrincipal validates role and scope; an existing name gets a new password", () => {
  const identity = setup();
  assert.equal(error(() => identity.createServicePrincipal({ role: "Admin", scope: "/" })).code, "RoleDefinitionDoesNotExist");
  assert.equal(error(() => identity.createServicePrincipal({ role: "Reader", scope: "subscriptions/x" })).code, "InvalidScope");
  assert.equal(error(() => identity.createServicePrincipal({ role: "Reader", scope: "/resourceGroups/x" })).code, "InvalidScope");
  assert.equal(error(() => identity.createServicePrincipal({ role: "Reader", scope: "/", tenantId: "nope" })).code, "InvalidTenantId");
  const a = identity.createServicePrincipal({ displayName: "app", role: "reader", scope: GROUP });
  assert.match(a.password, /^[A-Za-z0-9_-]{40}$/);
  assert.equal(a.tenant, DEFAULT_TENANT_ID);
  const b = identity.createServicePrincipal({ displayName: "app", role: "Cognitive Services OpenAI User", scope: ACCOUNT });
  assert.equal(b.appId, a.appId);
  assert.notEqual(b.password, a.password);
  assert.deepEqual(identity.roleAssignments(principalOf(identity, a.appId).objectId).map((r) => r.role), ["Reader", "Cognitive Services OpenAI User"]);
  // The old password no longer works; the new one does.
  assert.equal(error(() => identity.clientCredentials({ tenant: a.tenant, clientId: a.appId, clientSecret: a.password, scope: "https://management.azure.com/.default" })).code, "invalid_client");
  identity.clientCredentials({ tenant: a.tenant, clientId: a.appId, clientSecret: b.password, scope: "https://management.azure.com/.default" });
});

test("client credentials: Entra ID's errors for each wrong input", () => {
  const identity = setup();
  const sp = identity.createServicePrincipal({ displayName: "cc", role: "Reader", scope: "/" });
  const ok = { tenant: sp.tenant, clientId: sp.appId, clientSecret: sp.password, scope: "https://management.azure.com/.default", grantType: "client_credentials" };
  const r = identity.clientCredentials(ok);
  assert.equal(r.token_type, "Bearer");
  assert.equal(r.expires_in, 3599);
  assert.equal(r.ext_expires_in, 3599);
  identity.verifyToken(r.access_token, "management");
  // Scope variants az and the SDKs send.
  identity.verifyToken(identity.clientCredentials({ ...ok, scope: "https://management.core.windows.net//.default" }).access_token, "management");
  identity.verifyToken(identity.clientCredentials({ ...ok, scope: "https://management.azure.com//.default openid profile offline_access" }).access_token, "management");
  identity.verifyToken(identity.clientCredentials({ ...ok, scope: undefined, resource: "https://management.azure.com/" }).access_token, "management");
  identity.verifyToken(identity.clientCredentials({ ...ok, tenant: sp.tenant.toUpperCase() }).access_token, "management");

  const cases: [Partial<typeof ok> & { resource?: string }, string, number, RegExp][] = [
    [{ clientSecret: "wrong" }, "invalid_client", 401, /^AADSTS7000215: Invalid client secret provided\./],
    [{ clientSecret: undefined }, "invalid_client", 401, /^AADSTS7000218:/],
    [{ clientId: "00000000-1111-2222-3333-444444444444" }, "unauthorized_client", 400, /^AADSTS700016: Application with identifier '00000000-1111-2222-3333-444444444444' was not found in the directory/],
    [{ clientId: undefined }, "invalid_request", 400, /^AADSTS900144: .*'client_id'/],
    [{ scope: "https://management.azure.com/user_impersonation" }, "invalid_scope", 400, /^AADSTS1002012:/],
    [{ scope: "https://graph.microsoft.com/.default" }, "invalid_resource", 400, /^AADSTS500011: The resource principal named https:\/\/graph.microsoft.com was not found/],
    [{ scope: undefined }, "invalid_request", 400, /^AADSTS900144: .*'scope'/],
    [{ grantType: "password" }, "unsupported_grant_type", 400, /^AADSTS70003:/],
    [{ tenant: "common" }, "invalid_request", 400, /^AADSTS50059:/],
    [{ tenant: "12345678-aaaa-bbbb-cccc-123456789012" }, "invalid_request", 400, /^AADSTS90002: Tenant '12345678-aaaa-bbbb-cccc-123456789012' not found\./],
  ];
  for (const [change, code, status, message] of cases) {
    const e = error(() => identity.clientCredentials({ ...ok, ...change }));
    assert.equal(e.code, code, JSON.stringify(change));
    assert.equal(e.status, status, JSON.stringify(change));
    assert.match(e.message, message);
  }
  // An app of another tenant is not found in this one.
  const tenantB = identity.createTenant();
  const spB = identity.createServicePrincipal({ displayName: "b", role: "Reader", scope: "/", tenantId: tenantB });
  assert.equal(error(() => identity.clientCredentials({ ...ok, clientId: spB.appId, clientSecret: spB.password })).code, "unauthorized_client");
  identity.clientCredentials({ ...ok, tenant: tenantB, clientId: spB.appId, clientSecret: spB.password });
});

test("service principal secrets never start with '-' (az login -p would read one as an option)", () => {
  // Without the rule about 1 in 64 would: 2,000 draws all miss it with probability ~2e-14.
  for (let i = 0; i < 2000; i++) {
    const s = newSecret();
    assert.match(s, /^[A-Za-z0-9_][A-Za-z0-9_-]{39}$/);
  }
});
