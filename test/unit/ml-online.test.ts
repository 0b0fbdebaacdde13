// Rules of Azure ML managed online endpoints and deployments: names, traffic that must add up to
// 100, smooth weighted choice (exact over each cycle), least-outstanding instance choice, one
// deployment record per instance (scaling adds and removes them, nothing half-created stays),
// keys and tokens per endpoint, deletion refused while a deployment has traffic.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModelInput } from "../../src/core/catalog/model.ts";
import { DeploymentService } from "../../src/core/deployments/service.ts";
import { checkEndpointName, checkOnlineDeploymentName, checkTraffic, instancePlan, leastOutstanding, OnlineEndpointService, WeightedRoundRobin } from "../../src/core/ml/online.ts";
import { Registries } from "../../src/core/ml/registries.ts";
import { mlDeploymentAccount } from "../../src/core/ml/workspaces.ts";
import { SqliteOnlineEndpointStore } from "../../src/store/sqlite/online-store.ts";
import { mlBed } from "./ml-bed.ts";
import { caught } from "./caught.ts";

const SKUS = [{ name: "GlobalStandard", usageName: "u", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 1 }];
const model = (name: string, version: string): CatalogModelInput =>
  ({ format: "Ingot", name, version, capabilities: ["chatCompletion"], contextLength: 256, weights: `file:/m/${name}-${version}.gguf`, skus: SKUS, lifecycleStatus: "GenerallyAvailable", license: "MIT" }) as CatalogModelInput;
const catalog = new Catalog([model("tiny-chat", "1"), model("other-chat", "1")]);
const TINY = "azureml://registries/azureml/models/tiny-chat/versions/1";

const bed = mlBed("ingot-ml-online-");

function setup() {
  const { store, clock, workspaces } = bed.fresh();
  const deployments = new DeploymentService(store, catalog, { clock });
  const online = new OnlineEndpointService({
    store: new SqliteOnlineEndpointStore(store.database),
    records: deployments,
    registries: new Registries(catalog, "local"),
    findModel: (ref) => catalog.find(ref),
    workspaceById: (id) => workspaces.getByWorkspaceId(id),
    clock,
    maxInstances: 4,
  });
  const ws = workspaces.createOrUpdate("sub", "rg", "ws1", {}).workspace;
  /** The instance records, each checked to ask for a runner of its own. */
  const records = () =>
    deployments
      .list(mlDeploymentAccount(ws))
      .map((d) => {
        assert.equal(d.options?.instance, d.name.toLowerCase(), `${d.name} has a runner of its own`);
        return d.name;
      })
      .sort();
  return { workspaces, deployments, online, ws, records };
}

test("endpoint and deployment names: 3-32 chars, a letter first; deployment names without '--' and short enough for instance names", () => {
  for (const ok of ["abc", "my-endpoint-1", "A".repeat(32)]) checkEndpointName(ok);
  for (const bad of ["ab", "1abc", "-abc", "a_b", "A".repeat(33), "a.b"]) assert.equal(caught(() => checkEndpointName(bad)).code, "UserError", bad);
  checkOnlineDeploymentName("ep", "blue");
  assert.match(caught(() => checkOnlineDeploymentName("ep", "blue--green")).message, /single hyphens/);
  assert.match(caught(() => checkOnlineDeploymentName("e".repeat(32), "d".repeat(30))).message, /too long together/);
});

test("traffic: whole percents naming existing deployments that add up to 100 (or nothing yet); the message names the fix", () => {
  assert.deepEqual(checkTraffic(undefined, [], "ep"), {});
  assert.deepEqual(checkTraffic({}, ["blue"], "ep"), {});
  assert.deepEqual(checkTraffic({ BLUE: 70, green: 30 }, ["blue", "green"], "ep"), { blue: 70, green: 30 }, "names take the deployments' spelling");
  assert.deepEqual(checkTraffic({ blue: 0 }, ["blue"], "ep"), { blue: 0 });
  const sum = caught(() => checkTraffic({ blue: 70, green: 20 }, ["blue", "green"], "ep"));
  assert.equal(sum.status, 400);
  assert.match(sum.message, /adds up to 90%; it must add up to 100%.*"blue":78,"green":22/);
  assert.match(caught(() => checkTraffic({ red: 100 }, ["blue"], "ep")).message, /does not have \(its deployments: 'blue'\)/);
  assert.match(caught(() => checkTraffic({ blue: 50.5, green: 49.5 }, ["blue", "green"], "ep")).message, /whole percent/);
  assert.match(caught(() => checkTraffic({ blue: 110 }, ["blue"], "ep")).message, /whole percent/);
  assert.match(caught(() => checkTraffic([100], ["blue"], "ep")).message, /must be an object/);
});

