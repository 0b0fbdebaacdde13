// Identity end to end over HTTPS: @azure/identity's ClientSecretCredential gets tokens from
// Ingot's token endpoint; the token endpoint's errors read as Entra ID's; `ingot token` and
// `ingot sp create` through the real binary; data-plane calls with tokens, per role.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { ClientSecretCredential, getBearerTokenProvider } from "@azure/identity";
import { AzureOpenAI } from "openai";
import { DEFAULT_TENANT_ID } from "../../src/core/identity/service.ts";
import { API_VERSION, json, startServer, TEST_TLS, trustTestCertificate } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
const FIXTURE_CERT = TEST_TLS.cert;
trustTestCertificate();

const SUB = "00000000-0000-0000-0000-000000000000";
const ACCOUNT_SCOPE = `/subscriptions/${SUB}/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot`;
const MANAGEMENT = "https://management.azure.com/.default";
const COGNITIVE = "https://cognitiveservices.azure.com/.default";

let server: TestServer;
before(async () => {
  server = await startServer({ https: true });
});
after(async () => {
  await server?.stop();
});

/** The CLI run asynchronously: it talks to this process's server, so a blocking spawn would deadlock. */
function ingotAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, "--data-dir", server.dataDir]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

interface SpCredentials {
  appId: string;
  displayName: string;
  password: string;
  tenant: string;
}

async function createSp(name: string, role: string, scope: string, ...extra: string[]): Promise<SpCredentials> {
  const r = await ingotAsync("sp", "create", "--name", name, "--role", role, "--scopes", scope, "--output", "json", ...extra);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as SpCredentials;
}

/** Verifies a token's RS256 signature with the key Ingot publishes in its JWKS, like any relying party would. */
async function verifyWithJwks(token: string, tenant: string): Promise<Record<string, unknown>> {
  const config = await json(await fetch(`${server.url}/${tenant}/v2.0/.well-known/openid-configuration`));
  const jwks = await json(await fetch(config.jwks_uri));
  const [h, p, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  const jwk = jwks.keys.find((k: { kid: string }) => k.kid === header.kid);
  assert.ok(jwk, "the token's kid is in the JWKS");
  assert.ok(verify("sha256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url")), "signature verifies");
  return JSON.parse(Buffer.from(p, "base64url").toString());
}

const credential = (sp: SpCredentials) => new ClientSecretCredential(sp.tenant, sp.appId, sp.password, { authorityHost: server.url, disableInstanceDiscovery: true });

const tokenClient = (credentialOrToken: ClientSecretCredential | string) =>
  new AzureOpenAI({
    endpoint: server.url,
    apiVersion: API_VERSION,
    maxRetries: 0,
    azureADTokenProvider: typeof credentialOrToken === "string" ? async () => credentialOrToken : getBearerTokenProvider(credentialOrToken, COGNITIVE),
  });

const chat = (client: AzureOpenAI) => client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });

test("the server speaks https and publishes OpenID discovery with its own absolute URLs", async () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${server.url}/${DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const config = await json(res);
  assert.equal(config.issuer, `${server.url}/${DEFAULT_TENANT_ID}/v2.0`);
  assert.equal(config.token_endpoint, `${server.url}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`);
  assert.equal(config.jwks_uri, `${server.url}/${DEFAULT_TENANT_ID}/discovery/v2.0/keys`);
  assert.equal(config.authorization_endpoint, `${server.url}/${DEFAULT_TENANT_ID}/oauth2/v2.0/authorize`);
  const viaLocalhost = await json(await fetch(`${server.url.replace("127.0.0.1", "localhost")}/common/v2.0/.well-known/openid-configuration`));
  assert.match(viaLocalhost.token_endpoint, /^https:\/\/localhost:\d+\/\{tenantid\}\/oauth2\/v2.0\/token$/);
  const keys = await json(await fetch(config.jwks_uri));
  assert.equal(keys.keys[0].kty, "RSA");
  assert.equal(keys.keys[0].alg, "RS256");
  const instance = await json(await fetch(`${server.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(config.authorization_endpoint)}`));
  assert.equal(instance.tenant_discovery_endpoint, `${server.url}/${DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration`);
  const unknown = await fetch(`${server.url}/12345678-aaaa-bbbb-cccc-123456789012/v2.0/.well-known/openid-configuration`);
  assert.equal(unknown.status, 400);
  assert.match((await json(unknown)).error_description, /^AADSTS90002: Tenant/);
});

