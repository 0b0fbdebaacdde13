// What az needs to treat Ingot as a private cloud: the cloud metadata in both shapes, the
// ADFS-style token endpoint (no tenant in the URL), and the subscriptions a principal sees.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { DEFAULT_SUBSCRIPTION_ID, IdentityService } from "../../src/core/identity/service.ts";
import { cloudMetadata } from "../../src/http/arm/metadata.ts";
import { decodeJwt } from "../../src/lib/jwt.ts";
import { SqliteIdentityStore } from "../../src/store/sqlite/identity-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

function setup() {
  const identity = new IdentityService(new SqliteIdentityStore(new SqliteStore(":memory:").database));
  identity.ensureDefaults();
  return identity;
}

test("cloud metadata: the 2015-01-01 object az cloud register reads, and the later list of clouds", () => {
  const base = "https://127.0.0.1:8443";
  const old = cloudMetadata(base, "2015-01-01") as { authentication: { loginEndpoint: string; audiences: string[] }; graphEndpoint: string };
  assert.equal(old.authentication.loginEndpoint, `${base}/adfs`);
  assert.equal(old.authentication.audiences[0], `${base}/`);
  assert.ok(old.graphEndpoint);
  const list = cloudMetadata(base, "2022-09-01") as { name: string; resourceManager: string; authentication: { loginEndpoint: string } }[];
  assert.equal(list.length, 1);
  assert.equal(list[0].resourceManager, `${base}/`);
  assert.equal(list[0].authentication.loginEndpoint, `${base}/adfs`);
});

test("the ADFS-style token endpoint finds the service principal's tenant from its app id", () => {
  const identity = setup();
  const tenant = randomUUID();
  const sub = randomUUID();
  const sp = identity.createServicePrincipal({ displayName: "far", role: "Reader", scope: `/subscriptions/${sub}`, tenantId: tenant });
  const token = identity.clientCredentials({ tenant: "ADFS", clientId: sp.appId, clientSecret: sp.password, scope: "https://ingot.example:8443//.default", selfResource: "https://ingot.example:8443", grantType: "client_credentials" });
  const claims = decodeJwt(token.access_token)!.payload;
  assert.equal(claims.tid, tenant);
  assert.equal(claims.aud, "https://management.azure.com/");
  const unknown = randomUUID();
  assert.throws(
    () => identity.clientCredentials({ tenant: "adfs", clientId: unknown, clientSecret: "x", scope: "https://management.azure.com//.default", grantType: "client_credentials" }),
    (e: unknown) => e instanceof IngotError && /AADSTS700016/.test(e.message) && e.message.includes(unknown),
  );
  assert.throws(
    () => identity.clientCredentials({ tenant: "adfs", clientId: sp.appId, clientSecret: "wrong", scope: "https://management.azure.com//.default", grantType: "client_credentials" }),
    (e: unknown) => e instanceof IngotError && /AADSTS7000215/.test(e.message),
  );
});

test("GET /subscriptions lists the tenant's subscriptions where the principal holds a role at, above or inside them", () => {
  const identity = setup();
  assert.deepEqual(identity.visibleSubscriptions(identity.admin()), [DEFAULT_SUBSCRIPTION_ID]);
  const inGroup = identity.createServicePrincipal({ displayName: "rg", role: "Reader", scope: `/subscriptions/${DEFAULT_SUBSCRIPTION_ID}/resourceGroups/ingot` });
  assert.deepEqual(identity.visibleSubscriptions(identity.servicePrincipals().find((p) => p.appId === inGroup.appId)!), [DEFAULT_SUBSCRIPTION_ID]);
  const tenant = randomUUID();
  const other = randomUUID();
  const far = identity.createServicePrincipal({ displayName: "far", role: "Owner", scope: `/subscriptions/${other}`, tenantId: tenant });
  const farPrincipal = identity.servicePrincipals(tenant).find((p) => p.appId === far.appId)!;
  assert.deepEqual(identity.visibleSubscriptions(farPrincipal), [other]);
  // The admin (Owner at "/") sees only its own tenant's subscriptions.
  assert.deepEqual(identity.visibleSubscriptions(identity.admin()), [DEFAULT_SUBSCRIPTION_ID]);
});
