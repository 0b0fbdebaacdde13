// Rules of Azure ML serverless endpoints (core/ml/serverless.ts) over the real SQLite stores and
// a recording fake of the deployment rules: names, one endpoint per model per workspace, the
// marketplace subscription a third-party model needs, the fine-tuned model's deploy regions,
// keys that only open their own endpoint, provisioningState from the deployment's load, and
// nothing half-created after a refusal.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModelInput } from "../../src/core/catalog/model.ts";
import type { DeploymentInput } from "../../src/core/deployments/service.ts";
import { errors } from "../../src/core/errors.ts";
import { MarketplaceService } from "../../src/core/ml/marketplace.ts";
import { Registries } from "../../src/core/ml/registries.ts";
import { SERVERLESS_LIMITS, ServerlessService } from "../../src/core/ml/serverless.ts";
import type { ResolvedWorkspaceModel } from "../../src/core/ml/serverless.ts";
import { mlDeploymentAccount } from "../../src/core/ml/workspaces.ts";
import type { DeploymentRecord } from "../../src/core/ports/index.ts";
import { SqliteMarketplaceSubscriptionStore } from "../../src/store/sqlite/marketplace-store.ts";
import { SqliteServerlessEndpointStore } from "../../src/store/sqlite/serverless-store.ts";
import { InMemoryRateLimiter } from "../../src/core/quotas/rate-limiter.ts";
import { policyFor } from "../../src/core/quotas/policy.ts";
import { mlBed } from "./ml-bed.ts";
import { caught } from "./caught.ts";

