// Azure ML managed online endpoints and deployments through the official JS client,
// @azure/arm-machinelearning 2.1.1 (unchanged), over HTTPS: the endpoint and deployment LROs
// finish only when the runners serve; sku.capacity 2 runs two runner processes; scoring with the
// endpoint's key (never an account key); blue/green traffic 70/30 within ±10% over 200 requests;
// the azureml-model-deployment pin; getLogs; skus; deletion stops the runners.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { POLL, RG, SUB } from "./arm-sdk-client.ts";
import { mlPrincipal } from "./ml-principals.ts";

const WS = "online-ws";
const EP = "ingot-e2e-ep";
const TINY = "azureml://registries/azureml/models/tiny-chat/versions/1";
const PROVIDER = "Microsoft.MachineLearningServices";

let server: TestServer;
let ml: AzureMachineLearningWorkspaces;
let adminToken: string;
let armToken: string;

const deploymentBody = (capacity: number) => ({
  location: "local",
  sku: { name: "Default", capacity },
  properties: {
    endpointComputeType: "Managed" as const,
    model: TINY,
    instanceType: "Standard_DS3_v2",
    requestSettings: { requestTimeout: "PT90S", maxConcurrentRequestsPerInstance: 4 },
    livenessProbe: { initialDelay: "PT10S", period: "PT10S", timeout: "PT2S", failureThreshold: 30, successThreshold: 1 },
    appInsightsEnabled: false,
  },
});

/** The runners the engine holds (admin /readyz details): key → pid. */
async function runners(): Promise<Map<string, number>> {
  const body = await json(await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } }));
  return new Map((body.models as { key: string; pid?: number; state: string }[]).filter((m) => m.state === "ready").map((m) => [m.key, m.pid ?? 0]));
}
const onlineRunners = async () => [...(await runners())].filter(([k]) => k.includes(`#${EP}--`));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const score = (path: string, key: string | undefined, headers: Record<string, string> = {}, body: unknown = { messages: [{ role: "user", content: "Hi" }], max_tokens: 1, temperature: 0 }) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...headers },
    body: JSON.stringify(body),
  });

before(async () => {
  // A catalog model whose weights are missing: its deployment's LRO must fail with the loader's reason.
  const broken = { format: "Custom", name: "broken-chat", version: "1", capabilities: ["chatCompletion"], contextLength: 256, weights: "file:/nonexistent/ingot-broken-chat.gguf", skus: [{ name: "GlobalStandard", usageName: "broken", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }], lifecycleStatus: "GenerallyAvailable", license: "MIT" };
  server = await startServer({ https: true, extraModels: [broken] as never });
  const sp = mlPrincipal(server, "ml-online");
  ml = sp.client();
  armToken = sp.token;
  adminToken = mlPrincipal(server, "ml-online-admin", "Owner", "/").token;
  await ml.workspaces.beginCreateOrUpdateAndWait(RG, WS, { location: "local" }, POLL);
});
after(() => server.stop());

