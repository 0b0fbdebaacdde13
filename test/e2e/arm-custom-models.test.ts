// Custom-model rules (reference §5, seed 001): one deployment per custom model, no deleting a
// deployed model, idle and DeveloperTier expiry on an injected clock, and deploying a custom
// model from another account (same tenant, or another tenant with an auxiliary token).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CatalogModel } from "../../src/core/catalog/catalog.ts";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const SUB = "00000000-0000-0000-0000-000000000000";
const SUB_B = "cccccccc-0000-4000-8000-00000000000c";
const PROVIDER = "providers/Microsoft.CognitiveServices/accounts";
const ingot = `/subscriptions/${SUB}/resourceGroups/ingot/${PROVIDER}/ingot`;
const srcAccount = `/subscriptions/${SUB}/resourceGroups/ingot/${PROVIDER}/src-acct`;
const tenantBAccount = `/subscriptions/${SUB_B}/resourceGroups/rg-b/${PROVIDER}/far-acct`;
const DAY = 24 * 3600 * 1000;

let server: TestServer;
let now = Date.UTC(2026, 10, 1);
const clock = () => now;

const arm = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token = server.ingot.identity.adminToken()) =>
  fetch(`${server.url}${path}?api-version=2024-10-01`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const deploy = (account: string, name: string, model: Record<string, string>, sku = { name: "Standard", capacity: 1 }, headers?: Record<string, string>, token?: string) =>
  arm("PUT", `${account}/deployments/${name}`, { sku, properties: { model: { format: "Ingot", version: "1", ...model } } }, headers, token);

/** A fine-tuned-style custom model of `account`: tiny-chat's weights under a new name. */
function registerCustom(name: string, account: string): void {
  const base = server.ingot.catalog.find({ format: "Ingot", name: "tiny-chat", version: "1" });
  const model: CatalogModel = {
    ...base,
    name,
    isDefaultVersion: true,
    baseModel: { format: "Ingot", name: "tiny-chat", version: "1" },
    skus: [
      { name: "Standard", usageName: `AIServices.Standard.${name}`, minCapacity: 1, maxCapacity: 100, defaultCapacity: 1 },
      { name: "DeveloperTier", usageName: `AIServices.DeveloperTier.${name}`, minCapacity: 1, maxCapacity: 100, defaultCapacity: 50 },
    ],
  };
  server.ingot.catalog.registry!.register(model, account);
}

async function state(account: string, name: string): Promise<string | number> {
  const res = await arm("GET", `${account}/deployments/${name}`);
  if (res.status !== 200) return res.status;
  return (await json(res)).properties.provisioningState;
}

/** The status of the deployment once the sweep timer has deleted it (or its state after 10 s). */
async function swept(account: string, name: string): Promise<string | number> {
  for (let i = 0; i < 100; i++) {
    const s = await state(account, name);
    if (s === 404) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  return state(account, name);
}

async function settled(account: string, name: string): Promise<string | number> {
  for (let i = 0; i < 300; i++) {
    const s = await state(account, name);
    if (s !== "Accepted" && s !== "Creating") return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  return "timeout";
}

before(async () => {
  // Expiry runs on the server's sweep timer only (reads never delete): a fast one for the test.
  server = await startServer({ clock, expirySweepIntervalMs: 50 });
  registerCustom("tiny-chat.ft-one", "ingot");
  registerCustom("tiny-chat.ft-dev", "ingot");
  registerCustom("tiny-chat.ft-idle", "ingot");
});
after(() => server.stop());

test("one deployment per custom model; a deployed custom model cannot be deleted", async () => {
  assert.equal((await deploy(ingot, "ft-a", { name: "tiny-chat.ft-one" })).status, 201);
  assert.equal(await settled(ingot, "ft-a"), "Succeeded");
  const second = await deploy(ingot, "ft-b", { name: "tiny-chat.ft-one" });
  assert.equal(second.status, 409);
  assert.match((await json(second)).error.message, /Only one deployment is permitted for a custom model.*'ft-a'/);
  const ref = { format: "Ingot", name: "tiny-chat.ft-one", version: "1" };
  assert.throws(() => server.ingot.deployments.removeCustomModel("ingot", ref), /cannot be deleted while it is deployed \('ft-a'\)/);
  assert.equal((await arm("DELETE", `${ingot}/deployments/ft-a`)).status, 202);
  server.ingot.deployments.removeCustomModel("ingot", ref);
  assert.equal((await deploy(ingot, "ft-a", { name: "tiny-chat.ft-one" })).status, 400, "a deleted model is gone from the catalog");
});

test("DeveloperTier: fine-tuned models only, deleted after 24 hours", async () => {
  const base = await deploy(ingot, "dev-base", { name: "tiny-chat" }, { name: "DeveloperTier", capacity: 50 });
  assert.equal(base.status, 400);
  assert.match((await json(base)).error.message, /DeveloperTier serves fine-tuned models only/);
  assert.equal((await deploy(ingot, "ft-dev", { name: "tiny-chat.ft-dev" }, { name: "developertier", capacity: 50 })).status, 201);
  assert.equal(await settled(ingot, "ft-dev"), "Succeeded");
  now += 23 * 3600 * 1000;
  assert.equal(await state(ingot, "ft-dev"), "Succeeded");
  now += 3600 * 1000;
  assert.equal(await swept(ingot, "ft-dev"), 404);
});

test("a fine-tuned deployment with no calls for 15 days is deleted; calls keep it", async () => {
  assert.equal((await deploy(ingot, "ft-idle", { name: "tiny-chat.ft-idle" })).status, 201);
  assert.equal(await settled(ingot, "ft-idle"), "Succeeded");
  const keys = await json(await arm("POST", `${ingot}/listKeys`));
  const call = () =>
    fetch(`${server.url}/openai/deployments/ft-idle/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { "api-key": keys.key1, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
    });
  now += 10 * DAY;
  assert.equal((await call()).status, 200);
  now += 10 * DAY;
  assert.equal(await state(ingot, "ft-idle"), "Succeeded", "10 days after its last call");
  now += 5 * DAY;
  assert.equal(await swept(ingot, "ft-idle"), 404, "15 days after its last call");
  assert.equal(await state(ingot, "tiny-chat"), "Succeeded", "base-model deployments never expire");
});

test("deploying another account's custom model needs properties.model.source and rights on both accounts", async () => {
  assert.equal((await arm("PUT", srcAccount, { location: "local", kind: "AIServices", sku: { name: "S0" } })).status, 201);
  registerCustom("tiny-chat.ft-src", "src-acct");
  const without = await deploy(ingot, "from-src", { name: "tiny-chat.ft-src" });
  assert.equal(without.status, 400);
  assert.match((await json(without)).error.message, /belongs to another account.*properties\.model\.source/);

  const identity = server.ingot.identity;
  const sp = identity.createServicePrincipal({ displayName: "dest-only", role: "Cognitive Services OpenAI Contributor", scope: ingot });
  const destOnly = identity.issueToken({ tenantId: sp.tenant, objectId: sp.objectId, kind: "servicePrincipal", appId: sp.appId, displayName: sp.displayName }, "management");
  const denied = await deploy(ingot, "from-src", { name: "tiny-chat.ft-src", source: srcAccount }, undefined, undefined, destOnly);
  assert.equal(denied.status, 403, "the caller has no rights on the source account");

  const ok = await deploy(ingot, "from-src", { name: "tiny-chat.ft-src", source: srcAccount });
  assert.equal(ok.status, 201);
  assert.equal((await json(ok)).properties.model.source, srcAccount);
  assert.equal(await settled(ingot, "from-src"), "Succeeded");
});

test("cross-tenant: sourceAccount in another tenant needs x-ms-authorization-auxiliary", async () => {
  const identity = server.ingot.identity;
  const tenantB = identity.createTenant();
  identity.registerSubscription(SUB_B, tenantB);
  const spB = identity.createServicePrincipal({ displayName: "owner-far", role: "Owner", scope: `/subscriptions/${SUB_B}`, tenantId: tenantB });
  const tokenB = identity.issueToken({ tenantId: spB.tenant, objectId: spB.objectId, kind: "servicePrincipal", appId: spB.appId, displayName: spB.displayName }, "management");
  assert.equal((await arm("PUT", tenantBAccount, { location: "local", kind: "AIServices", sku: { name: "S0" } }, {}, tokenB)).status, 201);
  registerCustom("tiny-chat.ft-far", "far-acct");

  const noAux = await deploy(ingot, "from-far", { name: "tiny-chat.ft-far", sourceAccount: tenantBAccount });
  assert.equal(noAux.status, 401, "the destination tenant's token alone is not valid for the source tenant");
  const withAux = await deploy(ingot, "from-far", { name: "tiny-chat.ft-far", sourceAccount: tenantBAccount }, undefined, { "x-ms-authorization-auxiliary": `Bearer ${tokenB}` });
  assert.equal(withAux.status, 201);
  assert.equal(await settled(ingot, "from-far"), "Succeeded");
});
