// Upstream engines (issue 16 item 5) end to end: models catalogued with "engine": "upstream"
// through --catalog-dir (IngotOptions.catalogDirs), served by a real llama-server (built from the
// llama.cpp source node-llama-cpp ships: bench/llama-cpp-build.ts) in a pool with a dead endpoint,
// and by a second Ingot. All three surfaces, streaming with usage, JSON schema, content-filter
// annotations, rate-limit headers, metrics; a fine-tuned model's LoRA adapter applied per request
// by llama-server; and the faults: an upstream that is down, slow, sends garbage, or closes
// mid-stream gives an Azure-shaped error (never a hang, never a reply marked complete) and the
// server lives on.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { ensurePortableLlamaServer } from "../../bench/llama-cpp-build.ts";
import type { CatalogModel } from "../../src/core/catalog/catalog.ts";
import { usageNameFor } from "../../src/core/catalog/model.ts";
import { ensureBuiltinModel } from "../../src/models/builtin/recipes.ts";
import { writeTestAdapter } from "../fixtures/lora-adapter.ts";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { freePort } from "../support/free-port.ts";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
const KEY_ENV = "INGOT_E2E_UPSTREAM_KEY";
const dir = mkdtempSync(join(tmpdir(), "ingot-upstream-"));
let gateway: TestServer;
let second: TestServer;
let llama: ChildProcess | undefined;
const fakes: Server[] = [];

async function listen(server: Server): Promise<string> {
  fakes.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

/** A fake upstream that answers health checks and does `chat` for everything else. */
const fake = (chat: (res: import("node:http").ServerResponse) => void) =>
  listen(createServer((req, res) => (req.url === "/v1/models" ? res.end('{"data":[]}') : req.on("end", () => chat(res)).resume())));

const entry = (name: string, upstream: Record<string, unknown>, extra: Partial<CatalogModel> = {}) => ({
  format: "Meta",
  name,
  version: "1",
  capabilities: ["chatCompletion", "completion", "jsonSchema", "tools"],
  contextLength: 2048,
  weights: "none",
  skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 10 }],
  lifecycleStatus: "Preview",
  license: "MIT",
  upstream,
  ...extra,
});

const arm = (method: string, path: string, body?: unknown) =>
  fetch(`${gateway.url}${ACCOUNT}${path}?api-version=2024-10-01`, {
    method,
    headers: { authorization: `Bearer ${gateway.ingot.identity.adminToken()}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function deploy(name: string, model: string, format = "Meta"): Promise<{ state: string; error: string | null }> {
  const put = await arm("PUT", `/deployments/${name}`, { sku: { name: "GlobalStandard", capacity: 100 }, properties: { model: { format, name: model, version: "1" } } });
  assert.ok(put.status === 200 || put.status === 201, await put.text());
  const deadline = Date.now() + 60_000;
  for (;;) {
    const d = await json(await arm("GET", `/deployments/${name}`));
    const state = d.properties.provisioningState;
    if (state === "Succeeded" || state === "Failed") return { state, error: d.properties.provisioningDetails?.error ?? d.properties.error?.message ?? JSON.stringify(d.properties) };
    if (Date.now() > deadline) assert.fail(`deployment ${name} still ${state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let adapterPath: string;
let llamaUrl: string;

before(async () => {
  const built = await ensurePortableLlamaServer(() => {}).catch((e: Error) => {
    throw new Error(`llama-server could not be built (cmake and a C++ compiler are needed; \`node bench/build-llama-server.ts\` builds it): ${e.message}`);
  });
  const tinyChat = await ensureBuiltinModel("tiny-chat", join(dir, "models"));
  adapterPath = await writeTestAdapter(join(dir, "ft-upstream.gguf"), { seed: 7 });
  const port = await freePort();
  // The adapter is loaded at start but applied only where a request asks for it (Ingot sends lora [] for the base).
  llama = spawn(built.llamaServer, ["-m", tinyChat.path, "--host", "127.0.0.1", "--port", String(port), "-c", "4096", "-np", "4", "-t", "1", "--lora", adapterPath, "--lora-init-without-apply"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  llama.stderr!.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (llama.exitCode !== null || llama.signalCode) throw new Error(`llama-server exited (${llama.exitCode ?? llama.signalCode}): ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`llama-server did not become healthy: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  llamaUrl = `http://127.0.0.1:${port}/v1`;
  second = await startServer();
  process.env[KEY_ENV] = API_KEY;
  // Nothing listens on port 1 (a free port from freePort() could be handed to the fakes below).
  const dead = "http://127.0.0.1:1/v1";
  const garbage = await fake((res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end("data: {this is not json\n\n");
  });
  const cut = await fake((res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "half an ans" } }] })}\n\n`);
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const slow = await fake(() => {}); // never answers
  const catalogDir = join(dir, "catalog");
  mkdirSync(catalogDir);
  writeFileSync(
    join(catalogDir, "upstreams.json"),
    JSON.stringify({
      models: [
        entry("up-llama", { baseUrl: [`http://127.0.0.1:${port}/v1`, dead], model: "tiny-chat" }),
        entry("up-ingot", { baseUrl: `${second.url}/openai/v1`, model: "tiny-chat", apiKeyEnv: KEY_ENV }),
        entry("up-garbage", { baseUrl: garbage, model: "x" }),
        entry("up-cut", { baseUrl: cut, model: "x" }),
        entry("up-slow", { baseUrl: slow, model: "x", timeoutMs: 1_000 }),
        entry("up-down", { baseUrl: dead, model: "x" }),
      ],
    }),
  );
  gateway = await startServer({ catalogDirs: [catalogDir], reconcilerTiming: { retryDelayMs: 60_000 } });
  for (const name of ["up-llama", "up-ingot", "up-garbage", "up-cut", "up-slow"]) assert.equal((await deploy(name, name)).state, "Succeeded", name);
});

