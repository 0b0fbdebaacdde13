// Foundry projects (accounts/{a}/projects/{p}) through the official ARM SDK: every AIServices
// account has a default project; projects are created, listed, updated and deleted, and
// their endpoint serves the OpenAI v1 surface. Errors say what to change.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import OpenAI from "openai";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { armSdkClient, POLL, RG, SUB } from "./arm-sdk-client.ts";

let server: TestServer;
let arm: CognitiveServicesManagementClient;

before(async () => {
  server = await startServer({ https: true });
  arm = armSdkClient(server, "projects-test");
});
after(() => server.stop());

const armUrl = (path: string) => `${server.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/${path}?api-version=2025-06-01`;
const armCall = (method: string, path: string, body?: unknown) =>
  fetch(armUrl(path), {
    method,
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

test("the default account has a default project; a new one is created, listed, updated and deleted", async () => {
  const listed = [];
  for await (const p of arm.projects.list(RG, "ingot")) listed.push(p);
  assert.deepEqual(listed.map((p) => [p.name, p.properties?.isDefault]), [["default", true]]);

  const created = await arm.projects.beginCreateAndWait(RG, "ingot", "research", { location: "local", identity: { type: "SystemAssigned" }, properties: { displayName: "Research", description: "experiments" } }, POLL);
  assert.equal(created.name, "research");
  assert.equal(created.type, "Microsoft.CognitiveServices/accounts/projects");
  assert.equal(created.properties?.displayName, "Research");
  assert.equal(created.properties?.endpoints?.["AI Foundry API"], `${server.url}/api/projects/research`);

  const got = await arm.projects.get(RG, "ingot", "research");
  assert.equal(got.properties?.description, "experiments");
  const updated = await arm.projects.beginUpdateAndWait(RG, "ingot", "research", { properties: { displayName: "Research 2" } }, POLL);
  assert.equal(updated.properties?.displayName, "Research 2");
  assert.equal(updated.properties?.description, "experiments");

  // The project endpoint serves the v1 surface with the account's key.
  const client = new OpenAI({ baseURL: `${server.url}/api/projects/research/openai/v1`, apiKey: API_KEY });
  const r = await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
  assert.equal(r.object, "chat.completion");

  await arm.projects.beginDeleteAndWait(RG, "ingot", "research", POLL);
  await assert.rejects(arm.projects.get(RG, "ingot", "research"), (e: any) => e.statusCode === 404 && e.code === "ResourceNotFound");
  assert.equal((await armCall("DELETE", "ingot/projects/research")).status, 204);
});

test("bad project requests say what to change", async () => {
  const badName = await armCall("PUT", "ingot/projects/-x", { location: "local", properties: {} });
  assert.equal(badName.status, 400);
  assert.match((await json(badName)).error.message, /Project name '-x' is invalid/);

  const keepDefault = await armCall("DELETE", "ingot/projects/default");
  assert.equal(keepDefault.status, 400);
  assert.match((await json(keepDefault)).error.message, /default project/);

  assert.equal((await armCall("PUT", "oai-acct", { location: "local", kind: "OpenAI", sku: { name: "S0" } })).status, 201);
  const wrongKind = await armCall("PUT", "oai-acct/projects/p1", { location: "local", properties: {} });
  assert.equal(wrongKind.status, 400);
  assert.match((await json(wrongKind)).error.message, /kind OpenAI.*AIServices/);
  assert.deepEqual((await json(await armCall("GET", "oai-acct/projects"))).value, []);
});