const SKUS = [
  { name: "GlobalStandard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 },
  { name: "DeveloperTier", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 },
];
const model = (format: string, name: string, version: string, extra: Partial<CatalogModelInput> = {}): CatalogModelInput =>
  ({ format, name, version, capabilities: ["chatCompletion"], contextLength: 256, weights: `file:/m/${name}-${version}.gguf`, skus: SKUS, lifecycleStatus: "GenerallyAvailable", license: "MIT", ...extra }) as CatalogModelInput;

const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const FT = { format: "Ingot", name: "tiny-chat-ft-abc", version: "1" };
const catalog = new Catalog([
  model("Ingot", "tiny-chat", "1", { weights: "builtin:tiny-chat", capabilities: ["chatCompletion", "fineTune"] }),
  model("Ingot", "tiny-embed", "1", { weights: "builtin:tiny-embed", capabilities: ["embeddings"] }),
  model("Meta", "Llama-Tiny", "1", { publisher: "Meta" }),
  model("Meta", "Llama-Tiny", "2", { publisher: "Meta" }),
  model("Ingot", FT.name, "1", { weights: "lora:file:/m/ft.gguf", baseModel: TINY }),
]);

const bed = mlBed("ingot-ml-serverless-");

/** The deployment rules, recorded: what the endpoint asked for, and a state the test sets. */
class FakeDeployments {
  records = new Map<string, DeploymentRecord>();
  calls: { account: string; name: string; input: DeploymentInput }[] = [];
  refuse?: Error;
  #key = (a: string, n: string) => `${a}/${n.toLowerCase()}`;
  get(account: string, name: string) {
    return this.records.get(this.#key(account, name));
  }
  createOrUpdate(account: string, name: string, input: DeploymentInput) {
    if (this.refuse) throw this.refuse;
    this.calls.push({ account, name, input });
    const m = input.model as DeploymentRecord["model"];
    const existing = this.get(account, name);
    this.records.set(this.#key(account, name), {
      account, name, model: m, sku: { name: String(input.sku?.name), capacity: 1 }, state: existing?.state ?? "Accepted", error: null, createdAt: 1, updatedAt: 1,
      options: { managedBy: input.managedBy, limits: input.limits, source: input.source?.id },
    });
  }
  delete(account: string, name: string) {
    this.records.delete(this.#key(account, name));
  }
  deploymentsOf(ref: DeploymentRecord["model"]) {
    return [...this.records.values()].filter((d) => d.model.format === ref.format && d.model.name === ref.name && d.model.version === ref.version);
  }
  setState(account: string, name: string, state: DeploymentRecord["state"], error: string | null = null) {
    const d = this.get(account, name)!;
    this.records.set(this.#key(account, name), { ...d, state, error });
  }
}

function setup(location = "local") {
  const { store, clock, accounts, workspaces } = bed.fresh({ location });
  const registries = new Registries(catalog, "local");
  const market = new MarketplaceService(new SqliteMarketplaceSubscriptionStore(store.database), registries, { clock });
  const deployments = new FakeDeployments();
  const ws = workspaces.createOrUpdate("sub", "rg", "ws1", {}).workspace;
  const ws2 = workspaces.createOrUpdate("sub", "rg", "ws2", {}).workspace;
  const far = workspaces.createOrUpdate("sub", "rg", "far", { location: "westus" }).workspace;
  const ftModelId = `azureml://locations/local/workspaces/${ws.workspaceId}/models/ft/versions/1`;
  const resolveWorkspaceModel = (id: string): ResolvedWorkspaceModel | undefined => (id === ftModelId ? { workspace: ws, name: "ft", version: "1", catalogRef: FT } : undefined);
  const serverless = new ServerlessService({
    store: new SqliteServerlessEndpointStore(store.database),
    registries,
    marketplace: market,
    deployments,
    catalog,
    resolveWorkspaceModel,
    accountArmId: (a) => (accounts.get(a) ? `/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/${a}` : undefined),
    clock,
  });
  return { serverless, deployments, market, ws, ws2, far, ftModelId };
}

const body = (modelId: string, extra: Record<string, unknown> = {}) => ({ location: "local", sku: { name: "Consumption" }, tags: {}, properties: { modelSettings: { modelId }, ...extra } });
const TINY_ID = "azureml://registries/azureml/models/tiny-chat";

test("an endpoint on a catalog model: one deployment record owned by it with the serverless limits, two keys, Creating until the load succeeds", () => {
  const { serverless, deployments, ws } = setup();
  const { endpoint, created } = serverless.createOrUpdate(ws, "chat-ep", body(TINY_ID));
  assert.ok(created);
  assert.deepEqual(endpoint.model, TINY);
  assert.match(endpoint.suffix, /^[a-z]{5}$/);
  assert.equal(endpoint.authMode, "Key");
  assert.equal(endpoint.contentSafetyStatus, "Enabled");
  assert.equal(endpoint.marketplaceSubscriptionId, null, "first-party: no subscription");
  assert.notEqual(endpoint.keys.primary, endpoint.keys.secondary);
  const [call] = deployments.calls;
  assert.equal(call.account, mlDeploymentAccount(ws));
  assert.equal(call.name, "chat-ep");
  assert.deepEqual(call.input.limits, SERVERLESS_LIMITS);
  assert.equal(call.input.managedBy, "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/serverlessEndpoints/chat-ep");
  assert.equal(call.input.sku?.name, "GlobalStandard");
  assert.equal(call.input.source, undefined);

  assert.equal(serverless.status(ws, endpoint).provisioningState, "Creating");
  deployments.setState(mlDeploymentAccount(ws), "chat-ep", "Succeeded");
  assert.deepEqual(serverless.status(ws, endpoint), { provisioningState: "Succeeded", endpointState: "Online", progress: undefined });
  deployments.setState(mlDeploymentAccount(ws), "chat-ep", "Failed", "Loading tiny-chat failed: out of memory");
  const failed = serverless.status(ws, endpoint);
  assert.equal(failed.provisioningState, "Failed");
  assert.match(failed.error!, /out of memory/);

  // A second PUT updates (tags, content safety) and keeps the keys and URL.
  const again = serverless.createOrUpdate(ws, "CHAT-EP", body(TINY_ID, { contentSafety: { contentSafetyStatus: "disabled" } }));
  assert.equal(again.created, false);
  assert.equal(again.endpoint.name, "chat-ep");
  assert.equal(again.endpoint.suffix, endpoint.suffix);
  assert.deepEqual(again.endpoint.keys, endpoint.keys);
  assert.equal(again.endpoint.contentSafetyStatus, "Disabled");
});

test("names: a letter then up to 51 letters, digits or hyphens; a name taken in any workspace is 400 UserError 'not available'", () => {
  const { serverless, ws, ws2 } = setup();
  for (const bad of ["1abc", "-abc", "a_b", "a".repeat(53), "a.b", ""]) {
    const e = caught(() => serverless.createOrUpdate(ws, bad, body(TINY_ID)));
    assert.equal(e.code, "UserError", bad);
    assert.equal(e.status, 400);
    assert.match(e.message, /start with a letter/);
  }
  serverless.createOrUpdate(ws, "a".repeat(52), body(TINY_ID));
  const taken = caught(() => serverless.createOrUpdate(ws2, "A".repeat(52), body(TINY_ID)));
  assert.equal(taken.code, "UserError");
  assert.match(taken.message, /Serverless endpoint name 'A{52}' is not available/);
  assert.equal(serverless.list(ws2).length, 0);
});

test("one endpoint per model per workspace; an endpoint's model cannot change; other workspaces may deploy the same model", () => {
  const { serverless, ws, ws2 } = setup();
  serverless.createOrUpdate(ws, "first", body(TINY_ID));
  const dup = caught(() => serverless.createOrUpdate(ws, "second", body("azureml://registries/azureml/models/tiny-chat/labels/latest")));
  assert.equal(dup.code, "UserError");
  assert.match(dup.message, /already deployed in workspace 'ws1' as serverless endpoint 'first'/);
  const change = caught(() => serverless.createOrUpdate(ws, "first", body("azureml://registries/azureml/models/tiny-embed")));
  assert.match(change.message, /cannot change to tiny-embed/);
  assert.ok(serverless.createOrUpdate(ws2, "other-ws", body(TINY_ID)).created);
  assert.deepEqual(serverless.list(ws).map((e) => e.name), ["first"]);
});

test("model ids: versionless, labels/latest and versioned registry ids resolve; unknown models, other labels and junk are 400 saying what to send", () => {
  const { serverless, market, ws } = setup();
  market.createOrUpdate(ws, "llama", "azureml://registries/azureml-meta/models/Llama-Tiny");
  assert.equal(serverless.createOrUpdate(ws, "v1", body("azureml://registries/azureml-meta/models/Llama-Tiny/versions/1")).endpoint.model.version, "1");
  assert.equal(serverless.createOrUpdate(ws, "latest", body("azureml://registries/azureml/models/Llama-Tiny/labels/latest")).endpoint.model.version, "2");
  for (const [id, pattern] of [
    ["azureml://registries/azureml/models/nope", /does not resolve: .*Its models are: .*'tiny-chat'/],
    ["azureml://registries/azureml/models/tiny-chat/labels/stable", /use 'latest'/],
    ["azureml://registries/azureml/models/tiny-chat/versions/9", /Its versions are: '1'/],
    ["tiny-chat", /is not a model id/],
    [`azureml://locations/local/workspaces/${crypto.randomUUID()}/models/ft/versions/1`, /was not found: no workspace model/],
  ] as const) {
    const e = caught(() => serverless.createOrUpdate(ws, "bad-model", body(id)));
    assert.equal(e.code, "UserError", id);
    assert.match(e.message, pattern, id);
  }
  const none = caught(() => serverless.createOrUpdate(ws, "bad-model", { properties: {} }));
  assert.match(none.message, /modelSettings\.modelId' is required/);
  const sku = caught(() => serverless.createOrUpdate(ws, "bad-model", { ...body(TINY_ID), sku: { name: "Standard" } }));
  assert.match(sku.message, /Consumption/);
  const loc = caught(() => serverless.createOrUpdate(ws, "bad-model", { ...body(TINY_ID), location: "eastus2" }));
  assert.match(loc.message, /workspace's location 'local'/);
  assert.equal(serverless.get(ws, "bad-model"), undefined, "nothing half-created");
});

test("a third-party model needs the workspace's marketplace subscription (400 naming the fix); with one, the endpoint names it", () => {
  const { serverless, market, ws } = setup();
  const e = caught(() => serverless.createOrUpdate(ws, "llama-ep", body("azureml://registries/azureml-meta/models/Llama-Tiny")));
  assert.equal(e.code, "UserError");
  assert.match(e.message, /needs a marketplace subscription/);
  assert.match(e.message, /marketplaceSubscriptions\/\{name\} with \{"properties": \{"modelId": "azureml:\/\/registries\/azureml-meta\/models\/Llama-Tiny"\}\}/);
  assert.equal(serverless.get(ws, "llama-ep"), undefined);
  market.createOrUpdate(ws, "llama-sub", "azureml://registries/azureml-meta/models/Llama-Tiny");
  const { endpoint } = serverless.createOrUpdate(ws, "llama-ep", body("azureml://registries/azureml-meta/models/Llama-Tiny"));
  assert.equal(endpoint.marketplaceSubscriptionId, "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/marketplaceSubscriptions/llama-sub");
});

test("the older offer body resolves a catalog model by offer name", () => {
  const { serverless, ws } = setup();
  const { endpoint } = serverless.createOrUpdate(ws, "offer-ep", { properties: { offer: { publisher: "Ingot", offerName: "tiny-chat" }, authMode: "AAD" } });
  assert.deepEqual(endpoint.model, TINY);
  assert.equal(endpoint.modelId, "azureml://registries/azureml/models/tiny-chat", "modelSettings echoed (reference §12.1)");
  assert.deepEqual(endpoint.offer, { publisher: "Ingot", offerName: "tiny-chat" });
  assert.equal(endpoint.authMode, "AAD");
  const e = caught(() => serverless.createOrUpdate(ws, "offer-2", { properties: { offer: { publisher: "X", offerName: "nothing" } } }));
  assert.match(e.message, /Offer 'nothing' of publisher 'X' was not found/);
});

test("a fine-tuned workspace model deploys from the workspace's account where its base's maas-finetuning-deploy-regions allow; elsewhere the seed's error", () => {
  const { serverless, deployments, ws, ws2, far, ftModelId } = setup();
  const { endpoint } = serverless.createOrUpdate(ws, "ft-ep", body(ftModelId));
  assert.deepEqual(endpoint.model, FT);
  const call = deployments.calls.at(-1)!;
  assert.deepEqual(call.input.source, { id: `/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/${ws.account}`, account: ws.account });
  assert.equal(call.input.sku?.name, "GlobalStandard", "not DeveloperTier: the endpoint lives until deleted");

  // One deployment per fine-tuned model: another workspace's endpoint or an account's deployment of it is refused, in ML's terms.
  const again = caught(() => serverless.createOrUpdate(ws2, "ft-again", body(ftModelId)));
  assert.equal(again.code, "UserError");
  assert.match(again.message, /Only one deployment is permitted for a fine-tuned model: tiny-chat-ft-abc is already deployed by .*\/workspaces\/ws1\/serverlessEndpoints\/ft-ep/);
  assert.ok(serverless.createOrUpdate(ws, "ft-ep", body(ftModelId)), "its own endpoint may PUT again");

  const e = caught(() => serverless.createOrUpdate(far, "ft-far", { ...body(ftModelId), location: "westus" }));
  assert.equal(e.code, "UserError");
  assert.match(e.message, /^For the model : tiny-chat, the target region: westus is not supported for deployment, the supported regions: local/);
  assert.equal(serverless.get(far, "ft-far"), undefined);
});

test("keys open only their endpoint; regenerateKeys replaces one (generated or given) and the old one stops working", () => {
  const { serverless, ws } = setup();
  const a = serverless.createOrUpdate(ws, "ep-a", body(TINY_ID)).endpoint;
  const b = serverless.createOrUpdate(ws, "ep-b", body("azureml://registries/azureml/models/tiny-embed")).endpoint;
  assert.equal(serverless.authenticate(a.keys.primary)?.name, "ep-a");
  assert.equal(serverless.authenticate(a.keys.secondary)?.name, "ep-a");
  assert.equal(serverless.authenticate(b.keys.primary)?.name, "ep-b");
  assert.equal(serverless.authenticate("not-a-key"), undefined);
  assert.equal(serverless.authenticate(undefined), undefined);

  const r = serverless.regenerateKey(ws, "ep-a", "primary", undefined);
  assert.notEqual(r.keys.primary, a.keys.primary);
  assert.equal(r.keys.secondary, a.keys.secondary);
  assert.equal(serverless.authenticate(a.keys.primary), undefined, "the old key is dead");
  assert.equal(serverless.authenticate(r.keys.primary)?.name, "ep-a");
  const given = serverless.regenerateKey(ws, "ep-a", "Secondary", "my-own-secondary-key-0001");
  assert.equal(given.keys.secondary, "my-own-secondary-key-0001");
  assert.equal(serverless.authenticate("my-own-secondary-key-0001")?.name, "ep-a");
  for (const [type, value, pattern] of [
    ["Tertiary", undefined, /'keyType' must be one of 'Primary', 'Secondary'/],
    [undefined, undefined, /'keyType' is required/],
    ["Primary", "short", /16 to 128 printable/],
    ["Primary", "my-own-secondary-key-0001", /other key/],
    ["Primary", b.keys.primary, /not available/],
  ] as const) assert.match(caught(() => serverless.regenerateKey(ws, "ep-a", type, value)).message, pattern);
});

test("delete removes the endpoint, its keys and its deployment; deleteAll empties a workspace; a refused deployment leaves nothing", () => {
  const { serverless, deployments, ws } = setup();
  const a = serverless.createOrUpdate(ws, "ep-a", body(TINY_ID)).endpoint;
  serverless.createOrUpdate(ws, "ep-b", body("azureml://registries/azureml/models/tiny-embed"));
  assert.ok(serverless.delete(ws, "EP-A"));
  assert.equal(serverless.delete(ws, "ep-a"), false);
  assert.equal(deployments.get(mlDeploymentAccount(ws), "ep-a"), undefined);
  assert.equal(serverless.authenticate(a.keys.primary), undefined);
  serverless.deleteAll(ws);
  assert.equal(serverless.list(ws).length, 0);
  assert.equal(deployments.records.size, 0);

  deployments.refuse = errors.armInvalid("DeploymentModelNotSupported", "no weights");
  assert.equal(caught(() => serverless.createOrUpdate(ws, "ep-c", body(TINY_ID))).code, "DeploymentModelNotSupported");
  assert.equal(serverless.get(ws, "ep-c"), undefined);
});

test("a deployment record of that name owned by something else makes the name unavailable", () => {
  const { serverless, deployments, ws } = setup();
  deployments.createOrUpdate(mlDeploymentAccount(ws), "shared", { model: TINY, managedBy: "/other/online/thing" });
  const e = caught(() => serverless.createOrUpdate(ws, "shared", body(TINY_ID)));
  assert.match(e.message, /is not available in workspace 'ws1'/);
  assert.equal(deployments.get(mlDeploymentAccount(ws), "shared")?.options?.managedBy, "/other/online/thing", "untouched");
});


test("the serverless limits admit 1,000 requests a minute and refuse the 1,001st until the oldest leaves the minute", () => {
  let now = 0;
  const limiter = new InMemoryRateLimiter(() => now);
  const policy = policyFor({ name: "GlobalStandard", capacity: 1 }, SERVERLESS_LIMITS);
  const ctx = { operation: "ChatCompletions_Create", apiVersion: "2024-05-01-preview", deployment: "ep" };
  for (let i = 0; i < 1000; i++) {
    now = i * 10;
    limiter.admit("k", policy, 10, ctx).release();
  }
  const refused = caught(() => limiter.admit("k", policy, 10, ctx));
  assert.equal(refused.status, 429);
  assert.equal(limiter.snapshot("k", policy)?.limitRequests, 1000);
  assert.equal(limiter.snapshot("k", policy)?.limitTokens, 200_000);
  now = 60_001;
  limiter.admit("k", policy, 10, ctx).release();
});
