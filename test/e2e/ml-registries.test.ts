// Azure ML registries over HTTPS, replaying what Python's azure-ai-ml sends (it cannot be
// installed here; reference azure-ml.md §6.2): MLClient(registry_name="azureml") discovers the
// registry, then `models.get(name, label="latest")` lists versions with $orderBy=CreatedAtDesc&$top=1
// on the registry data plane, and `models.get(name, version)` reads one. Plus the ARM routes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
let token: string;

before(async () => {
  server = await startServer({ https: true });
  token = server.ingot.identity.adminToken("management");
});
after(() => server.stop());

const get = (url: string, auth = true) => fetch(url, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
const ML = "providers/Microsoft.MachineLearningServices";

/** What MLClient does for a registry: discovery, then the data-plane base it derives from the answer. */
async function discover(registry: string) {
  const res = await get(`${server.url}/registrymanagement/v1.0/registries/${registry}/discovery?api-version=v1.0`);
  assert.equal(res.status, 200);
  const d = await json(res);
  return { d, base: `${d.primaryRegionResourceProviderUri}mferp/managementfrontend/subscriptions/${d.subscriptionId}/resourceGroups/${d.resourceGroup}/${ML}/registries/${registry}` };
}

test("discovery points back at Ingot with a trailing slash; label latest and one version come from the data plane", { timeout: 60_000 }, async () => {
  const { d, base } = await discover("azureml");
  assert.equal(d.registryName, "azureml");
  assert.equal(d.primaryRegionResourceProviderUri, `${server.url}/`);
  assert.equal(d.primaryRegion, "local");
  assert.ok(d.subscriptionId && d.resourceGroup);

  const dp = "api-version=2021-10-01-dataplanepreview";
  const latest = await get(`${base}/models/Qwen2.5-0.5B-Instruct/versions?${dp}&$orderBy=CreatedAtDesc&$top=1`);
  assert.equal(latest.status, 200);
  const page = await json(latest);
  assert.equal(page.value.length, 1);
  const v = page.value[0];
  // The default version, not the quantisation that sorts after it.
  assert.equal(v.id, "azureml://registries/azureml/models/Qwen2.5-0.5B-Instruct/versions/1");
  assert.equal(v.name, "1");
  assert.equal(v.type, "Microsoft.MachineLearningServices/registries/models/versions");
  assert.equal(v.properties.tags["maas-finetuning-deploy-regions"], "local");
  assert.ok(v.properties.tags["maas-finetuning-deploy-regions"].includes("local"));
  assert.equal(v.properties.isArchived, false);
  assert.ok(v.systemData.createdAt);
  // The notebook's marketplace modelId: the id without its last two segments.
  assert.equal(v.id.split("/").slice(0, -2).join("/"), "azureml://registries/azureml/models/Qwen2.5-0.5B-Instruct");

  const all = await json(await get(`${base}/models/Qwen2.5-0.5B-Instruct/versions?${dp}`));
  assert.deepEqual(all.value.map((x: { name: string }) => x.name), ["1", "1-q4_k_m"]);

  const one = await get(`${base}/models/Qwen2.5-0.5B-Instruct/versions/1-q4_k_m?${dp}`);
  assert.equal(one.status, 200);
  const q = await json(one);
  assert.equal(q.id, "azureml://registries/azureml/models/Qwen2.5-0.5B-Instruct/versions/1-q4_k_m");
  assert.equal(q.properties.tags["maas-finetuning-deploy-regions"], undefined, "not fine-tunable");

  const tiny = await json(await get(`${base}/models/tiny-chat/versions/1?${dp}`));
  assert.equal(tiny.properties.tags["maas-finetuning-deploy-regions"], "local");
});

test("publisher registries hold their publishers' models only", { timeout: 60_000 }, async () => {
  const { d, base } = await discover("azureml-meta");
  assert.equal(d.registryName, "azureml-meta");
  const models = await json(await get(`${base}/models?api-version=2021-10-01-dataplanepreview`));
  const names = models.value.map((m: { name: string }) => m.name);
  assert.ok(names.includes("Llama-3.2-1B-Instruct"), names.join());
  assert.ok(!names.includes("tiny-chat"));
  const wrong = await get(`${base}/models/tiny-chat/versions/1?api-version=2021-10-01-dataplanepreview`);
  assert.equal(wrong.status, 404);
  assert.match((await json(wrong)).error.message, /Model 'tiny-chat' was not found in registry 'azureml-meta'. Its models are: .*'Llama-3.2-1B-Instruct'/);
});

test("the ARM registry routes: registry, list, model and versions with ARM ids", { timeout: 60_000 }, async () => {
  const arm = `${server.url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/${ML}/registries`;
  const reg = await json(await get(`${arm}/azureml?api-version=2024-10-01`));
  assert.equal(reg.id, `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/${ML}/registries/azureml`);
  assert.equal(reg.type, "Microsoft.MachineLearningServices/registries");
  assert.equal(reg.location, "local");
  assert.equal(reg.properties.discoveryUrl, `${server.url}/registrymanagement/v1.0/registries/azureml/discovery`);
  const list = await json(await get(`${arm}?api-version=2022-10-01-preview`));
  assert.equal(list.value[0].name, "azureml");
  assert.ok(list.value.some((r: { name: string }) => r.name === "azureml-mistral"));
  const container = await json(await get(`${arm}/azureml/models/tiny-chat?api-version=2024-10-01`));
  assert.equal(container.properties.latestVersion, "1");
  const version = await json(await get(`${arm}/azureml/models/tiny-chat/versions/1?api-version=2024-10-01`));
  assert.equal(version.id, `${reg.id}/models/tiny-chat/versions/1`);
});

test("unknown registry, model and version are ARM-shaped 404s naming what exists; no token is a 401", { timeout: 60_000 }, async () => {
  const noReg = await get(`${server.url}/registrymanagement/v1.0/registries/azureml-nobody/discovery`);
  assert.equal(noReg.status, 404);
  const e = await json(noReg);
  assert.equal(e.error.code, "NotFound");
  assert.match(e.error.message, /Registry 'azureml-nobody' was not found. Ingot serves the registries 'azureml', /);

  const { base } = await discover("azureml");
  const dp = "api-version=2021-10-01-dataplanepreview";
  const noModel = await get(`${base}/models/no-such-model/versions?${dp}&$orderBy=CreatedAtDesc&$top=1`);
  assert.equal(noModel.status, 404);
  assert.match((await json(noModel)).error.message, /Model 'no-such-model' was not found in registry 'azureml'. Its models are: .*'tiny-chat'/);
  const noVersion = await get(`${base}/models/tiny-chat/versions/7?${dp}`);
  assert.equal(noVersion.status, 404);
  assert.match((await json(noVersion)).error.message, /Version '7' of model 'tiny-chat' was not found in registry 'azureml'. Its versions are: '1'/);
  const badOrder = await get(`${base}/models/tiny-chat/versions?${dp}&$orderBy=Name`);
  assert.equal(badOrder.status, 400);

  // A path the registry plane does not serve still answers in ARM's shape as Azure ML's front end sends it ({error:{code,message,details,additionalInfo}}, no OpenAI envelope).
  for (const url of [`${base}/models/tiny-chat/nothing-here?${dp}`, `${server.url}/registrymanagement/v1.0/nothing`]) {
    const unknown = await get(url);
    assert.equal(unknown.status, 404, url);
    const body = await json(unknown);
    assert.deepEqual(Object.keys(body.error).sort(), ["additionalInfo", "code", "details", "message"], JSON.stringify(body));
  }

  for (const url of [`${server.url}/registrymanagement/v1.0/registries/azureml/discovery`, `${base}/models/tiny-chat/versions/1?${dp}`]) {
    const res = await get(url, false);
    assert.equal(res.status, 401, url);
    assert.equal((await json(res)).error.code, "AuthenticationFailed");
  }
});
