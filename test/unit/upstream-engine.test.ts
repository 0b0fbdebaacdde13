// The upstream engine against a scripted fake OpenAI-compatible server: streaming, tool calls,
// usage (reported, counted with /tokenize, estimated), the pool (least outstanding, failover on
// connection errors and 5xx), faults (garbage, closed mid-stream, slow) and LoRA selection for
// llama-server (`lora` ids) and vLLM (load_lora_adapter, adapter as model name).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { validateCatalogModel } from "../../src/core/catalog/validate.ts";
import { IngotError } from "../../src/core/errors.ts";
import type { EngineEvent, GenerateParams } from "../../src/core/ports/index.ts";
import { UpstreamEngine } from "../../src/engines/upstream/engine.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function fake(handler: Handler): Promise<{ url: string; requests: { path: string; body: any }[] }> {
  const requests: { path: string; body: any }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", body: body ? JSON.parse(body) : undefined });
      handler(req, body, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

const sse = (res: ServerResponse, chunks: unknown[], done = true) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const c of chunks) res.write(`data: ${JSON.stringify(c)}\n\n`);
  if (done) res.write("data: [DONE]\n\n");
  res.end();
};
const delta = (content: string, finish: string | null = null) => ({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

/** A well-behaved server: /models, chat streams "Hello world", optional usage, optional /tokenize. */
function standard(opts: { usage?: boolean; tokenize?: boolean; loras?: { id: number; path: string }[] } = {}): Handler {
  return (req, _body, res) => {
    if (req.url === "/v1/models") return res.end(JSON.stringify({ data: [{ id: "m" }] }));
    if (req.url === "/tokenize" && opts.tokenize) return res.end(JSON.stringify({ tokens: [1, 2, 3] }));
    if (req.url === "/lora-adapters" && opts.loras) return res.end(JSON.stringify(opts.loras));
    if (req.url === "/v1/chat/completions")
      return sse(res, [delta("Hello"), delta(" world", "stop"), ...(opts.usage ? [{ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } }] : [])]);
    res.writeHead(404).end("{}");
  };
}

const chat = (content = "Hi"): GenerateParams => ({
  input: { kind: "chat", messages: [{ role: "user", content }], tools: [], toolChoice: "auto", parallelToolCalls: true, responseFormat: { type: "text" } },
  maxTokens: 16,
  sampling: { temperature: 0, topP: 1, presencePenalty: 0, frequencyPenalty: 0, logitBias: {} },
  stop: [],
  logprobs: null,
});

async function collect(it: AsyncIterable<EngineEvent>): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const engines: UpstreamEngine[] = [];
after(() => engines.forEach((e) => void e.close()));
async function connect(baseUrl: string | string[], extra: Record<string, unknown> = {}) {
  const engine = new UpstreamEngine({ healthIntervalMs: 60_000 });
  engines.push(engine);
  await engine.load({ key: "k", path: "", contextLength: 2048, embeddings: false, upstream: { baseUrl, model: "m", ...extra } });
  return engine;
}
const signal = () => new AbortController().signal;

test("streams content and takes the upstream's usage; the request names the upstream model and asks for usage", async () => {
  const up = await fake(standard({ usage: true }));
  const engine = await connect(up.url);
  const events = await collect(engine.generate({ key: "k" }, chat(), signal()));
  assert.deepEqual(events.filter((e) => e.type === "content").map((e) => (e as { text: string }).text), ["Hello", " world"]);
  assert.deepEqual(events.at(-1), { type: "end", finishReason: "stop", usage: { promptTokens: 7, completionTokens: 2, cachedTokens: 0 } });
  const sent = up.requests.find((r) => r.path === "/v1/chat/completions")!.body;
  assert.equal(sent.model, "m");
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.stream_options, { include_usage: true });
  assert.equal(sent.max_tokens, 16);
});