test("endpoint, two deployments (capacity 2 and 1), scoring, traffic, pin, logs, skus, scale, delete", { timeout: 280_000 }, async () => {
  // --- endpoint ---
  const ep = await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, { location: "local", identity: { type: "SystemAssigned" }, properties: { authMode: "Key", description: "e2e" } }, POLL);
  assert.equal(ep.name, EP);
  assert.equal(ep.properties.provisioningState, "Succeeded");
  assert.equal(ep.properties.scoringUri, `${server.url}/online/${EP}/score`);
  assert.equal(ep.id, `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${WS}/onlineEndpoints/${EP}`);
  const keys = await ml.onlineEndpoints.listKeys(RG, WS, EP);
  assert.ok(keys.primaryKey && keys.secondaryKey && keys.primaryKey !== keys.secondaryKey);

  // An AMLToken endpoint issues tokens, and its token opens it (no deployment yet: past auth, a 404 saying so).
  await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, `${EP}-tok`, { location: "local", properties: { authMode: "AMLToken" } }, POLL);
  const token = await ml.onlineEndpoints.getToken(RG, WS, `${EP}-tok`);
  assert.ok(token.accessToken && token.tokenType === "Bearer");
  assert.ok((token.expiryTimeUtc ?? 0) > Date.now() / 1000);
  const viaToken = await score(`/online/${EP}-tok/score`, token.accessToken);
  assert.equal(viaToken.status, 404);
  assert.equal((await json(viaToken)).error.code, "NoTrafficDeployment");
  assert.equal((await score(`/online/${EP}-tok/score`, keys.primaryKey)).status, 401, "a key does not open a token endpoint");
  await ml.onlineEndpoints.beginDeleteAndWait(RG, WS, `${EP}-tok`, POLL);

  // An AADToken endpoint takes an Ingot (Entra-style) token of a principal with inference rights on the workspace; a Reader's is refused.
  await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, `${EP}-aad`, { location: "local", properties: { authMode: "AADToken" } }, POLL);
  const viaAad = await score(`/online/${EP}-aad/score`, armToken);
  assert.equal(viaAad.status, 404, await viaAad.clone().text());
  assert.equal((await json(viaAad)).error.code, "NoTrafficDeployment");
  const readerToken = mlPrincipal(server, "ml-online-reader", "Reader").token;
  assert.equal((await score(`/online/${EP}-aad/score`, readerToken)).status, 401);
  // A Reader may not list keys either (ARM 403, in the ML plane's error shape).
  const readerKeys = await fetch(`${server.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${WS}/onlineEndpoints/${EP}/listKeys?api-version=2022-10-01`, { method: "POST", headers: { authorization: `Bearer ${readerToken}` } });
  assert.equal(readerKeys.status, 403);
  const readerError = (await json(readerKeys)).error;
  assert.deepEqual(readerError.details, []);
  assert.equal(readerError.additionalInfo[0].info.value, "managementfrontend");
  await ml.onlineEndpoints.beginDeleteAndWait(RG, WS, `${EP}-aad`, POLL);

  // --- blue: 2 instances; the LRO ends when both runners serve ---
  const blue = await ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, EP, "blue", deploymentBody(2), POLL);
  assert.equal(blue.properties.provisioningState, "Succeeded");
  assert.equal(blue.sku?.capacity, 2);
  assert.equal(blue.properties.model, TINY);
  assert.equal(blue.properties.instanceType, "Standard_DS3_v2");
  assert.equal((blue.properties as { livenessProbe?: { failureThreshold?: number } }).livenessProbe?.failureThreshold, 30, "probes are echoed");
  const blueRunners = await onlineRunners();
  assert.deepEqual(blueRunners.map(([k]) => k).sort(), [`Ingot/tiny-chat@1#${EP}--blue--0`, `Ingot/tiny-chat@1#${EP}--blue--1`]);
  const bluePids = blueRunners.map(([, pid]) => pid);
  assert.equal(new Set(bluePids).size, 2, "two processes");
  assert.ok(bluePids.every(alive));

  // --- green: 1 instance, over plain HTTPS with Python's api-version, to watch the LRO: InProgress until its runner serves ---
  const headers = { authorization: `Bearer ${armToken}`, "content-type": "application/json" };
  const greenUrl = `${server.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${WS}/onlineEndpoints/${EP}/deployments/green?api-version=2023-04-01-preview`;
  const put = await fetch(greenUrl, { method: "PUT", headers, body: JSON.stringify(deploymentBody(1)) });
  assert.equal(put.status, 201, await put.clone().text());
  assert.equal(put.headers.get("retry-after"), "1");
  const statusUrl = put.headers.get("azure-asyncoperation")!;
  assert.match(statusUrl, /\/providers\/Microsoft\.MachineLearningServices\/locations\/local\/onlineOperationsStatus\/[0-9a-f-]+\?api-version=2023-04-01-preview$/);
  assert.equal((await json(put)).properties.provisioningState, "Creating");
  assert.equal((await json(await fetch(statusUrl, { headers }))).status, "InProgress", "the runner is still loading");
  for (let status = "InProgress"; status === "InProgress"; ) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await json(await fetch(statusUrl, { headers }))).status;
    assert.ok(["InProgress", "Succeeded"].includes(status), status);
  }
  assert.equal((await json(await fetch(greenUrl, { headers }))).properties.provisioningState, "Succeeded");
  const listed = [];
  for await (const d of ml.onlineDeployments.list(RG, WS, EP)) listed.push(d.name);
  assert.deepEqual(listed.sort(), ["blue", "green"]);

  // Traffic must add up to 100: the 400 names the fix. (2.1.1's PATCH body carries only tags and
  // identity, so traffic changes go through PUT, as az ml's endpoint update does.)
  const withTraffic = (traffic: Record<string, number>) => ({ location: "local", properties: { authMode: "Key" as const, traffic } });
  await assert.rejects(ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, withTraffic({ blue: 70, green: 20 }), POLL), (e: Error & { statusCode?: number }) => {
    assert.equal(e.statusCode, 400);
    assert.match(e.message, /adds up to 90%; it must add up to 100%/);
    return true;
  });
  const updated = await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, withTraffic({ blue: 70, green: 30 }), POLL);
  assert.deepEqual(updated.properties.traffic, { blue: 70, green: 30 });
  // PATCH (Location + Retry-After) for tags.
  const tagged = await ml.onlineEndpoints.beginUpdateAndWait(RG, WS, EP, { tags: { stage: "blue-green" } }, POLL);
  assert.deepEqual(tagged.tags, { stage: "blue-green" });
  assert.deepEqual((await ml.onlineEndpoints.get(RG, WS, EP)).properties.traffic, { blue: 70, green: 30 });

  // --- scoring: the endpoint's key opens it; account keys and no key do not ---
  const first = await score(`/online/${EP}/score`, keys.primaryKey, {}, { messages: [{ role: "user", content: "Say hi" }], max_tokens: 4 });
  assert.equal(first.status, 200, await first.clone().text());
  const completion = await json(first);
  assert.equal(completion.object, "chat.completion");
  assert.equal(typeof completion.choices[0].message.content, "string");
  assert.ok(["blue", "green"].includes(first.headers.get("azureml-model-deployment") ?? ""));
  const v1 = await score(`/online/${EP}/v1/chat/completions`, keys.secondaryKey);
  assert.equal(v1.status, 200);
  const streamed = await score(`/online/${EP}/score`, keys.primaryKey, {}, { messages: [{ role: "user", content: "Hi" }], max_tokens: 2, stream: true });
  assert.equal(streamed.status, 200);
  assert.match(streamed.headers.get("content-type") ?? "", /text\/event-stream/);
  assert.ok(["blue", "green"].includes(streamed.headers.get("azureml-model-deployment") ?? ""));
  assert.match(await streamed.text(), /data: \[DONE\]/);
  const refused = await score(`/online/${EP}/score`, API_KEY);
  assert.equal(refused.status, 401);
  assert.match((await json(refused)).error.message, /Account keys do not open online endpoints/);
  assert.equal((await score(`/online/${EP}/score`, API_KEY, { "api-key": API_KEY })).status, 401);
  assert.equal((await score(`/online/${EP}/score`, undefined)).status, 401);
  assert.equal((await score(`/online/nope-endpoint/score`, keys.primaryKey)).status, 401, "an unknown endpoint is denied, as a wrong key is");

  // --- 70/30 over 200 requests (±10%), counted by the reply header; both blue instances serve ---
  const counts: Record<string, number> = {};
  const blueLogsBefore = (await ml.onlineDeployments.getLogs(RG, WS, EP, "blue", { containerType: "InferenceServer" })).content ?? "";
  for (let round = 0; round < 20; round++) {
    const replies = await Promise.all(Array.from({ length: 10 }, () => score(`/online/${EP}/score`, keys.primaryKey)));
    for (const r of replies) {
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      const d = r.headers.get("azureml-model-deployment")!;
      counts[d] = (counts[d] ?? 0) + 1;
    }
  }
  assert.equal((counts.blue ?? 0) + (counts.green ?? 0), 200);
  assert.ok(Math.abs((counts.blue ?? 0) - 140) <= 20, JSON.stringify(counts));
  assert.ok(Math.abs((counts.green ?? 0) - 60) <= 20, JSON.stringify(counts));

  // --- the pin header ---
  for (let i = 0; i < 5; i++) {
    const pinned = await score(`/online/${EP}/score`, keys.primaryKey, { "azureml-model-deployment": "green" });
    assert.equal(pinned.status, 200);
    assert.equal(pinned.headers.get("azureml-model-deployment"), "green");
  }
  const unknownPin = await score(`/online/${EP}/score`, keys.primaryKey, { "azureml-model-deployment": "red" });
  assert.equal(unknownPin.status, 404);
  assert.match((await json(unknownPin)).error.message, /no deployment 'red'/);

  // --- getLogs: each instance's runner output, with the requests it served ---
  const logs = (await ml.onlineDeployments.getLogs(RG, WS, EP, "blue", { containerType: "InferenceServer", tail: 500 })).content ?? "";
  const sections = logs.split(/^=== instance /m).filter(Boolean);
  assert.equal(sections.length, 2, logs.slice(0, 2000));
  for (const s of sections) {
    assert.match(s, /runner started \(pid \d+\)/);
    assert.match(s, /model loaded/);
    assert.match(s, /generation done/, "each instance served requests (balanced)");
  }
  assert.ok(logs.length > blueLogsBefore.length);
  const short = (await ml.onlineDeployments.getLogs(RG, WS, EP, "blue", { containerType: "InferenceServer", tail: 1 })).content ?? "";
  assert.equal(short.split("\n").filter((l) => l && !l.startsWith("===")).length, 2, "one line per instance");

  // --- skus ---
  const skus = [];
  for await (const s of ml.onlineDeployments.listSkus(RG, WS, EP, "blue")) skus.push(s);
  assert.equal(skus.length, 1);
  assert.equal(skus[0].capacity?.minimum, 1);
  assert.ok((skus[0].capacity?.maximum ?? 0) >= 2);

  // --- scale blue down to 1: its second runner stops ---
  const scaled = await ml.onlineDeployments.beginUpdateAndWait(RG, WS, EP, "blue", { sku: { capacity: 1 } }, POLL);
  assert.equal(scaled.sku?.capacity, 1);
  // The PATCH's operation ends once the removed instance's runner has stopped.
  assert.deepEqual((await onlineRunners()).map(([k]) => k).sort(), [`Ingot/tiny-chat@1#${EP}--blue--0`, `Ingot/tiny-chat@1#${EP}--green--0`]);
  const secondPid = blueRunners.find(([k]) => k.endsWith("--blue--1"))![1];
  assert.ok(!alive(secondPid), "the second instance's process exited");
  assert.equal((await score(`/online/${EP}/score`, keys.primaryKey, { "azureml-model-deployment": "blue" })).status, 200, "blue still serves");

  // --- a deployment with traffic cannot be deleted; with its traffic moved, it can ---
  await assert.rejects(ml.onlineDeployments.beginDeleteAndWait(RG, WS, EP, "green", POLL), /still receives 30%/);
  await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, withTraffic({ blue: 100, green: 0 }), POLL);
  await ml.onlineDeployments.beginDeleteAndWait(RG, WS, EP, "green", POLL);

  // --- deleting the endpoint stops every runner it had ---
  const before = await onlineRunners();
  assert.ok(before.length >= 1);
  await ml.onlineEndpoints.beginDeleteAndWait(RG, WS, EP, POLL);
  assert.deepEqual(await onlineRunners(), [], "no runner of the endpoint is left when the delete LRO ends");
  for (const [, pid] of before) assert.ok(!alive(pid), `runner ${pid} exited`);
  for (const pid of bluePids) assert.ok(!alive(pid), `runner ${pid} exited`);
  await assert.rejects(ml.onlineEndpoints.get(RG, WS, EP), (e: Error & { statusCode?: number }) => e.statusCode === 404);
  assert.equal((await score(`/online/${EP}/score`, keys.primaryKey)).status, 401, "its keys open nothing any more");
  // The default account's own tiny-chat runner was never touched.
  assert.ok((await runners()).has("Ingot/tiny-chat@1"));
});

