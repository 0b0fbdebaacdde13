// The management plane through the official SDK: @azure/arm-cognitiveservices with an
// @azure/identity ClientSecretCredential whose authority is this Ingot, over HTTPS.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { AzureOpenAI } from "openai";
import { API_VERSION, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { armSdkClient, POLL, RG, SUB } from "./arm-sdk-client.ts";

let server: TestServer;
let arm: CognitiveServicesManagementClient;

before(async () => {
  server = await startServer({ https: true });
  arm = armSdkClient(server, "sdk-test");
});
after(() => server.stop());

test("account create, get, list by group and subscription", async () => {
  const created = await arm.accounts.beginCreateAndWait(RG, "sdk-acct", { location: "local", kind: "AIServices", sku: { name: "S0" }, tags: { team: "a" } }, POLL);
  assert.equal(created.name, "sdk-acct");
  assert.equal(created.properties?.provisioningState, "Succeeded");
  assert.equal(created.properties?.endpoint, `${server.url}/`);
  const got = await arm.accounts.get(RG, "sdk-acct");
  assert.deepEqual(got.tags, { team: "a" });
  const inGroup = [];
  for await (const a of arm.accounts.listByResourceGroup(RG)) inGroup.push(a.name);
  assert.ok(inGroup.includes("sdk-acct") && inGroup.includes("ingot"));
  const inSub = [];
  for await (const a of arm.accounts.list()) inSub.push(a.name);
  assert.ok(inSub.includes("sdk-acct"));
  const updated = await arm.accounts.beginUpdateAndWait(RG, "sdk-acct", { tags: { team: "b" } }, POLL);
  assert.deepEqual(updated.tags, { team: "b" });
});

test("deployment lifecycle: create with polling, chat through it, update, list, delete", async () => {
  const d = await arm.deployments.beginCreateOrUpdateAndWait(
    RG,
    "sdk-acct",
    "chat-a",
    { sku: { name: "Standard", capacity: 10 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } },
    POLL,
  );
  assert.equal(d.properties?.provisioningState, "Succeeded");
  assert.deepEqual(d.properties?.rateLimits?.map((r) => [r.key, r.renewalPeriod, r.count]), [["request", 10, 10], ["token", 60, 10000]]);
  assert.equal(d.properties?.capabilities?.chatCompletion, "true");

  const keys = await arm.accounts.listKeys(RG, "sdk-acct");
  assert.match(keys.key1 ?? "", /^[0-9a-f]{32}$/);
  const client = new AzureOpenAI({ endpoint: server.url, apiKey: keys.key1, apiVersion: API_VERSION, deployment: "chat-a", maxRetries: 0 });
  const reply = await client.chat.completions.create({ model: "chat-a", messages: [{ role: "user", content: "hi" }], max_tokens: 4 });
  assert.equal(reply.choices.length, 1);

  const scaled = await arm.deployments.beginUpdateAndWait(RG, "sdk-acct", "chat-a", { sku: { name: "Standard", capacity: 20 } }, POLL);
  assert.equal(scaled.sku?.capacity, 20);
  assert.equal(scaled.properties?.rateLimits?.find((r) => r.key === "token")?.count, 20000);

  const names = [];
  for await (const x of arm.deployments.list(RG, "sdk-acct")) names.push(x.name);
  assert.deepEqual(names, ["chat-a"]);

  await arm.deployments.beginDeleteAndWait(RG, "sdk-acct", "chat-a", POLL);
  await assert.rejects(arm.deployments.get(RG, "sdk-acct", "chat-a"), (e: { statusCode?: number; code?: string }) => e.statusCode === 404 && e.code === "NotFound");
});

test("listKeys and regenerateKey: the old key stops working, the new one works", async () => {
  const before = await arm.accounts.listKeys(RG, "sdk-acct");
  const after = await arm.accounts.regenerateKey(RG, "sdk-acct", "Key1");
  assert.notEqual(after.key1, before.key1);
  assert.equal(after.key2, before.key2);
  const call = (key: string) => fetch(`${server.url}/openai/v1/models`, { headers: { "api-key": key } });
  assert.equal((await call(before.key1!)).status, 401);
  assert.equal((await call(after.key1!)).status, 200);
});

test("models and usages", async () => {
  const models = [];
  for await (const m of arm.accounts.listModels(RG, "sdk-acct")) models.push(m);
  const tiny = models.find((m) => m.name === "tiny-chat");
  assert.ok(tiny, "tiny-chat is in the account's models");
  assert.equal(tiny.format, "Ingot");
  assert.ok(tiny.skus?.some((s) => s.name === "GlobalStandard" && s.usageName && s.capacity?.maximum));
  assert.ok(models.some((m) => m.format === "OpenAI" && m.name === "gpt-4.1-mini"));

  await arm.deployments.beginCreateOrUpdateAndWait(RG, "sdk-acct", "chat-b", { sku: { name: "GlobalStandard", capacity: 7 }, properties: { model: { format: "Ingot", name: "tiny-chat" } } }, POLL);
  const usageName = tiny.skus!.find((s) => s.name === "GlobalStandard")!.usageName!;
  const usages = [];
  for await (const u of arm.usages.list("local")) usages.push(u);
  const accountUsages = await arm.accounts.listUsages(RG, "sdk-acct", { filter: `name.value eq '${usageName}'` });
  assert.equal(accountUsages.value?.length, 1);
  assert.equal(accountUsages.value?.[0].currentValue, 7);
  assert.ok((accountUsages.value?.[0].limit ?? 0) >= 7);
  assert.ok(usages.some((u) => u.name?.value === usageName));
});

test("account delete removes its deployments", async () => {
  await arm.accounts.beginDeleteAndWait(RG, "sdk-acct", POLL);
  await assert.rejects(arm.accounts.get(RG, "sdk-acct"), (e: { statusCode?: number; code?: string }) => e.statusCode === 404 && e.code === "ResourceNotFound");
  assert.deepEqual(server.ingot.deployments.list("sdk-acct"), []);
});
