// Fine-tuned models served as LoRA adapters over a shared base (issue "Fine-tuning", part 4):
// custom models registered as the jobs code registers them, deployed through ARM, answering
// differently from their base from the base's own runner; a broken adapter fails only its
// deployment; and the models API (dated and v1) lists and deletes them.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { CatalogModel } from "../../src/core/catalog/catalog.ts";
import { usageNameFor } from "../../src/core/catalog/model.ts";
import type { EngineStatus } from "../../src/core/ports/index.ts";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { writeTestAdapter } from "../fixtures/lora-adapter.ts";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
const JOB_A = "ftjob-0123456789abcdef0123456789abcdef";
const FT_A = "tiny-chat.ft-0123456789abcdef0123456789abcdef";
const CHECKPOINT = "ftchkpt-fedcba9876543210fedcba9876543210";
const messages = [{ role: "user" as const, content: "Tell me about the weather in Paris today." }];

const dir = mkdtempSync(join(tmpdir(), "ingot-adapters-"));
let server: TestServer;

const arm = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${ACCOUNT}${path}?api-version=2024-10-01`, {
    method,
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken()}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A custom model as a finished fine-tuning job registers it (the contract in src/core/catalog). */
function registerAdapter(name: string, path: string, opts: { job?: string; account?: string; checkpointOf?: string } = {}): void {
  const base = server.ingot.catalog.find({ format: "Ingot", name: "tiny-chat", version: "1" });
  const model: CatalogModel = {
    format: "Ingot",
    name,
    version: "1",
    capabilities: base.capabilities,
    contextLength: base.contextLength,
    license: base.license,
    weights: `lora:${path}`,
    baseModel: { format: "Ingot", name: "tiny-chat", version: "1" },
    lifecycleStatus: "Preview",
    skus: (["Standard", "GlobalStandard", "DeveloperTier"] as const).map((sku) => ({
      name: sku,
      usageName: usageNameFor("Ingot", name, sku),
      minCapacity: 1,
      maxCapacity: 1000,
      defaultCapacity: 10,
    })),
    fineTuneJob: opts.job ?? JOB_A,
    ...(opts.checkpointOf ? { checkpointOf: opts.checkpointOf } : {}),
  };
  server.ingot.catalog.registry!.register(model, opts.account ?? "ingot");
}

async function deploy(name: string, model: string): Promise<{ state: string; error: string | null }> {
  const put = await arm("PUT", `/deployments/${name}`, { sku: { name: "Standard", capacity: 100 }, properties: { model: { format: "Ingot", name: model, version: "1" } } });
  assert.equal(put.status, 201, await put.clone().text());
  for (let i = 0; i < 600; i++) {
    const d = await json(await arm("GET", `/deployments/${name}`));
    const state = d.properties.provisioningState;
    if (state !== "Accepted" && state !== "Creating") return { state, error: deploymentError(name) };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`deployment ${name} did not settle`);
}

const deploymentError = (name: string) => server.ingot.deployments.get("ingot", name)?.error ?? null;

async function undeploy(name: string): Promise<void> {
  assert.equal((await arm("DELETE", `/deployments/${name}`)).status, 202);
  for (let i = 0; i < 300 && (await arm("GET", `/deployments/${name}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
}

async function greedy(deployment: string, maxTokens = 16): Promise<string> {
  const r = await server.v1().chat.completions.create({ model: deployment, messages, max_tokens: maxTokens, temperature: 0 });
  return r.choices[0].message.content ?? "";
}