test("usage the upstream omits is counted with its /tokenize, else estimated, and the log says which", async () => {
  const withTokenizer = await fake(standard({ tokenize: true }));
  const a = await connect(withTokenizer.url);
  const ea = await collect(a.generate({ key: "k" }, chat(), signal()));
  assert.deepEqual((ea.at(-1) as { usage: unknown }).usage, { promptTokens: 3, completionTokens: 3, cachedTokens: 0 });
  assert.match(a.logs("k")!, /counted with the model's tokenizer/);

  const without = await fake(standard());
  const b = await connect(without.url);
  const eb = await collect(b.generate({ key: "k" }, chat("x".repeat(400)), signal()));
  const usage = (eb.at(-1) as { usage: { promptTokens: number; completionTokens: number } }).usage;
  assert.ok(usage.promptTokens >= 100, `estimated ${usage.promptTokens}`);
  assert.equal(usage.completionTokens, 3); // "Hello world": 11 characters / 4
  assert.match(b.logs("k")!, /estimated/);
});

test("tool calls streamed in pieces come out whole, with compact JSON arguments", async () => {
  const up = await fake((req, _b, res) => {
    if (req.url === "/v1/models") return res.end("{}");
    sse(res, [
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city": ' } }] } }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: "tool_calls" }] },
      { choices: [], usage: { prompt_tokens: 5, completion_tokens: 4 } },
    ]);
  });
  const engine = await connect(up.url);
  const params = chat();
  if (params.input.kind === "chat") params.input.tools = [{ name: "get_weather", parameters: { type: "object" } }];
  const events = await collect(engine.generate({ key: "k" }, params, signal()));
  assert.deepEqual(events[0], { type: "tool_call", call: { name: "get_weather", arguments: '{"city":"Paris"}' } });
  assert.equal((events[1] as { finishReason: string }).finishReason, "tool_calls");
  const sent = up.requests.find((r) => r.path === "/v1/chat/completions")!.body;
  assert.equal(sent.tools[0].function.name, "get_weather");
  assert.equal(sent.tool_choice, "auto");
});

test("a pool fails over on a 5xx and on a refused connection, and takes the failed endpoints out", async () => {
  let fivexx = 0;
  const broken = await fake((req, _b, res) => {
    if (req.url === "/v1/models") return res.end("{}");
    if (req.url === "/v1/chat/completions") fivexx++;
    res.writeHead(502).end('{"error":{"message":"bad gateway"}}');
  });
  const good = await fake(standard({ usage: true }));
  const refused = await fake(standard());
  servers.at(-1)!.close(); // nothing listens there any more
  const engine = new UpstreamEngine({ healthIntervalMs: 60_000 });
  engines.push(engine);
  // Loaded while all three "answer" for the health check: the closed one fails it and starts out taken out.
  await engine.load({ key: "k", path: "", contextLength: 2048, embeddings: false, upstream: { baseUrl: [broken.url, refused.url, good.url], model: "m" } });
  for (let i = 0; i < 4; i++) {
    const events = await collect(engine.generate({ key: "k" }, chat(), signal()));
    assert.equal(events.at(-1)!.type, "end");
  }
  assert.equal(fivexx, 1, "the 502 endpoint is out after its first failure");
  assert.equal(good.requests.filter((r) => r.path === "/v1/chat/completions").length, 4);
});

test("least outstanding requests: a second request goes to the idle endpoint while the first streams", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const handler = (name: string): Handler => (req, _b, res) => {
    if (req.url === "/v1/models") return res.end("{}");
    if (req.url !== "/v1/chat/completions") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify(delta(name))}\n\n`);
    void held.then(() => {
      res.write(`data: ${JSON.stringify(delta("", "stop"))}\n\ndata: [DONE]\n\n`);
      res.end();
    });
  };
  const a = await fake(handler("a"));
  const b = await fake(handler("b"));
  const engine = await connect([a.url, b.url]);
  const first = engine.generate({ key: "k" }, chat(), signal())[Symbol.asyncIterator]();
  const second = engine.generate({ key: "k" }, chat(), signal())[Symbol.asyncIterator]();
  const texts = [((await first.next()).value as { text: string }).text, ((await second.next()).value as { text: string }).text];
  assert.deepEqual(texts.sort(), ["a", "b"]);
  release();
  while (!(await first.next()).done);
  while (!(await second.next()).done);
});

async function failure(p: Promise<unknown>): Promise<IngotError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IngotError, `an IngotError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a failure");
}

test("faults: garbage, a stream closed mid-reply, a slow upstream and an upstream refusal become Azure-shaped errors", async () => {
  const garbage = await fake((req, _b, res) => (req.url === "/v1/models" ? res.end("{}") : (res.writeHead(200, { "content-type": "text/html" }), res.end("<html>nope</html>"))));
  let e = await failure(collect((await connect(garbage.url)).generate({ key: "k" }, chat(), signal())));
  assert.equal(e.code, "UpstreamInvalidResponse");
  assert.equal(e.status, 503);

  const cut = await fake((req, _b, res) => {
    if (req.url === "/v1/models") return res.end("{}");
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify(delta("half"))}\n\n`);
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const cutEngine = await connect(cut.url);
  const seen: EngineEvent[] = [];
  e = await failure(
    (async () => {
      for await (const ev of cutEngine.generate({ key: "k" }, chat(), signal())) seen.push(ev);
    })(),
  );
  assert.equal(e.code, "UpstreamClosed");
  assert.equal(seen.length, 1, "the half reply came out, but never an end event");

  const slow = await fake((req, _b, res) => {
    if (req.url === "/v1/models") return res.end("{}");
    setTimeout(() => sse(res, [delta("late", "stop")]), 2_000);
  });
  const slowEngine = await connect(slow.url, { timeoutMs: 300 });
  const started = Date.now();
  e = await failure(collect(slowEngine.generate({ key: "k" }, chat(), signal())));
  assert.equal(e.code, "UpstreamTimeout");
  assert.ok(Date.now() - started < 1_500);

  const refusing = await fake((req, _b, res) => (req.url === "/v1/models" ? res.end("{}") : (res.writeHead(400), res.end('{"error":{"message":"context too long"}}'))));
  e = await failure(collect((await connect(refusing.url)).generate({ key: "k" }, chat(), signal())));
  assert.equal(e.status, 400);
  assert.match(e.message, /context too long/);
});

test("a load fails with every endpoint's problem when none answers", async () => {
  const gone = await fake(standard());
  servers.at(-1)!.close();
  const engine = new UpstreamEngine();
  engines.push(engine);
  await assert.rejects(engine.load({ key: "k", path: "", contextLength: 2048, embeddings: false, upstream: { baseUrl: gone.url, model: "m" } }), /No endpoint of the upstream answers: http:\/\/127\.0\.0\.1:\d+\/v1: .*ECONNREFUSED/);
  assert.equal(engine.status()[0].state, "failed");
  await assert.rejects(
    engine.load({ key: "k2", path: "", contextLength: 2048, embeddings: false, upstream: { baseUrl: gone.url, model: "m", apiKeyEnv: "INGOT_TEST_SURELY_UNSET" } }),
    /INGOT_TEST_SURELY_UNSET, which is not set/,
  );
});

test("llama-server adapters: the adapter at scale 1 per request, every loaded adapter at 0 for the base", async () => {
  const up = await fake(standard({ usage: true, loras: [{ id: 0, path: "/other/a.gguf" }, { id: 1, path: "/data/adapters/ft-1.gguf" }] }));
  const engine = await connect(up.url);
  await engine.loadAdapter("k", { id: "Ingot/tiny-chat.ft-1@1", path: "/data/adapters/ft-1.gguf" });
  await collect(engine.generate({ key: "k", adapter: "Ingot/tiny-chat.ft-1@1" }, chat(), signal()));
  await collect(engine.generate({ key: "k" }, chat(), signal()));
  const bodies = up.requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body);
  assert.deepEqual(bodies[0].lora, [{ id: 1, scale: 1 }, { id: 0, scale: 0 }]);
  assert.deepEqual(bodies[1].lora, [{ id: 0, scale: 0 }, { id: 1, scale: 0 }]);
  await assert.rejects(engine.loadAdapter("k", { id: "Ingot/x@1", path: "/nowhere/x.gguf" }), /Start llama-server with --lora \/nowhere\/x\.gguf/);
});

test("vLLM adapters: loaded with load_lora_adapter, then addressed by model name", async () => {
  const up = await fake((req, _b, res) => {
    if (req.url === "/v1/load_lora_adapter") return res.end("Success: LoRA adapter 'tiny-chat.ft-2' added successfully.");
    standard({ usage: true })(req, _b, res);
  });
  const engine = await connect(up.url);
  await engine.loadAdapter("k", { id: "Ingot/tiny-chat.ft-2@1", path: "/data/adapters/ft-2" });
  await collect(engine.generate({ key: "k", adapter: "Ingot/tiny-chat.ft-2@1" }, chat(), signal()));
  assert.deepEqual(up.requests.find((r) => r.path === "/v1/load_lora_adapter")!.body, { lora_name: "tiny-chat.ft-2", lora_path: "/data/adapters/ft-2" });
  assert.equal(up.requests.find((r) => r.path === "/v1/chat/completions")!.body.model, "tiny-chat.ft-2");
});

test("catalog entries: upstream is validated field by field and implies engine upstream", () => {
  const base = { format: "Meta", name: "m", version: "1", capabilities: ["chatCompletion"], contextLength: 4096, weights: "none", skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }], lifecycleStatus: "Preview", license: "x" };
  const ok = validateCatalogModel({ ...base, upstream: { baseUrl: ["http://a:8000/v1", "http://b:8000/v1"], model: "meta/m", apiKeyEnv: "VLLM_KEY", headers: { "x-team": "a" } } }, "f");
  assert.equal(ok.engine, "upstream");
  assert.deepEqual(ok.upstream?.baseUrl, ["http://a:8000/v1", "http://b:8000/v1"]);
  assert.equal(ok.skus[0].usageName, "AIServices.GlobalStandard.m");
  assert.throws(() => validateCatalogModel({ ...base, upstream: { baseUrl: "ftp://x", model: "m" } }, "f"), /f\.upstream\.baseUrl: 'ftp:\/\/x' must use http or https/);
  assert.throws(() => validateCatalogModel({ ...base, upstream: { baseUrl: "http://x/v1" } }, "f"), /f\.upstream\.model/);
  assert.throws(() => validateCatalogModel({ ...base, upstream: { baseUrl: "http://x/v1", model: "m", apiKey: "k" } }, "f"), /f\.upstream\.apiKey: unknown field/);
  assert.throws(() => validateCatalogModel({ ...base, weights: "builtin:tiny-chat", engine: "llamacpp", upstream: { baseUrl: "http://x/v1", model: "m" } }, "f"), /only for engine "upstream"/);
});