test("a model that does not resolve fails the PUT with a 400 naming the fix; nothing half-created", { timeout: 60_000 }, async () => {
  await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, "ingot-e2e-bad", { location: "local", properties: { authMode: "Key" } }, POLL);
  await assert.rejects(
    ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, "ingot-e2e-bad", "blue", { ...deploymentBody(1), properties: { ...deploymentBody(1).properties, model: "azureml://registries/azureml/models/no-such-model/versions/1" } }, POLL),
    (e: Error & { statusCode?: number; code?: string }) => {
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, "UserError");
      assert.match(e.message, /does not resolve/);
      return true;
    },
  );
  // A model whose runner cannot load: the LRO ends Failed with the loader's reason, and GET says so.
  await assert.rejects(
    ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, "ingot-e2e-bad", "broken", { ...deploymentBody(1), properties: { ...deploymentBody(1).properties, model: "azureml://registries/azureml/models/broken-chat/versions/1" } }, POLL),
    (e: Error) => {
      assert.match(e.message, /ingot-broken-chat\.gguf/);
      return true;
    },
  );
  const failed = await ml.onlineDeployments.get(RG, WS, "ingot-e2e-bad", "broken");
  assert.equal(failed.properties.provisioningState, "Failed");
  await ml.onlineDeployments.beginDeleteAndWait(RG, WS, "ingot-e2e-bad", "broken", POLL);
  const left = [];
  for await (const d of ml.onlineDeployments.list(RG, WS, "ingot-e2e-bad")) left.push(d.name);
  assert.deepEqual(left, []);
  // A name taken in another workspace is refused.
  await ml.workspaces.beginCreateOrUpdateAndWait(RG, "online-ws2", { location: "local" }, POLL);
  await assert.rejects(ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, "online-ws2", "ingot-e2e-bad", { location: "local", properties: { authMode: "Key" } }, POLL), /already taken/);
  // Deleting the workspace deletes its endpoints.
  await ml.workspaces.beginDeleteAndWait(RG, WS, POLL);
  await ml.onlineEndpoints.beginCreateOrUpdateAndWait(RG, "online-ws2", "ingot-e2e-bad", { location: "local", properties: { authMode: "Key" } }, POLL);
});