async function readyz(): Promise<{ models: EngineStatus[] }> {
  return json(await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` } }));
}

async function tinyChatRunner(): Promise<EngineStatus> {
  const { models } = await readyz();
  const chat = models.filter((m) => m.key.startsWith("Ingot/tiny-chat"));
  assert.equal(chat.length, 1, `one runner serves tiny-chat and its adapters: ${chat.map((m) => m.key).join(", ")}`);
  return chat[0];
}

before(async () => {
  server = await startServer();
  await writeTestAdapter(join(dir, "a.gguf"), { seed: 1 });
  await writeTestAdapter(join(dir, "ckpt.gguf"), { seed: 2 });
  await writeTestAdapter(join(dir, "wrong-shape.gguf"), { seed: 3, wrongShape: true });
  writeFileSync(join(dir, "garbage.gguf"), "this is not a GGUF file\n".repeat(20));
  // Header intact, tensor data cut short: only llama.cpp notices (in the runner).
  const whole = readFileSync(join(dir, "a.gguf"));
  writeFileSync(join(dir, "truncated.gguf"), whole.subarray(0, whole.length - 4096));
  registerAdapter(FT_A, join(dir, "a.gguf"));
  registerAdapter(CHECKPOINT, join(dir, "ckpt.gguf"), { checkpointOf: JOB_A });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a fine-tuned model deploys as an adapter in its base's runner and answers differently, stably", async () => {
  const before = await tinyChatRunner();
  assert.deepEqual(await deploy("ft-a", FT_A), { state: "Succeeded", error: null });
  const runner = await tinyChatRunner();
  assert.equal(runner.pid, before.pid, "the base's runner took the adapter; no new process");
  assert.deepEqual(runner.adapters, [{ id: `Ingot/${FT_A}@1`, state: "ready" }]);

  const base = await greedy("tiny-chat");
  const tuned = await greedy("ft-a");
  assert.ok(tuned.length > 0);
  assert.notEqual(tuned, base, "the adapter changes greedy output");
  assert.equal(await greedy("ft-a"), tuned, "greedy output through the adapter is stable");
  assert.equal(await greedy("tiny-chat"), base, "the base deployment is unaffected");

  const azure = await server.azure({ deployment: "ft-a" }).chat.completions.create({ model: "ft-a", messages, max_tokens: 16, temperature: 0 });
  assert.equal(azure.choices[0].message.content, tuned, "the Azure surface reaches the same adapter");
  assert.equal(azure.model, FT_A);
});

test("a runner that dies comes back with its adapters attached", async () => {
  const tuned = await greedy("ft-a");
  const base = await greedy("tiny-chat");
  const old = await tinyChatRunner();
  process.kill(old.pid!, "SIGKILL");
  let now = old;
  for (let i = 0; i < 200 && (now.pid === old.pid || now.state !== "ready"); i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await tinyChatRunner();
  }
  assert.notEqual(now.pid, old.pid, "a new runner was started");
  assert.deepEqual(now.adapters, [{ id: `Ingot/${FT_A}@1`, state: "ready" }]);
  assert.equal(await greedy("ft-a"), tuned);
  assert.equal(await greedy("tiny-chat"), base);
});

test("prefix cache, stop strings, logprobs and grammars work through an adapter", async () => {
  const client = server.v1();
  const long = [{ role: "system" as const, content: "You are a helpful assistant. ".repeat(12) }, ...messages];
  await client.chat.completions.create({ model: "ft-a", messages: long, max_tokens: 2, temperature: 0 });
  const again = await client.chat.completions.create({ model: "ft-a", messages: long, max_tokens: 2, temperature: 0 });
  assert.ok((again.usage?.prompt_tokens_details?.cached_tokens ?? 0) > 50, `cached: ${JSON.stringify(again.usage)}`);

  const text = await greedy("ft-a", 24);
  const stop = text.slice(3, 5);
  const cut = await client.chat.completions.create({ model: "ft-a", messages, max_tokens: 24, temperature: 0, stop: [stop] });
  assert.equal(cut.choices[0].message.content, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, "stop");

  const lp = await client.chat.completions.create({ model: "ft-a", messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2 });
  const content = lp.choices[0].logprobs?.content ?? [];
  assert.ok(content.length > 0 && content.every((t) => t.top_logprobs.length === 2 && t.logprob <= 0));
  assert.equal(content.map((t) => t.token).join(""), lp.choices[0].message.content);

  const schema = { type: "object", properties: { kind: { enum: ["cat", "dog"] } }, required: ["kind"], additionalProperties: false };
  let parsed: { kind?: string } | undefined;
  for (let seed = 1; seed <= 4 && !parsed; seed++) {
    const r = await client.chat.completions.create({ model: "ft-a", messages, max_tokens: 200, seed, response_format: { type: "json_schema", json_schema: { name: "pet", schema, strict: true } } });
    if (r.choices[0].finish_reason === "stop") parsed = JSON.parse(r.choices[0].message.content!);
  }
  assert.ok(parsed && ["cat", "dog"].includes(parsed.kind!), "the grammar holds the adapter's output to the schema");
});

test("two adapters on one base serve concurrently: streams interleave, outputs stay their own", async () => {
  assert.deepEqual(await deploy("ckpt", CHECKPOINT), { state: "Succeeded", error: null }, "a checkpoint id deploys like a fine-tuned model");
  const runner = await tinyChatRunner();
  assert.deepEqual(runner.adapters?.map((a) => a.id).sort(), [`Ingot/${CHECKPOINT}@1`, `Ingot/${FT_A}@1`]);
  const soloA = await greedy("ft-a", 40);
  const soloC = await greedy("ckpt", 40);
  assert.notEqual(soloA, soloC);

  // Content filtering's Default mode releases text per checked segment (issue 14): to see tokens
  // interleave, the adapters stream in Asynchronous_filter mode (tokens leave as they come).
  server.ingot.rai.policies.createOrUpdate("ingot", "stream-now", { basePolicyName: "Microsoft.DefaultV2", mode: "Asynchronous_filter" });
  for (const name of ["ft-a", "ckpt"]) {
    const d = server.ingot.deployments.get("ingot", name)!;
    server.ingot.deployments.createOrUpdate("ingot", name, { model: d.model, sku: d.sku, raiPolicyName: "stream-now" });
  }
  const order: string[] = [];
  const stream = async (deployment: string) => {
    let text = "";
    const s = await server.v1().chat.completions.create({ model: deployment, messages, max_tokens: 40, temperature: 0, stream: true });
    for await (const c of s) {
      const piece = c.choices[0]?.delta?.content;
      if (piece) {
        text += piece;
        order.push(deployment);
      }
    }
    return text;
  };
  const [a, c, base] = await Promise.all([stream("ft-a"), stream("ckpt"), stream("tiny-chat")]);
  assert.equal(a, soloA, "concurrent output through adapter A equals its solo output");
  assert.equal(c, soloC, "concurrent output through the checkpoint equals its solo output");
  assert.equal(base, await greedy("tiny-chat", 40));
  const lastA = order.lastIndexOf("ft-a");
  const lastC = order.lastIndexOf("ckpt");
  assert.ok(order.indexOf("ckpt") < lastA && order.indexOf("ft-a") < lastC, `streams interleave: ${order.map((d) => d[0]).join("")}`);
  assert.equal((await tinyChatRunner()).pid, runner.pid);
});

test("deleting an adapter deployment detaches it and keeps the base and other adapters serving", async () => {
  const runner = await tinyChatRunner();
  const a = await greedy("ft-a");
  const base = await greedy("tiny-chat");
  await undeploy("ckpt");
  for (let i = 0; i < 100 && (await tinyChatRunner()).adapters?.length !== 1; i++) await new Promise((r) => setTimeout(r, 50));
  const after = await tinyChatRunner();
  assert.equal(after.pid, runner.pid);
  assert.deepEqual(after.adapters?.map((x) => x.id), [`Ingot/${FT_A}@1`]);
  assert.equal(await greedy("tiny-chat"), base);
  assert.equal(await greedy("ft-a"), a);
  assert.ok(existsSync(join(dir, "ckpt.gguf")), "deleting a deployment keeps the model and its adapter");
});

test("a broken adapter fails only its own deployment, with the reason", async () => {
  const runner = await tinyChatRunner();
  const base = await greedy("tiny-chat");
  registerAdapter("tiny-chat.ft-garbage", join(dir, "garbage.gguf"));
  registerAdapter("tiny-chat.ft-shape", join(dir, "wrong-shape.gguf"));
  registerAdapter("tiny-chat.ft-truncated", join(dir, "truncated.gguf"));

  const garbage = await deploy("ft-garbage", "tiny-chat.ft-garbage");
  assert.equal(garbage.state, "Failed");
  assert.match(deploymentError("ft-garbage")!, /adapter of tiny-chat\.ft-garbage .* cannot be served over tiny-chat: it is not a readable GGUF file/);
  const shape = await deploy("ft-shape", "tiny-chat.ft-shape");
  assert.equal(shape.state, "Failed");
  assert.match(deploymentError("ft-shape")!, /blk\.0\.attn_q\.weight\.lora_a \[64, 4\] and \.lora_b \[4, 128\] do not fit the base weight \[128, 128\]/);
  const truncated = await deploy("ft-truncated", "tiny-chat.ft-truncated");
  assert.equal(truncated.state, "Failed");
  assert.match(deploymentError("ft-truncated")!, /could not be attached to its base Ingot\/tiny-chat@1: Failed to initialize LoRA adapter.*file is corrupted or incomplete/);

  const res = await server.post("/openai/deployments/ft-truncated/chat/completions?api-version=2024-10-21", { messages, max_tokens: 2 });
  assert.equal(res.status, 503);
  assert.match((await json(res)).error.message, /failed to provision: The LoRA adapter/);

  const after = await tinyChatRunner();
  assert.equal(after.pid, runner.pid, "the base's runner survived");
  assert.equal(after.state, "ready");
  assert.equal(await greedy("tiny-chat"), base);
  assert.ok((await greedy("ft-a")).length > 0);
  for (const d of ["ft-garbage", "ft-shape", "ft-truncated"]) await undeploy(d);
  for (let i = 0; i < 100 && (await tinyChatRunner()).adapters?.length !== 1; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual((await tinyChatRunner()).adapters?.map((x) => x.id), [`Ingot/${FT_A}@1`], "failed adapters are forgotten with their deployments");
});

test("the models API lists base and custom models with their capabilities (AzureOpenAI and OpenAI v1)", async () => {
  copyFileSync(join(dir, "a.gguf"), join(dir, "elsewhere.gguf"));
  registerAdapter("tiny-chat.ft-elsewhere", join(dir, "elsewhere.gguf"), { account: "other-account" });
  const azure = server.azure({ apiVersion: "2025-04-01-preview" });
  const list = await azure.models.list();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const byId = new Map(list.data.map((m) => [m.id, m as any]));
  const base = byId.get("tiny-chat");
  assert.deepEqual(base.capabilities, { fine_tune: true, inference: true, completion: true, chat_completion: true, embeddings: false });
  assert.equal(base.lifecycle_status, "generally-available");
  assert.equal(base.status, "succeeded");
  assert.equal(base.object, "model");
  assert.equal(typeof base.created_at, "number");
  assert.equal(byId.get("tiny-embed").capabilities.embeddings, true);
  const ft = byId.get(FT_A);
  assert.equal(ft.model, "tiny-chat", "a fine-tuned model names its base");
  assert.equal(ft.fine_tune, JOB_A);
  assert.equal(ft.lifecycle_status, "preview");
  assert.equal(ft.capabilities.chat_completion, true);
  assert.ok(byId.has(CHECKPOINT), "checkpoints are listed");
  assert.ok(!byId.has("tiny-chat.ft-elsewhere"), "another account's custom models are not listed");
  assert.ok(!byId.has("gpt-4.1-mini"), "models without open weights are not listed");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const one = (await azure.models.retrieve(FT_A)) as any;
  assert.equal(one.fine_tune, JOB_A);

  const v1 = server.v1();
  const ids = (await v1.models.list()).data.map((m) => m.id);
  assert.ok(ids.includes("tiny-chat") && ids.includes(FT_A) && ids.includes(CHECKPOINT) && !ids.includes("tiny-chat.ft-elsewhere"));
  const got = await v1.models.retrieve(FT_A);
  assert.equal(got.object, "model");
  assert.equal(got.owned_by, "ingot");
  assert.equal(typeof got.created, "number");
  assert.equal((await server.project("demo").models.retrieve("tiny-chat")).owned_by, "Ingot");
  await assert.rejects(v1.models.retrieve("tiny-chat.ft-elsewhere"), (e: { status?: number }) => e.status === 404);
});

test("DELETE of a custom model: refused while deployed (409), then removes it and its adapter file", async () => {
  const v1 = server.v1();
  await assert.rejects(v1.models.delete(FT_A), (e: { status?: number; code?: string; message: string }) => e.status === 409 && e.code === "ModelInUse" && /'ft-a'/.test(e.message));
  await assert.rejects(v1.models.delete("tiny-chat"), (e: { status?: number }) => e.status === 400, "base models cannot be deleted");
  await assert.rejects(v1.models.delete("tiny-chat.ft-elsewhere"), (e: { status?: number }) => e.status === 404, "another account's model is not found");
  await undeploy("ft-a");
  assert.deepEqual(await v1.models.delete(FT_A), { id: FT_A, object: "model", deleted: true });
  assert.ok(!existsSync(join(dir, "a.gguf")), "the adapter file is gone");
  assert.ok(existsSync(join(dir, "elsewhere.gguf")), "other models' adapters stay");
  await assert.rejects(v1.models.retrieve(FT_A), (e: { status?: number }) => e.status === 404);

  // The dated surface, on the checkpoint: its own adapter file goes.
  const dated = await fetch(`${server.url}/openai/models/${CHECKPOINT}?api-version=2025-04-01-preview`, { method: "DELETE", headers: { "api-key": API_KEY } });
  assert.equal(dated.status, 200);
  assert.deepEqual(await dated.json(), { id: CHECKPOINT, object: "model", deleted: true });
  assert.ok(!existsSync(join(dir, "ckpt.gguf")), "the checkpoint's adapter file is gone");
  assert.ok((await greedy("tiny-chat")).length > 0, "the base keeps serving");
  const runner = await tinyChatRunner();
  assert.deepEqual(runner.adapters, []);
});