after(async () => {
  await gateway?.stop();
  await second?.stop();
  llama?.kill();
  for (const f of fakes) f.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env[KEY_ENV];
});

test("a llama-server upstream on all three surfaces: the deployment's model, usage, content filtering, rate-limit headers", async () => {
  // Azure OpenAI (path deployment), non-streamed.
  const res = await fetch(`${gateway.url}/openai/deployments/up-llama/chat/completions?api-version=2024-10-21`, {
    method: "POST",
    headers: { "api-key": API_KEY, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Hello there" }], max_tokens: 8, temperature: 0 }),
  });
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.model, "up-llama");
  assert.ok(body.usage.prompt_tokens > 0 && body.usage.completion_tokens > 0 && body.usage.completion_tokens <= 8, JSON.stringify(body.usage));
  assert.ok(body.prompt_filter_results?.[0]?.content_filter_results, "content filtering annotates the prompt");
  assert.ok(res.headers.get("x-ratelimit-remaining-tokens"), "rate limits apply");

  // OpenAI v1, streamed, usage asked for.
  const v1 = new OpenAI({ baseURL: `${gateway.url}/openai/v1`, apiKey: API_KEY, maxRetries: 0 });
  const stream = await v1.chat.completions.create({ model: "up-llama", messages: [{ role: "user", content: "Hi" }], max_tokens: 6, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.choices.length) assert.equal(chunk.model, "up-llama"); // the first chunk (prompt annotations) has none, as on Azure
    text += chunk.choices[0]?.delta?.content ?? "";
    usage = chunk.usage ?? usage;
  }
  assert.ok(text.length > 0);
  assert.ok(usage && usage.completion_tokens > 0);

  // Azure AI model inference.
  const inf = await gateway.post("/models/chat/completions?api-version=2024-05-01-preview", { model: "up-llama", messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
  assert.equal(inf.status, 200);
  assert.equal((await json(inf)).model, "up-llama");

  // Text completions.
  const comp = await gateway.post("/openai/deployments/up-llama/completions?api-version=2024-10-21", { prompt: "Once upon", max_tokens: 4 });
  const cbody = await json(comp);
  assert.equal(comp.status, 200, JSON.stringify(cbody));
  assert.equal(typeof cbody.choices[0].text, "string");
});

test("JSON schema is enforced upstream", async () => {
  const res = await gateway.post("/openai/v1/chat/completions", {
    model: "up-llama",
    messages: [{ role: "user", content: "Give me a city." }],
    max_tokens: 60,
    response_format: { type: "json_schema", json_schema: { name: "city", strict: true, schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"], additionalProperties: false } } },
  });
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  if (body.choices[0].finish_reason === "stop") assert.equal(typeof JSON.parse(body.choices[0].message.content).ok, "boolean");
});

test("a fine-tuned model over an upstream base: llama-server applies its adapter per request", async () => {
  const base = gateway.ingot.catalog.find({ format: "Meta", name: "up-llama", version: "1" });
  const name = "up-llama.ft-0123456789abcdef0123456789abcdef";
  gateway.ingot.catalog.registry!.register(
    {
      format: "Meta",
      name,
      version: "1",
      capabilities: base.capabilities,
      contextLength: base.contextLength,
      license: base.license,
      weights: `lora:${adapterPath}`,
      baseModel: { format: "Meta", name: "up-llama", version: "1" },
      lifecycleStatus: "Preview",
      skus: [{ name: "GlobalStandard", usageName: usageNameFor("Meta", name, "GlobalStandard"), minCapacity: 1, maxCapacity: 1000, defaultCapacity: 10 }],
      fineTuneJob: "ftjob-0123456789abcdef0123456789abcdef",
    },
    "ingot",
  );
  const d = await deploy("up-ft", name);
  assert.equal(d.state, "Succeeded", d.error ?? "");
  // The first token's logprob: the fixture adapter shifts it (greedy text may not change on so tiny a model).
  const ask = async (model: string): Promise<number> => {
    const body = await json(await gateway.post("/openai/v1/chat/completions", { model, messages: [{ role: "user", content: "Tell me about the weather in Paris today." }], max_tokens: 2, temperature: 0, logprobs: true }));
    assert.equal(body.model, model === "up-ft" ? name : "up-llama");
    return body.choices[0].logprobs.content[0].logprob;
  };
  const plain = await ask("up-llama");
  const tuned = await ask("up-ft");
  assert.ok(Math.abs(tuned - plain) > 1e-4, `the adapter changes the logits (${tuned} vs ${plain})`);
  assert.ok(Math.abs((await ask("up-llama")) - plain) < 1e-5, "the base stays the base after an adapter request");
});

test("another Ingot as the upstream: its answer under this deployment's name, with its usage", async () => {
  const client = gateway.azure({ deployment: "up-ingot" });
  const r = await client.chat.completions.create({ model: "up-ingot", messages: [{ role: "user", content: "Hello" }], max_tokens: 5 });
  assert.equal(r.model, "up-ingot");
  assert.ok(r.usage!.prompt_tokens > 0 && r.usage!.completion_tokens > 0);
  assert.ok(r.choices[0].message.content !== null);
});

test("faults: garbage, a stream cut mid-reply, a slow and a down upstream give Azure-shaped errors; the server lives on", async () => {
  const started = Date.now();
  const garbage = await gateway.post("/openai/v1/chat/completions", { model: "up-garbage", messages: [{ role: "user", content: "Hi" }] });
  const g = await json(garbage);
  assert.equal(garbage.status, 503);
  assert.equal(g.error.code, "UpstreamInvalidResponse");

  // Streamed: an error event (the half answer may have gone out, or be held by the content filter), never [DONE].
  const cut = await gateway.post("/openai/v1/chat/completions", { model: "up-cut", messages: [{ role: "user", content: "Hi" }], stream: true });
  assert.equal(cut.status, 200);
  const events = await cut.text();
  assert.match(events, /"code":"UpstreamClosed"/);
  assert.doesNotMatch(events, /\[DONE\]/);
  assert.doesNotMatch(events, /"finish_reason":"stop"/);
  // Not streamed: no partial answer at all.
  const cutWhole = await gateway.post("/openai/v1/chat/completions", { model: "up-cut", messages: [{ role: "user", content: "Hi" }] });
  assert.equal(cutWhole.status, 503);
  assert.equal((await json(cutWhole)).error.code, "UpstreamClosed");

  const slow = await gateway.post("/openai/deployments/up-slow/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "Hi" }] });
  assert.equal(slow.status, 503);
  assert.equal((await json(slow)).error.code, "UpstreamTimeout");
  assert.ok(Date.now() - started < 15_000, "no hang");

  const down = await deploy("up-down", "up-down");
  assert.equal(down.state, "Failed");
  assert.match(down.error ?? "", /No endpoint of the upstream answers: http:\/\/127\.0\.0\.1:1\/v1: .*ECONNREFUSED/);
  const refused = await gateway.post("/openai/v1/chat/completions", { model: "up-down", messages: [{ role: "user", content: "Hi" }] });
  assert.ok(refused.status >= 400 && refused.status < 600);
  assert.ok((await json(refused)).error.message);

  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
  const ok = await gateway.post("/openai/v1/chat/completions", { model: "up-llama", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });
  assert.equal(ok.status, 200);
});

test("ingot models add --upstream-url registers a model that deploys and answers", async () => {
  const bin = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, "models", "add", ...args, "--data-dir", gateway.dataDir], (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    );
  const added = await cli(["--upstream-url", llamaUrl, "--upstream-model", "tiny-chat", "--name", "up-cli", "--format", "Meta", "--context-length", "2048", "-o", "json"]);
  assert.equal(added.code, 0, added.stderr);
  const model = JSON.parse(added.stdout);
  assert.equal(model.engine, "upstream");
  assert.equal(model.upstream.baseUrl, llamaUrl);
  assert.equal((await deploy("up-cli", "up-cli")).state, "Succeeded");
  const r = await gateway.post("/openai/v1/chat/completions", { model: "up-cli", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });
  assert.equal(r.status, 200);
  assert.equal((await json(r)).model, "up-cli");

  const bad = await cli(["--upstream-url", "ftp://x/v1", "--upstream-model", "m", "--name", "up-bad", "--format", "Meta"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /must use http or https/);

  // ingot up --catalog-dir with a malformed entry: the file and field, exit 2, nothing started.
  const badDir = join(dir, "bad-catalog");
  mkdirSync(badDir);
  writeFileSync(join(badDir, "x.json"), JSON.stringify({ models: [entry("up-x", { baseUrl: "http://h/v1" })] }));
  const up = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [bin, "up", "--catalog-dir", badDir, "--data-dir", join(dir, "bad-data")], { timeout: 60_000 }, (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr })),
  );
  assert.equal(up.code, 2);
  assert.match(up.stderr, /--catalog-dir: .*x\.json: models\[0\]\.upstream\.model: must be/);
});

test("metrics count upstream deployments like local ones", async () => {
  const admin = { authorization: `Bearer ${gateway.ingot.identity.adminToken("management")}` };
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: admin })).text();
  assert.match(text, /deployment="up-llama"/);
  assert.ok(existsSync(adapterPath));
});