test("ingot sp create prints az's {appId, displayName, password, tenant}", async () => {
  const sp = await createSp("e2e-shape", "Reader", `/subscriptions/${SUB}`);
  assert.deepEqual(Object.keys(sp).sort(), ["appId", "displayName", "password", "tenant"]);
  assert.match(sp.appId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(sp.displayName, "e2e-shape");
  assert.ok(sp.password.length >= 32);
  assert.equal(sp.tenant, DEFAULT_TENANT_ID);
  const help = await ingotAsync("sp", "--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--scopes/);
  const bad = await ingotAsync("sp", "create", "--role", "Janitor", "--scopes", "/");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /RoleDefinitionDoesNotExist: The role 'Janitor' does not exist/);
});

test("ClientSecretCredential gets a management token from Ingot over https, and it verifies", async () => {
  const sp = await createSp("e2e-contributor", "Contributor", `/subscriptions/${SUB}`);
  const token = await credential(sp).getToken(MANAGEMENT);
  assert.ok(token.token);
  assert.ok(token.expiresOnTimestamp > Date.now() + 3000_000);
  const claims = await verifyWithJwks(token.token, sp.tenant);
  assert.equal(claims.aud, "https://management.azure.com/");
  assert.equal(claims.appid, sp.appId);
  assert.equal(claims.tid, sp.tenant);
  assert.equal(claims.iss, `https://sts.windows.net/${sp.tenant}/`);
  assert.equal(claims.idtyp, "app");
  // ... and the default host (AZURE_AUTHORITY_HOST-style, with a trailing slash) works the same.
  const again = await new ClientSecretCredential(sp.tenant, sp.appId, sp.password, { authorityHost: `${server.url}/`, disableInstanceDiscovery: true }).getToken(COGNITIVE);
  assert.equal((await verifyWithJwks(again.token, sp.tenant)).aud, "https://cognitiveservices.azure.com");
});

test("the token endpoint answers wrong credentials with Entra ID's error bodies", async () => {
  const sp = await createSp("e2e-errors", "Reader", `/subscriptions/${SUB}`);
  const post = (tenant: string, form: Record<string, string>) =>
    fetch(`${server.url}/${tenant}/oauth2/v2.0/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
  const good = { grant_type: "client_credentials", client_id: sp.appId, client_secret: sp.password, scope: MANAGEMENT };

  const ok = await post(sp.tenant, good);
  assert.equal(ok.status, 200);
  const body = await json(ok);
  assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_in", "ext_expires_in", "token_type"]);
  assert.equal(body.token_type, "Bearer");

  const wrongSecret = await post(sp.tenant, { ...good, client_secret: "not-the-secret" });
  assert.equal(wrongSecret.status, 401);
  const e = await json(wrongSecret);
  assert.equal(e.error, "invalid_client");
  assert.match(e.error_description, /^AADSTS7000215: Invalid client secret provided\. .* Trace ID: \S+ Correlation ID: \S+ Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.deepEqual(e.error_codes, [7000215]);
  for (const k of ["timestamp", "trace_id", "correlation_id", "error_uri"]) assert.ok(e[k], k);

  const unknownApp = await json(await post(sp.tenant, { ...good, client_id: "00000000-1111-2222-3333-444444444444" }));
  assert.equal(unknownApp.error, "unauthorized_client");
  assert.match(unknownApp.error_description, /^AADSTS700016: Application with identifier '00000000-1111-2222-3333-444444444444' was not found in the directory/);

  const badScope = await post(sp.tenant, { ...good, scope: "https://management.azure.com/user_impersonation" });
  assert.equal(badScope.status, 400);
  assert.equal((await json(badScope)).error, "invalid_scope");

  const noGrant = await post(sp.tenant, { client_id: sp.appId, client_secret: sp.password, scope: MANAGEMENT });
  assert.equal(noGrant.status, 400);
  assert.match((await json(noGrant)).error_description, /'grant_type'/);

  // client_secret_basic works as well.
  const basic = await fetch(`${server.url}/${sp.tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${sp.appId}:${sp.password}`).toString("base64")}` },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: MANAGEMENT }),
  });
  assert.equal(basic.status, 200);

  // The SDK surfaces the AADSTS error.
  await assert.rejects(
    new ClientSecretCredential(sp.tenant, sp.appId, "wrong", { authorityHost: server.url, disableInstanceDiscovery: true }).getToken(MANAGEMENT),
    /AADSTS7000215/,
  );
});

