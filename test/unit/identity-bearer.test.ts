// Bearer tokens on requests: ARM's header errors, the account a data-plane token addresses
// (by Host), and Azure OpenAI's 401s for data-plane tokens.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FastifyRequest } from "fastify";
import { IdentityService } from "../../src/core/identity/service.ts";
import type { AccountRecord } from "../../src/core/ports/index.ts";
import { accountForHost, authenticateDataPlaneToken, bearerToken, managementPrincipal } from "../../src/http/identity/bearer.ts";
import { SqliteIdentityStore } from "../../src/store/sqlite/identity-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { caught } from "./caught.ts";

const SUB = "00000000-0000-0000-0000-000000000000";
const accounts: Record<string, Pick<AccountRecord, "name" | "subscription" | "resourceGroup">> = {
  ingot: { name: "ingot", subscription: SUB, resourceGroup: "ingot" },
  myacct: { name: "myacct", subscription: SUB, resourceGroup: "team" },
};
const getAccount = (name: string) => accounts[name];

function req(headers: Record<string, string>, hostname = "127.0.0.1", url = "/openai/deployments/tiny-chat/chat/completions"): FastifyRequest {
  return { headers, hostname, url, method: "POST", routeOptions: { url: "/openai/deployments/:deployment/chat/completions" } } as unknown as FastifyRequest;
}

function setup() {
  const store = new SqliteStore(":memory:");
  const identity = new IdentityService(new SqliteIdentityStore(store.database));
  identity.ensureDefaults();
  return identity;
}

const error = caught;

test("bearerToken reads 'Authorization: Bearer <token>' only", () => {
  assert.equal(bearerToken(req({ authorization: "Bearer abc.def.ghi" })), "abc.def.ghi");
  assert.equal(bearerToken(req({ authorization: "bearer   xyz " })), "xyz");
  assert.equal(bearerToken(req({ authorization: "Basic abc" })), undefined);
  assert.equal(bearerToken(req({})), undefined);
});

test("managementPrincipal: ARM's errors for a missing or malformed header, then the token's principal", () => {
  const identity = setup();
  const missing = error(() => managementPrincipal(identity, req({})));
  assert.equal(missing.code, "AuthenticationFailed");
  assert.match(missing.message, /^Authentication failed\. The 'Authorization' header is missing\./);
  assert.equal(missing.status, 401);
  assert.equal(error(() => managementPrincipal(identity, req({ authorization: "Token abc" }))).code, "AuthenticationFailedInvalidHeader");
  assert.equal(error(() => managementPrincipal(identity, req({ authorization: "Bearer nope" }))).code, "InvalidAuthenticationToken");
  assert.deepEqual(managementPrincipal(identity, req({ authorization: `Bearer ${identity.adminToken()}` })), identity.admin());
});

test("the account a token addresses is the Host's first label when it names one, else the default", () => {
  assert.equal(accountForHost(req({}, "myacct.localhost"), getAccount)?.name, "myacct");
  assert.equal(accountForHost(req({}, "MyAcct.localhost"), (n) => getAccount(n.toLowerCase()))?.name, "myacct");
  assert.equal(accountForHost(req({}, "unknown.localhost"), getAccount)?.name, "ingot");
  assert.equal(accountForHost(req({}, "localhost"), getAccount)?.name, "ingot");
  assert.equal(accountForHost(req({}, "127.0.0.1"), getAccount)?.name, "ingot");
  assert.equal(accountForHost(req({}, "[::1]"), getAccount)?.name, "ingot");
});

test("data-plane tokens: role on the addressed account decides; failures are Azure OpenAI's 401s", () => {
  const identity = setup();
  const mine = identity.createServicePrincipal({ displayName: "mine", role: "Cognitive Services OpenAI User", scope: `/subscriptions/${SUB}/resourceGroups/team` });
  const token = identity.clientCredentials({ tenant: mine.tenant, clientId: mine.appId, clientSecret: mine.password, scope: "https://cognitiveservices.azure.com/.default" }).access_token;
  const call = (hostname: string, t = token, action: "inference" | "authoring" = "inference") =>
    authenticateDataPlaneToken(identity, getAccount, req({ authorization: `Bearer ${t}` }, hostname), t, action);
  assert.equal(call("myacct.localhost"), "myacct");
  const denied = error(() => call("localhost"));
  assert.equal(denied.code, "PermissionDenied");
  assert.equal(denied.status, 401);
  assert.match(denied.message, /lacks the required data action `Microsoft\.CognitiveServices\/accounts\/OpenAI\/deployments\/chat\/completions\/action` to perform `POST \/openai\/deployments\/:deployment\/chat\/completions` operation/);
  assert.equal(error(() => call("myacct.localhost", token, "authoring")).code, "PermissionDenied");
  const wrongAudience = error(() => call("myacct.localhost", identity.adminToken("management")));
  assert.equal(wrongAudience.code, "401");
  assert.match(wrongAudience.message, /^Unauthorized\. Access token is missing, invalid, audience is incorrect \(https:\/\/cognitiveservices\.azure\.com\), or have expired\./);
  assert.equal(call("localhost", identity.adminToken("cognitiveservices"), "authoring"), "ingot");
});