test("smooth weighted round robin: exact shares over every cycle of 100, interleaved; zero weights never chosen", () => {
  const rr = new WeightedRoundRobin();
  const picks = Array.from({ length: 200 }, () => rr.pick({ blue: 70, green: 30, red: 0 }));
  assert.equal(picks.filter((p) => p === "blue").length, 140);
  assert.equal(picks.filter((p) => p === "green").length, 60);
  assert.equal(picks.slice(0, 100).filter((p) => p === "green").length, 30, "exact within one cycle");
  assert.ok(!picks.slice(0, 10).every((p) => p === "blue"), "spread out, not in blocks");
  assert.equal(rr.pick({ blue: 0 }), undefined);
  assert.equal(new WeightedRoundRobin().pick({ blue: 100 }), "blue");
});

test("least outstanding requests; ties rotate after the last pick", () => {
  const load: Record<string, number> = { a: 2, b: 0, c: 0 };
  assert.equal(leastOutstanding(["a", "b", "c"], (x) => load[x], -1), 1);
  assert.equal(leastOutstanding(["a", "b", "c"], (x) => load[x], 1), 2, "tie between b and c: the one after b");
  assert.equal(leastOutstanding(["a", "b", "c"], () => 0, 2), 0);
  assert.deepEqual(instancePlan("ep", "d", 1, 3), { keep: ["ep--d--0"], add: ["ep--d--1", "ep--d--2"], remove: [] });
  assert.deepEqual(instancePlan("ep", "d", 3, 1), { keep: ["ep--d--0"], add: [], remove: ["ep--d--1", "ep--d--2"] });
});

test("a deployment writes one record per instance (each with a runner of its own), scaling adds and removes records, deletion removes them all", () => {
  const { online, ws, records, deployments } = setup();
  online.createOrUpdateEndpoint(ws, "ep1", { properties: { authMode: "Key" } });
  const { deployment, created, operation } = online.createOrUpdateDeployment(ws, "ep1", "blue", { sku: { name: "Default", capacity: 2 }, properties: { model: TINY, instanceType: "Standard_DS3_v2", requestSettings: { maxConcurrentRequestsPerInstance: 2 } } });
  assert.ok(created);
  assert.equal(deployment.modelId, TINY);
  assert.deepEqual(deployment.echo, { requestSettings: { maxConcurrentRequestsPerInstance: 2 } });
  assert.deepEqual(records(), ["ep1--blue--0", "ep1--blue--1"]);
  assert.equal(operation.recordOperations.length, 2);
  assert.equal(online.operationStatus(operation).status, "InProgress", "until the runners serve");
  const again = online.createOrUpdateDeployment(ws, "ep1", "blue", { sku: { name: "Default", capacity: 2 }, properties: { model: TINY } });
  assert.deepEqual(again.operation.recordOperations, [], "the same PUT again changes no record");
  assert.equal(online.operationStatus(again.operation).status, "InProgress", "but still waits for the instances loading");
  const rec = online.instances(ws, deployment)[1].record!;
  assert.equal(rec.options?.managedBy, "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/onlineEndpoints/ep1/deployments/blue");
  assert.ok(rec.options?.limits, "managed compute is not rate limited by tokens");

  for (const d of deployments.list(mlDeploymentAccount(ws))) deployments.setState(d, "Succeeded");
  assert.equal(online.operationStatus(again.operation).status, "Succeeded");
  const first = deployments.list(mlDeploymentAccount(ws))[0];
  deployments.setState(first, "Failed", "the runner exited during load (SIGKILL)");
  assert.deepEqual(online.operationStatus(again.operation), { status: "Failed", error: { code: "DeploymentFailed", message: "the runner exited during load (SIGKILL)" } });
  assert.deepEqual(online.provisioningState(ws, online.requireDeployment(ws, "ep1", "blue")), { state: "Failed", error: "the runner exited during load (SIGKILL)" });
  online.updateDeployment(ws, "ep1", "blue", { sku: { capacity: 4 } });
  assert.deepEqual(records(), ["ep1--blue--0", "ep1--blue--1", "ep1--blue--2", "ep1--blue--3"]);
  const down = online.updateDeployment(ws, "ep1", "blue", { sku: { capacity: 1 } });
  assert.deepEqual(records(), ["ep1--blue--0"]);
  assert.equal(down.deployment.state, "Scaling");
  assert.match(caught(() => online.updateDeployment(ws, "ep1", "blue", { sku: { capacity: 5 } })).message, /from 1 to 4 on this Ingot/);
  assert.match(caught(() => online.updateDeployment(ws, "ep1", "blue", { sku: { capacity: 0 } })).message, /from 1 to 4/);

  // Another model: the old instances go, the new ones come.
  online.createOrUpdateDeployment(ws, "ep1", "blue", { properties: { model: "azureml://registries/azureml/models/other-chat/labels/latest" } });
  assert.equal(online.requireDeployment(ws, "ep1", "blue").modelId, "azureml://registries/azureml/models/other-chat/versions/1");
  assert.deepEqual(records(), ["ep1--blue--0"]);

  const op = online.deleteDeployment(ws, "ep1", "blue")!;
  assert.equal(op.kind, "delete");
  assert.deepEqual(records(), []);
  assert.equal(online.deleteDeployment(ws, "ep1", "blue"), undefined);
});