test("ingot token (the real binary) gets a verifiable admin token from the https server's token endpoint", async () => {
  const r = await ingotAsync("token");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
  const claims = await verifyWithJwks(r.stdout.trim(), DEFAULT_TENANT_ID);
  assert.equal(claims.aud, "https://management.azure.com/");
  // Issued by the token endpoint to the local admin service principal named in the credential file.
  const credential = JSON.parse(readFileSync(join(server.dataDir, "local-admin.json"), "utf8"));
  assert.match(credential.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(credential.ca, FIXTURE_CERT, "the CLI trusts the server's own certificate");
  assert.equal(claims.idtyp, "app");
  assert.equal(claims.appid, credential.clientId);
  assert.equal(claims.tid, DEFAULT_TENANT_ID);
  assert.equal((claims.exp as number) - (claims.iat as number), 3599);

  const json = await ingotAsync("token", "--output", "json", "--resource", "https://cognitiveservices.azure.com");
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.tokenType, "Bearer");
  assert.equal(parsed.tenant, DEFAULT_TENANT_ID);
  // The admin (Owner at "/") may call the data plane with a token.
  const reply = await chat(tokenClient(parsed.accessToken));
  assert.equal(reply.object, "chat.completion");

  const bad = await ingotAsync("token", "--resource", "https://graph.microsoft.com");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not served by Ingot/);
});

test("data plane with tokens: OpenAI User may chat, Reader may not, a management token is refused", async () => {
  const user = await createSp("e2e-openai-user", "Cognitive Services OpenAI User", ACCOUNT_SCOPE);
  const reply = await chat(tokenClient(credential(user)));
  assert.equal(reply.object, "chat.completion");
  assert.equal(reply.choices.length, 1);

  const reader = await createSp("e2e-reader", "Reader", ACCOUNT_SCOPE);
  const readerCredential = credential(reader);
  await assert.rejects(chat(tokenClient(readerCredential)), (e: { status?: number; code?: string; message: string }) => {
    assert.equal(e.status, 401);
    assert.equal(e.code, "PermissionDenied");
    assert.match(e.message, /lacks the required data action `Microsoft\.CognitiveServices\/accounts\/OpenAI\/deployments\/chat\/completions\/action`/);
    return true;
  });

  const management = (await credential(user).getToken(MANAGEMENT)).token;
  const res = await server.post("/openai/deployments/tiny-chat/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "Hi" }], max_tokens: 2 }, { "api-key": "", authorization: `Bearer ${management}` });
  assert.equal(res.status, 401);
  assert.match((await json(res)).error.message, /audience is incorrect/);

  // A user scoped to another account gets nothing here.
  const elsewhere = await createSp("e2e-elsewhere", "Cognitive Services OpenAI User", `/subscriptions/${SUB}/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/other`);
  await assert.rejects(chat(tokenClient(credential(elsewhere))), { status: 401 });

  // Keys still work as Bearer values (a key is not a JWT).
  const keyed = await server.post("/openai/deployments/tiny-chat/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "Hi" }], max_tokens: 2 }, { "api-key": "", authorization: "Bearer 0123456789abcdef0123456789abcdef" });
  assert.equal(keyed.status, 200);
});

test("a principal of a new tenant gets tokens from its own tenant only", async () => {
  const newSub = "bbbbbbbb-1111-2222-3333-444444444444";
  const b = await createSp("e2e-tenant-b", "Owner", `/subscriptions/${newSub}`, "--tenant", "new", "--subscription", newSub);
  assert.notEqual(b.tenant, DEFAULT_TENANT_ID);
  const token = await credential(b).getToken(MANAGEMENT);
  assert.equal((await verifyWithJwks(token.token, b.tenant)).tid, b.tenant);
  // Asking the default tenant for tenant B's app fails as Entra ID does.
  await assert.rejects(
    new ClientSecretCredential(DEFAULT_TENANT_ID, b.appId, b.password, { authorityHost: server.url, disableInstanceDiscovery: true }).getToken(MANAGEMENT),
    /AADSTS700016/,
  );
  // Its data-plane token does not open the default tenant's account.
  await assert.rejects(chat(tokenClient(credential(b))), { status: 401 });
});
