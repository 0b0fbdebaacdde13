// Tenant isolation and roles on the management plane and the data plane: a key or a token of
// account A opens nothing of account B; roles decide what a principal may do.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const SUB_A = "00000000-0000-0000-0000-000000000000";
const SUB_B = "bbbbbbbb-0000-4000-8000-00000000000b";
const PROVIDER = "providers/Microsoft.CognitiveServices/accounts";
const accountA = `/subscriptions/${SUB_A}/resourceGroups/ingot/${PROVIDER}/ingot`;
const accountC = `/subscriptions/${SUB_A}/resourceGroups/ingot/${PROVIDER}/acct-c`;
const accountB = `/subscriptions/${SUB_B}/resourceGroups/rg-b/${PROVIDER}/acct-b`;

let server: TestServer;
let admin: string;
let tenantB: string;
let tokenB: string;
let keysB: { key1: string; key2: string };

const tokenFor = (sp: { tenant: string; objectId: string; appId: string; displayName: string }, audience: "management" | "cognitiveservices" = "management") =>
  server.ingot.identity.issueToken({ tenantId: sp.tenant, objectId: sp.objectId, kind: "servicePrincipal", appId: sp.appId, displayName: sp.displayName }, audience);

const arm = (token: string, method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}?api-version=2024-10-01`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const chatDeployment = { sku: { name: "Standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } };

/** A chat call to deployment chat-b through node:http, which (unlike fetch) sends the Host header we give it. */
function chatB(headers: Record<string, string>): Promise<number> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: "POST", path: "/openai/deployments/chat-b/chat/completions?api-version=2024-10-21", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }));
  });
}
const hostB = () => `acct-b.localhost:${new URL(server.url).port}`;

before(async () => {
  server = await startServer();
  const identity = server.ingot.identity;
  admin = identity.adminToken();
  tenantB = identity.createTenant();
  identity.registerSubscription(SUB_B, tenantB);
  tokenB = tokenFor(identity.createServicePrincipal({ displayName: "owner-b", role: "Owner", scope: `/subscriptions/${SUB_B}`, tenantId: tenantB }));
  assert.equal((await arm(tokenB, "PUT", accountB, { location: "local", kind: "AIServices", sku: { name: "S0" } })).status, 201);
  assert.equal((await arm(tokenB, "PUT", `${accountB}/deployments/chat-b`, { ...chatDeployment, sku: { name: "Standard", capacity: 100 } })).status, 201);
  keysB = await json(await arm(tokenB, "POST", `${accountB}/listKeys`));
  assert.equal((await arm(admin, "PUT", accountC, { location: "local", kind: "AIServices", sku: { name: "S0" } })).status, 201);
  for (let i = 0; i < 300; i++) {
    const d = await json(await arm(tokenB, "GET", `${accountB}/deployments/chat-b`));
    if (d.properties.provisioningState === "Succeeded") break;
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(() => server.stop());

test("a token of tenant A gets 401 on everything of tenant B's account", async () => {
  const tokenA = tokenFor(server.ingot.identity.createServicePrincipal({ displayName: "contrib-a", role: "Contributor", scope: accountA }));
  for (const [method, path, body] of [
    ["GET", accountB],
    ["GET", `${accountB}/deployments`],
    ["GET", `${accountB}/deployments/chat-b`],
    ["POST", `${accountB}/listKeys`],
    ["PUT", `${accountB}/deployments/intruder`, chatDeployment],
    ["DELETE", `${accountB}/deployments/chat-b`],
  ] as const) {
    const res = await arm(tokenA, method, path, body);
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal((await json(res)).error.code, "InvalidAuthenticationTokenTenant");
  }
  // The admin of tenant A is no exception.
  assert.equal((await arm(admin, "GET", accountB)).status, 401);
});

test("a token scoped to account A gets 403 on another account of the same tenant", async () => {
  const tokenA = tokenFor(server.ingot.identity.createServicePrincipal({ displayName: "contrib-a2", role: "Contributor", scope: accountA }));
  assert.equal((await arm(tokenA, "GET", `${accountA}/deployments`)).status, 200);
  for (const [method, path] of [["GET", accountC], ["POST", `${accountC}/listKeys`], ["PUT", `${accountC}/deployments/x`]] as const) {
    const res = await arm(tokenA, method, path, method === "PUT" ? chatDeployment : undefined);
    assert.equal(res.status, 403, `${method} ${path}`);
    const err = (await json(res)).error;
    assert.equal(err.code, "AuthorizationFailed");
    assert.match(err.message, /does not have authorization to perform action 'Microsoft\.CognitiveServices\/accounts\//);
  }
  const listed = await json(await arm(tokenA, "GET", `/subscriptions/${SUB_A}/resourceGroups/ingot/${PROVIDER}`));
  assert.deepEqual(listed.value.map((a: { name: string }) => a.name), ["ingot"], "lists show only accounts the caller may read");
});

test("roles: Reader reads; OpenAI Contributor deploys but cannot list keys", async () => {
  const reader = tokenFor(server.ingot.identity.createServicePrincipal({ displayName: "reader", role: "Reader", scope: accountA }));
  assert.equal((await arm(reader, "GET", `${accountA}/deployments/tiny-chat`)).status, 200);
  assert.equal((await arm(reader, "PUT", `${accountA}/deployments/by-reader`, chatDeployment)).status, 403);
  assert.equal((await arm(reader, "POST", `${accountA}/listKeys`)).status, 403);
  const contributor = tokenFor(server.ingot.identity.createServicePrincipal({ displayName: "oai-contrib", role: "Cognitive Services OpenAI Contributor", scope: accountA }));
  assert.equal((await arm(contributor, "PUT", `${accountA}/deployments/by-oai-contrib`, chatDeployment)).status, 201);
  assert.equal((await arm(contributor, "POST", `${accountA}/listKeys`)).status, 403);
  assert.equal((await arm(contributor, "PUT", accountC, { location: "local" })).status, 403);
});

test("account keys: each opens its own account only", async () => {
  assert.equal(await chatB({ "api-key": keysB.key1 }), 200);
  assert.equal(await chatB({ "api-key": API_KEY }), 404, "account A has no deployment chat-b");
  // Addressed to account B by host name (acct-b.localhost), account A's key is refused.
  assert.equal(await chatB({ "api-key": API_KEY, host: hostB() }), 401);
  assert.equal(await chatB({ "api-key": keysB.key1, host: hostB() }), 200);
  // A key is not a management token.
  assert.equal((await arm(keysB.key1, "GET", accountB)).status, 401);
});

test("data-plane tokens: OpenAI User of account B may call it; a principal of tenant A may not", async () => {
  const identity = server.ingot.identity;
  const userB = tokenFor(identity.createServicePrincipal({ displayName: "user-b", role: "Cognitive Services OpenAI User", scope: accountB, tenantId: tenantB }), "cognitiveservices");
  const chat = (token: string) => chatB({ authorization: `Bearer ${token}`, host: hostB() });
  assert.equal(await chat(userB), 200);
  const userA = tokenFor(identity.createServicePrincipal({ displayName: "user-a", role: "Cognitive Services OpenAI User", scope: accountA }), "cognitiveservices");
  assert.ok([401, 403].includes(await chat(userA)));
});