test("a model that does not resolve is a 400 naming the forms, and leaves nothing behind", () => {
  const { online, ws, records } = setup();
  online.createOrUpdateEndpoint(ws, "ep2", { properties: {} });
  for (const model of [undefined, "azureml://registries/azureml/models/nope/versions/1", "azureml://registries/azureml/models/tiny-chat/versions/9", "azureml:foo:1", "azureml://registries/azureml/models/tiny-chat/labels/stable"]) {
    const e = caught(() => online.createOrUpdateDeployment(ws, "ep2", "blue", { sku: { capacity: 2 }, properties: { model } }));
    assert.equal(e.status, 400, String(model));
    assert.equal(e.param, "properties.model");
  }
  assert.match(caught(() => online.createOrUpdateDeployment(ws, "ep2", "blue", { properties: { model: TINY, endpointComputeType: "Kubernetes" } })).message, /managed online deployments only/);
  assert.deepEqual(online.listDeployments(ws, "ep2"), []);
  assert.deepEqual(records(), []);
});

test("endpoint names are unique across workspaces; traffic rules on PUT/PATCH; a deployment with traffic cannot be deleted", () => {
  const { online, ws, workspaces } = setup();
  const other = workspaces.createOrUpdate("sub", "rg", "ws2", {}).workspace;
  online.createOrUpdateEndpoint(ws, "shared-name", { properties: {} });
  const taken = caught(() => online.createOrUpdateEndpoint(other, "SHARED-name", { properties: {} }));
  assert.equal(taken.status, 409);
  assert.match(taken.message, /already taken \(by workspace 'ws1'\)/);
  assert.equal(caught(() => online.requireEndpoint(other, "shared-name")).status, 404, "another workspace does not see it");

  assert.match(caught(() => online.createOrUpdateEndpoint(ws, "ep3", { properties: { traffic: { blue: 100 } } })).message, /no deployments yet/);
  online.createOrUpdateEndpoint(ws, "ep3", { properties: {} });
  online.createOrUpdateDeployment(ws, "ep3", "blue", { properties: { model: TINY } });
  online.createOrUpdateDeployment(ws, "ep3", "green", { properties: { model: TINY } });
  assert.match(caught(() => online.updateEndpoint(ws, "ep3", { properties: { traffic: { blue: 60, green: 60 } } })).message, /adds up to 120%/);
  online.updateEndpoint(ws, "ep3", { properties: { traffic: { blue: 70, green: 30 } } });
  const refused = caught(() => online.deleteDeployment(ws, "ep3", "green"));
  assert.match(refused.message, /still receives 30% .* \{"blue":100\}/);
  online.updateEndpoint(ws, "ep3", { properties: { traffic: { blue: 100, green: 0 } } });
  online.deleteDeployment(ws, "ep3", "green");
  assert.deepEqual(online.requireEndpoint(ws, "ep3").traffic, { blue: 100 }, "the deleted deployment leaves the traffic map");
});

