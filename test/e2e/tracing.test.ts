// OpenTelemetry traces from request to runner: Ingot started with an OTLP endpoint sends, for
// one chat call, an HTTP server span, a generation span and an engine span, one trace, each a
// child of the one before, with the GenAI semantic conventions' attributes. The collector is
// a tiny OTLP/HTTP (JSON) receiver on loopback.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

interface OtlpValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: OtlpValue[] } }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: { key: string; value: OtlpValue }[] }

const received: OtlpSpan[] = [];
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c));
  req.on("end", () => {
    if (req.method === "POST" && req.url === "/v1/traces") {
      const data = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});

const value = (v: OtlpValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ?? v.arrayValue?.values.map(value);
const attrs = (s: OtlpSpan) => Object.fromEntries(s.attributes.map((a) => [a.key, value(a.value)]));

let server: TestServer;
before(async () => {
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  server = await startServer({ otlpEndpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}` });
});
after(async () => {
  await server?.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function spanNamed(name: string, deadlineMs = 20_000): Promise<OtlpSpan> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const s = received.find((x) => x.name === name);
    if (s) return s;
    if (Date.now() > deadline) assert.fail(`no span '${name}' within ${deadlineMs} ms; got: ${received.map((x) => x.name).join(", ") || "none"}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a chat call sends server, generation and engine spans with GenAI attributes over OTLP", { timeout: 60_000 }, async () => {
  const r = await server.azure({ deployment: "tiny-chat" }).chat.completions.create({ model: "ignored", messages: [{ role: "user", content: "Say something." }], max_tokens: 8, temperature: 0.5, seed: 3 });

  const http = await spanNamed("POST /openai/deployments/:deployment/chat/completions");
  const generation = await spanNamed("chat tiny-chat");
  const engine = received.find((s) => s.parentSpanId === generation.spanId) ?? assert.fail("no engine span under the generation span");

  assert.equal(http.kind, 2, "server span"); // SPAN_KIND_SERVER
  assert.equal(attrs(http)["http.request.method"], "POST");
  assert.equal(attrs(http)["http.response.status_code"], 200);

  assert.equal(generation.traceId, http.traceId);
  assert.equal(generation.parentSpanId, http.spanId);
  const g = attrs(generation);
  assert.equal(g["gen_ai.operation.name"], "chat");
  assert.equal(g["gen_ai.request.model"], "tiny-chat");
  assert.equal(g["gen_ai.response.model"], "tiny-chat");
  assert.equal(g["gen_ai.response.id"], r.id);
  assert.equal(g["gen_ai.request.max_tokens"], 8);
  assert.equal(g["gen_ai.request.temperature"], 0.5);
  assert.equal(g["gen_ai.usage.input_tokens"], r.usage!.prompt_tokens);
  assert.equal(g["gen_ai.usage.output_tokens"], r.usage!.completion_tokens);
  assert.deepEqual(g["gen_ai.response.finish_reasons"], [r.choices[0].finish_reason]);

  assert.equal(engine.traceId, http.traceId);
  assert.equal(engine.kind, 3, "client span: the runner is another process"); // SPAN_KIND_CLIENT
  const e = attrs(engine);
  assert.equal(e["gen_ai.operation.name"], "chat");
  assert.equal(e["ingot.engine"], "llamacpp");
  assert.equal(e["gen_ai.usage.output_tokens"], r.usage!.completion_tokens);
});
