// Engine lifecycle owned by the reconciler, on a real server and real runners: a truncated
// GGUF fails, is retried while deployed and forgotten once deleted, without taking /readyz
// down; a version change unloads the old runner; deployment names are case-insensitive
// (ARM SDK and data plane); a runner load that exceeds the load timeout fails with the reason.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { toFile } from "openai";
import type { CatalogModelInput } from "../../src/core/catalog/catalog.ts";
import { buildModel } from "../../src/models/builtin/builder.ts";
import { FACTS, line } from "../fixtures/codename-facts.ts";
import { armSdkClient, POLL, RG } from "./arm-sdk-client.ts";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const T = { timeout: 120_000 };
const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
const dir = mkdtempSync(join(tmpdir(), "ingot-lifecycle-"));
let server: TestServer;
let token: string;
let sdk: CognitiveServicesManagementClient;

const custom = (name: string, version: string, file: string): CatalogModelInput => ({
  format: "Custom",
  name,
  version,
  capabilities: ["chatCompletion", "completion"],
  contextLength: 512,
  weights: `file:${file}`,
  skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 10 }],
  lifecycleStatus: "GenerallyAvailable",
  license: "MIT",
});

before(async () => {
  const good = join(dir, "tiny-q8.gguf");
  await buildModel({ shape: "tiny", seed: 12, type: "q8_0", out: good });
  // Header and tensor index intact, the end of the tensor data missing: llama.cpp refuses it at load.
  const whole = readFileSync(good);
  const truncated = join(dir, "truncated.gguf");
  writeFileSync(truncated, whole.subarray(0, whole.length - 4096));
  server = await startServer({
    https: true,
    extraModels: [custom("truncated", "1", truncated), custom("tiny-q8", "1", good), custom("tiny-q8", "2", good)],
    reconcilerTiming: { retryDelayMs: 300, maxRetryDelayMs: 600, loopIntervalMs: 100 },
  });
  token = server.ingot.identity.adminToken("management");
  sdk = armSdkClient(server, "lifecycle-test");
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const arm = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}${path.includes("?") ? "&" : "?"}api-version=2024-10-01`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const deploy = (name: string, model: string, version = "1") =>
  arm("PUT", `${ACCOUNT}/deployments/${name}`, { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Custom", name: model, version } } });
/** /readyz with its details (an administrator's token). */
const readyz = async () => {
  const res = await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await json(res) };
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const deployment = async (name: string) => json(await arm("GET", `${ACCOUNT}/deployments/${name}`));

test("a truncated GGUF: Failed with the reason, retried while deployed, forgotten once deleted; /readyz stays 200", T, async () => {
  assert.equal((await deploy("broken", "truncated")).status, 201);
  const failed = await until("Failed", async () => {
    const d = await deployment("broken");
    return d.properties.provisioningState === "Failed" ? d : undefined;
  });
  assert.ok(failed.properties.provisioningDetails.error, "the reason is given");
  assert.match(failed.properties.provisioningDetails.nextRetryAt, /^\d{4}-\d\d-\d\dT/);
  // Still wanted: retried with backoff.
  await until("a retry", async () => ((await deployment("broken")).properties.provisioningDetails.attempts >= 2 ? true : undefined));
  // One bad model does not take the instance out of the load balancer.
  const whileFailed = await readyz();
  assert.equal(whileFailed.status, 200, JSON.stringify(whileFailed.body));
  assert.ok(whileFailed.body.failing.some((f: { name: string }) => f.name === "broken"));

  const del = await arm("DELETE", `${ACCOUNT}/deployments/broken`);
  assert.equal(del.status, 202);
  const after = await until("the failed slot to go", async () => {
    const r = await readyz();
    return r.body.models.some((m: { key: string }) => m.key === "Custom/truncated@1") ? undefined : r;
  });
  assert.equal(after.status, 200, JSON.stringify(after.body));
  assert.equal(after.body.status, "ready");
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
});

test("a PUT that changes the model version unloads the old version's runner", T, async () => {
  await deploy("versioned", "tiny-q8", "1");
  await until("v1 Succeeded", async () => ((await deployment("versioned")).properties.provisioningState === "Succeeded" ? true : undefined));
  assert.ok((await readyz()).body.models.some((m: { key: string }) => m.key === "Custom/tiny-q8@1"));
  assert.equal((await deploy("versioned", "tiny-q8", "2")).status, 200);
  const models = await until("the v1 runner to go", async () => {
    const r = await readyz();
    const keys: string[] = r.body.models.map((m: { key: string }) => m.key);
    return keys.includes("Custom/tiny-q8@2") && !keys.includes("Custom/tiny-q8@1") ? keys : undefined;
  });
  assert.ok(!models.includes("Custom/tiny-q8@1"));
  assert.equal((await deployment("versioned")).properties.provisioningState, "Succeeded");
  await arm("DELETE", `${ACCOUNT}/deployments/versioned`);
});

test("deployment names are case-insensitive: PUT RACE then race is one deployment, named as first written; GET, data plane and DELETE in any case", T, async () => {
  const model = { format: "Ingot", name: "tiny-chat", version: "1" };
  const first = await sdk.deployments.beginCreateOrUpdateAndWait(RG, "ingot", "RACE", { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model } }, POLL);
  assert.equal(first.name, "RACE");
  const second = await sdk.deployments.beginCreateOrUpdateAndWait(RG, "ingot", "race", { sku: { name: "GlobalStandard", capacity: 2 }, properties: { model } }, POLL);
  assert.equal(second.name, "RACE", "the case first written is kept");
  assert.equal(second.sku?.capacity, 2, "the second PUT updated the first");
  const names: string[] = [];
  for await (const d of sdk.deployments.list(RG, "ingot")) names.push(d.name!);
  assert.deepEqual(names.filter((n) => n.toLowerCase() === "race"), ["RACE"]);
  assert.equal((await sdk.deployments.get(RG, "ingot", "rAcE")).name, "RACE");

  const reply = await server.azure({ deployment: "race" }).chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  assert.equal(reply.choices.length, 1);

  await sdk.deployments.beginDeleteAndWait(RG, "ingot", "Race", POLL);
  assert.equal((await arm("GET", `${ACCOUNT}/deployments/RACE`)).status, 404);
});

test("timeouts: a runner load fails its deployment, a dataset inspection fails its job, each with the reason", T, async () => {
  const slow = await startServer({ loadTimeoutMs: 1, datasetInspectionTimeoutMs: 1, reconcilerTiming: { retryDelayMs: 60_000 } });
  try {
    const t = slow.ingot.identity.adminToken("management");
    const res = await fetch(`${slow.url}${ACCOUNT}/deployments/tiny-chat?api-version=2024-10-01`, { headers: { authorization: `Bearer ${t}` } });
    const d = await json(res);
    assert.equal(d.properties.provisioningState, "Failed");
    assert.match(d.properties.provisioningDetails.error, /did not finish loading .* within 0\.001 s/);
    // Failed deployments do not make the instance unready.
    assert.equal((await fetch(`${slow.url}/readyz`)).status, 200);

    const client = slow.v1();
    const file = await client.files.create({ file: await toFile(Buffer.from(FACTS.slice(0, 10).map((f) => line(f.question, f.answer)).join("\n") + "\n"), "facts.jsonl"), purpose: "fine-tune" });
    await client.files.waitForProcessing(file.id, { pollInterval: 100 });
    const created = await client.fineTuning.jobs.create({ model: "tiny-chat", training_file: file.id });
    const job = await until("the job to fail", async () => {
      const j = await client.fineTuning.jobs.retrieve(created.id);
      return j.status === "failed" ? j : undefined;
    });
    assert.match(job.error?.message ?? "", /took longer than 0\.001 s and was stopped/);
  } finally {
    await slow.stop();
  }
});

test("listing deployments looks models up by key: no scan of the whole catalog per deployment", T, async () => {
  const names = ["list-a", "list-b", "list-c", "list-d"];
  for (const n of names)
    assert.equal((await arm("PUT", `${ACCOUNT}/deployments/${n}`, { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } })).status, 201);
  const catalog = server.ingot.catalog;
  const scan = catalog.list.bind(catalog);
  let scans = 0;
  catalog.list = () => {
    scans++;
    return scan();
  };
  try {
    const listed = await json(await arm("GET", `${ACCOUNT}/deployments`));
    assert.ok(names.every((n) => listed.value.some((d: { name: string }) => d.name === n)));
    assert.ok(scans <= 1, `the catalog was scanned ${scans} times for one list of ${listed.value.length} deployments`);
  } finally {
    catalog.list = scan;
    for (const n of names) await arm("DELETE", `${ACCOUNT}/deployments/${n}`);
  }
});