test("routing: traffic or the pinned deployment; instances by least outstanding requests; released when done", () => {
  const { online, ws, deployments } = setup();
  online.createOrUpdateEndpoint(ws, "ep4", { properties: {} });
  online.createOrUpdateDeployment(ws, "ep4", "blue", { sku: { capacity: 2 }, properties: { model: TINY } });
  online.createOrUpdateDeployment(ws, "ep4", "green", { properties: { model: TINY } });
  const e = () => online.requireEndpoint(ws, "ep4");
  assert.equal(caught(() => online.route(ws, e(), undefined)).code, "NoTrafficDeployment");
  assert.equal(online.route(ws, e(), "GREEN").deployment, "green", "a pin works without traffic");
  assert.match(caught(() => online.route(ws, e(), "red")).message, /no deployment 'red'.*'blue', 'green'/);
  online.updateEndpoint(ws, "ep4", { properties: { traffic: { blue: 100 } } });
  // Instances serve once their records are Succeeded.
  for (const d of deployments.list(mlDeploymentAccount(ws))) deployments.setState(d, "Succeeded");
  const a = online.route(ws, e(), undefined);
  const b = online.route(ws, e(), undefined);
  assert.deepEqual([a.record, b.record].sort(), ["ep4--blue--0", "ep4--blue--1"], "the busy instance is avoided");
  a.release();
  a.release(); // twice is once
  assert.equal(online.route(ws, e(), undefined).record, a.record, "the idle one is chosen");
  assert.equal(a.account, mlDeploymentAccount(ws));
});

test("keys per endpoint, tokens for AMLToken endpoints; regenerating the primary key changes it", () => {
  const { online, ws } = setup();
  const { endpoint } = online.createOrUpdateEndpoint(ws, "ep5", { properties: { authMode: "key" } });
  assert.equal(endpoint.authMode, "Key");
  const keys = online.keys(ws, "ep5");
  assert.ok(online.authenticate(endpoint, keys.primaryKey) && online.authenticate(endpoint, keys.secondaryKey));
  assert.ok(!online.authenticate(endpoint, "0123456789abcdef0123456789abcdef") && !online.authenticate(endpoint, undefined));
  assert.match(caught(() => online.token(ws, "ep5")).message, /uses authMode Key, so it issues no tokens/);
  online.regenerateKeys(ws, "ep5", { keyType: "Primary" });
  const after1 = online.requireEndpoint(ws, "ep5");
  assert.notEqual(after1.primaryKey, keys.primaryKey);
  assert.ok(!online.authenticate(after1, keys.primaryKey));
  assert.match(caught(() => online.regenerateKeys(ws, "ep5", { keyType: "Tertiary" })).message, /Primary or Secondary/);

  const tok = online.createOrUpdateEndpoint(ws, "ep6", { properties: { authMode: "AMLToken" } }).endpoint;
  const t = online.token(ws, "ep6");
  assert.equal(t.tokenType, "Bearer");
  assert.ok(t.expiryTimeUtc > t.refreshAfterTimeUtc);
  assert.ok(online.authenticate(tok, t.accessToken));
  assert.ok(!online.authenticate(endpoint, t.accessToken), "one endpoint's token does not open another");
  assert.ok(!online.authenticate(tok, t.accessToken.slice(0, -2) + "xx"));
  assert.match(caught(() => online.keys(ws, "ep6")).message, /has no keys to list/);
  assert.match(caught(() => online.createOrUpdateEndpoint(ws, "ep7", { properties: { authMode: "Password" } })).message, /Key, AMLToken, AADToken/);
});

test("deleting every endpoint of a workspace removes their instance records", () => {
  const { online, ws, records } = setup();
  online.createOrUpdateEndpoint(ws, "ep8", { properties: {} });
  online.createOrUpdateDeployment(ws, "ep8", "blue", { sku: { capacity: 3 }, properties: { model: TINY } });
  assert.equal(records().length, 3);
  online.deleteAll(ws);
  assert.deepEqual(records(), []);
  assert.deepEqual(online.listEndpoints(ws), []);
});
