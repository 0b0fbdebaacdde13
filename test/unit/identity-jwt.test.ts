// Tokens: RS256 signing and verification, with the ARM error codes for each failure.
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { AUDIENCE_CLAIM, DEFAULT_TENANT_ID, IdentityService } from "../../src/core/identity/service.ts";
import { decodeJwt, signJwt } from "../../src/lib/jwt.ts";
import { SqliteIdentityStore } from "../../src/store/sqlite/identity-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);

function setup(start = T0) {
  let now = start;
  const store = new SqliteStore(":memory:");
  const identity = new IdentityService(new SqliteIdentityStore(store.database), { clock: () => now });
  identity.ensureDefaults();
  return { identity, store, advance: (ms: number) => (now += ms) };
}

function rejects(fn: () => unknown, code: string, kind = "unauthorized"): IngotError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IngotError, `expected IngotError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, kind);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test("ensureDefaults is idempotent and the admin token carries Entra-shaped claims", () => {
  const { identity, store } = setup();
  const admin = identity.admin();
  identity.ensureDefaults();
  assert.deepEqual(identity.admin(), admin);
  assert.equal(identity.roleAssignments(admin.objectId).length, 1);
  const token = identity.adminToken();
  const d = decodeJwt(token)!;
  assert.equal(d.header.alg, "RS256");
  assert.equal(d.header.typ, "JWT");
  assert.ok(typeof d.header.kid === "string" && d.header.kid.length > 20);
  const c = d.payload;
  assert.equal(c.aud, "https://management.azure.com/");
  assert.equal(c.iss, `https://sts.windows.net/${DEFAULT_TENANT_ID}/`);
  assert.equal(c.tid, DEFAULT_TENANT_ID);
  assert.equal(c.oid, admin.objectId);
  assert.equal(c.sub, admin.objectId);
  assert.equal(c.idtyp, "user");
  assert.equal(c.iat, T0 / 1000);
  assert.equal(c.nbf, T0 / 1000);
  assert.equal(c.exp, T0 / 1000 + 3600);
  assert.equal(c.appid, undefined);
  assert.deepEqual(identity.verifyToken(token, "management"), admin);
  // The key persists: a second service over the same database verifies the first one's tokens.
  const again = new IdentityService(new SqliteIdentityStore(store.database), { clock: () => T0 });
  again.ensureDefaults();
  assert.deepEqual(again.verifyToken(token, "management"), admin);
});

test("service principal tokens carry appid and idtyp app", () => {
  const { identity } = setup();
  const sp = identity.createServicePrincipal({ displayName: "ci", role: "Reader", scope: "/subscriptions/00000000-0000-0000-0000-000000000000" });
  const { access_token } = identity.clientCredentials({ tenant: sp.tenant, clientId: sp.appId, clientSecret: sp.password, scope: "https://cognitiveservices.azure.com/.default", grantType: "client_credentials" });
  const c = decodeJwt(access_token)!.payload;
  assert.equal(c.appid, sp.appId);
  assert.equal(c.idtyp, "app");
  assert.equal(c.name, "ci");
  assert.equal(c.aud, AUDIENCE_CLAIM.cognitiveservices);
  assert.equal(identity.verifyToken(access_token, "cognitiveservices").appId, sp.appId);
});

test("an expired token is ExpiredAuthenticationToken with ARM's UTC times", () => {
  const { identity, advance } = setup();
  const token = identity.adminToken("management", 3600);
  advance(3599_000);
  identity.verifyToken(token, "management");
  advance(2_000);
  const e = rejects(() => identity.verifyToken(token, "management"), "ExpiredAuthenticationToken");
  assert.equal(e.message, "The access token expiry UTC time '1/1/2025 11:00:00 AM' is earlier than current UTC time '1/1/2025 11:00:01 AM'.");
  assert.equal(e.status, 401);
});

test("a token that is not valid yet is rejected", () => {
  const { identity, advance } = setup();
  const token = identity.adminToken();
  advance(-60_000);
  rejects(() => identity.verifyToken(token, "management"), "InvalidAuthenticationToken");
});

test("the wrong audience is InvalidAuthenticationTokenAudience, naming the allowed ones", () => {
  const { identity } = setup();
  const dataPlane = identity.adminToken("cognitiveservices");
  const e = rejects(() => identity.verifyToken(dataPlane, "management"), "InvalidAuthenticationTokenAudience");
  assert.equal(
    e.message,
    "The access token has been obtained for wrong audience or resource 'https://cognitiveservices.azure.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
  );
  rejects(() => identity.verifyToken(identity.adminToken("management"), "cognitiveservices"), "InvalidAuthenticationTokenAudience");
  // Audience variants Azure accepts: with or without the slash, and the classic management host.
  const admin = identity.admin();
  for (const aud of ["https://management.azure.com", "https://management.core.windows.net/", "https://management.core.windows.net"])
    assert.deepEqual(identity.verifyToken(identity.issueToken(admin, aud), "management"), admin);
  for (const aud of ["https://cognitiveservices.azure.com/", "https://ai.azure.com"])
    assert.deepEqual(identity.verifyToken(identity.issueToken(admin, aud), "cognitiveservices"), admin);
});

test("tampered, foreign, unsigned and malformed tokens are InvalidAuthenticationToken", () => {
  const { identity } = setup();
  const token = identity.adminToken();
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  const forged = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86400 })).toString("base64url");
  rejects(() => identity.verifyToken(`${h}.${forged}.${s}`, "management"), "InvalidAuthenticationToken");
  const flipped = Buffer.from(s, "base64url");
  flipped[10] ^= 1;
  rejects(() => identity.verifyToken(`${h}.${p}.${flipped.toString("base64url")}`, "management"), "InvalidAuthenticationToken");
  // Another Ingot (another data dir) has another key.
  const other = setup().identity;
  const e = rejects(() => identity.verifyToken(other.adminToken(), "management"), "InvalidAuthenticationToken");
  assert.match(e.message, /^The access token is invalid\./);
  // alg none
  const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${p}.`;
  rejects(() => identity.verifyToken(none, "management"), "InvalidAuthenticationToken");
  // HS256 with the public key as the secret (algorithm confusion) must not pass.
  const hsInput = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url")}.${p}`;
  const hs = `${hsInput}.${createHmac("sha256", identity.jwks().keys[0].n as string).update(hsInput).digest("base64url")}`;
  rejects(() => identity.verifyToken(hs, "management"), "InvalidAuthenticationToken");
  // A token signed with a different RSA key but this Ingot's kid.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  rejects(() => identity.verifyToken(signJwt(decodeJwt(token)!.header, claims, privateKey), "management"), "InvalidAuthenticationToken");
  for (const junk of ["", "abc", "a.b.c", "0123456789abcdef0123456789abcdef"]) rejects(() => identity.verifyToken(junk, "management"), "InvalidAuthenticationToken");
});

test("a deleted service principal's tokens stop verifying", () => {
  const { identity } = setup();
  const sp = identity.createServicePrincipal({ role: "Contributor", scope: "/" });
  const token = identity.clientCredentials({ tenant: sp.tenant, clientId: sp.appId, clientSecret: sp.password, scope: "https://management.azure.com/.default" }).access_token;
  identity.verifyToken(token, "management");
  assert.equal(identity.deleteServicePrincipal(sp.appId), true);
  rejects(() => identity.verifyToken(token, "management"), "InvalidAuthenticationToken");
});
