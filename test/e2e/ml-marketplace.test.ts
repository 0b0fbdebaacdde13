// Azure ML marketplace subscriptions over HTTPS, replaying what Python's azure-ai-ml sends
// (it cannot be installed here; reference azure-ml.md §8): MLClient.marketplace_subscriptions
// begin_create_or_update (PUT {properties:{modelId}} with a versionless registry id), get, list
// and begin_delete, at the api-version Python uses. Plus the 4xx cases and a Reader's 403.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";

const PROVIDER = "Microsoft.MachineLearningServices";
const PY_API = "2024-07-01-preview";
const LLAMA = "azureml://registries/azureml-meta/models/Llama-3.2-1B-Instruct";

let server: TestServer;
let owner: string;
const wsPath = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${name}`;
const subPath = (ws: string, name: string) => `${wsPath(ws)}/marketplaceSubscriptions/${name}`;

const tokenFor = (role: string, displayName: string) => mlPrincipal(server, displayName, role).token;

const arm = (token: string, method: string, path: string, body?: unknown) => armFetch(server, token, method, path, body, PY_API);

before(async () => {
  server = await startServer({ https: true });
  owner = tokenFor("Contributor", "ml-market-owner");
  assert.equal((await arm(owner, "PUT", wsPath("market-ws"), { location: "local" })).status, 201);
});
after(() => server.stop());

test("subscribe to a Meta catalog model: PUT 201/200, GET, list, DELETE 200 then 204", { timeout: 60_000 }, async () => {
  const put = await arm(owner, "PUT", subPath("market-ws", "llama-sub"), { properties: { modelId: LLAMA } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get("azure-asyncoperation"), null, "finished at once: no polling");
  const body = await json(put);
  assert.equal(body.id, subPath("market-ws", "llama-sub"));
  assert.equal(body.name, "llama-sub");
  assert.equal(body.type, `${PROVIDER}/workspaces/marketplaceSubscriptions`);
  assert.ok(body.systemData.createdAt);
  assert.equal(body.properties.modelId, LLAMA);
  assert.equal(body.properties.marketplaceSubscriptionStatus, "Subscribed");
  assert.equal(body.properties.provisioningState, "Succeeded");
  const plan = body.properties.marketplacePlan;
  assert.ok(plan.publisherId && plan.offerId && plan.planId, JSON.stringify(plan));

  const replaced = await arm(owner, "PUT", subPath("market-ws", "llama-sub"), { properties: { modelId: LLAMA } });
  assert.equal(replaced.status, 200);
  assert.deepEqual((await json(replaced)).properties.marketplacePlan, plan, "the plan is stable");

  const got = await arm(owner, "GET", subPath("market-ws", "LLAMA-SUB"));
  assert.equal(got.status, 200);
  assert.equal((await json(got)).properties.modelId, LLAMA);
  const list = await json(await arm(owner, "GET", `${wsPath("market-ws")}/marketplaceSubscriptions`));
  assert.deepEqual(list.value.map((s: { name: string }) => s.name), ["llama-sub"]);

  assert.equal((await arm(owner, "DELETE", subPath("market-ws", "llama-sub"))).status, 200);
  assert.equal((await arm(owner, "DELETE", subPath("market-ws", "llama-sub"))).status, 204);
  const gone = await arm(owner, "GET", subPath("market-ws", "llama-sub"));
  assert.equal(gone.status, 404);
  assert.match((await json(gone)).error.message, /llama-sub/);
});

test("unknown workspace is 404 naming it; unknown model and a first-party model are 400 saying what to change", { timeout: 60_000 }, async () => {
  const noWs = await arm(owner, "PUT", subPath("no-such-ws", "s1"), { properties: { modelId: LLAMA } });
  assert.equal(noWs.status, 404);
  assert.match((await json(noWs)).error.message, /no-such-ws/);

  const unknown = await arm(owner, "PUT", subPath("market-ws", "s1"), { properties: { modelId: "azureml://registries/azureml-meta/models/Llama-99" } });
  assert.equal(unknown.status, 400);
  const ue = (await json(unknown)).error;
  assert.equal(ue.code, "UserError");
  assert.match(ue.message, /Llama-3\.2-1B-Instruct/, "names the models there are");

  const noReg = await arm(owner, "PUT", subPath("market-ws", "s1"), { properties: { modelId: "azureml://registries/azureml-nobody/models/X" } });
  assert.equal(noReg.status, 400);
  assert.match((await json(noReg)).error.message, /'azureml-meta'/, "names the registries there are");

  const phi = await arm(owner, "PUT", subPath("market-ws", "s1"), { properties: { modelId: "azureml://registries/azureml/models/Phi-4-mini-instruct" } });
  assert.equal(phi.status, 400);
  const pe = (await json(phi)).error;
  assert.equal(pe.code, "UserError");
  assert.match(pe.message, /needs no marketplace subscription/);

  assert.equal((await arm(owner, "GET", subPath("market-ws", "s1"))).status, 404, "nothing half-created");
});

test("a Reader reads subscriptions and gets ARM's 403 on every write", { timeout: 60_000 }, async () => {
  const MISTRAL = "azureml://registries/azureml-mistral/models/Ministral-3B";
  assert.equal((await arm(owner, "PUT", subPath("market-ws", "mistral"), { properties: { modelId: MISTRAL } })).status, 201);
  const reader = tokenFor("Reader", "ml-market-reader");
  assert.equal((await arm(reader, "GET", subPath("market-ws", "mistral"))).status, 200);
  assert.equal((await json(await arm(reader, "GET", `${wsPath("market-ws")}/marketplaceSubscriptions`))).value.length, 1);
  for (const [method, name] of [["PUT", "mistral"], ["PUT", "reader-new"], ["DELETE", "mistral"]] as const) {
    const res = await arm(reader, method, subPath("market-ws", name), method === "PUT" ? { properties: { modelId: MISTRAL } } : undefined);
    assert.equal(res.status, 403, `${method} ${name}`);
    assert.equal((await json(res)).error.code, "AuthorizationFailed");
  }
  assert.equal((await arm(owner, "GET", subPath("market-ws", "reader-new"))).status, 404);
  assert.equal((await arm(owner, "GET", subPath("market-ws", "mistral"))).status, 200, "still there");
});
