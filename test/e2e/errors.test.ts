// Bad input and failure paths over plain HTTP: each gets Azure's status and error shape,
// and the server keeps serving.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { API_VERSION, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const chatPath = `/openai/deployments/tiny-chat/chat/completions?api-version=${API_VERSION}`;
const ok = { messages: [{ role: "user", content: "hi" }], max_tokens: 2 };

async function expectError(res: Response, status: number, code?: string, param?: string) {
  assert.equal(res.status, status, await res.clone().text());
  assert.ok(res.headers.get("apim-request-id"), "apim-request-id header");
  assert.ok(res.headers.get("x-request-id"), "x-request-id header");
  const body = await json(res);
  assert.equal(typeof body.error.message, "string");
  if (code) assert.equal(body.error.code, code);
  if (param !== undefined) assert.equal(body.error.param, param);
  return body;
}

describe("errors", () => {
  test("every reply carries apim-request-id and x-request-id", async () => {
    const res = await server.post(chatPath, ok);
    assert.equal(res.status, 200);
    assert.ok(res.headers.get("apim-request-id"));
    assert.equal(res.headers.get("apim-request-id"), res.headers.get("x-request-id"));
  });

  test("unknown deployment is 404 DeploymentNotFound", async () => {
    await expectError(await server.post(`/openai/deployments/nope/chat/completions?api-version=${API_VERSION}`, ok), 404, "DeploymentNotFound");
    await expectError(await server.post("/openai/v1/chat/completions", { ...ok, model: "nope" }), 404, "DeploymentNotFound");
  });

  test("missing or wrong key is 401 in Azure's shape; Bearer works too", async () => {
    await expectError(await server.post(chatPath, ok, { "api-key": "wrong" }), 401, "401");
    const res = await fetch(`${server.url}${chatPath}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ok) });
    await expectError(res, 401);
    const bearer = await fetch(`${server.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer 0123456789abcdef0123456789abcdef" },
      body: JSON.stringify({ ...ok, model: "tiny-chat" }),
    });
    assert.equal(bearer.status, 200);
  });

  test("api-version is required and checked", async () => {
    const missing = await expectError(await server.post("/openai/deployments/tiny-chat/chat/completions", ok), 400);
    assert.match(missing.error.message, /api-version/);
    const unknown = await expectError(await server.post("/openai/deployments/tiny-chat/chat/completions?api-version=2099-01-01", ok), 400);
    assert.match(unknown.error.message, /2024-10-21/);
  });

  test("malformed JSON, wrong types, unknown roles and empty messages are 400s naming the parameter", async () => {
    await expectError(await server.post(chatPath, '{"messages": [}'), 400);
    await expectError(await server.post(chatPath, { messages: "hi" }), 400, "invalid_type", "messages");
    await expectError(await server.post(chatPath, { ...ok, temperature: "hot" }), 400, "invalid_type", "temperature");
    await expectError(await server.post(chatPath, { ...ok, temperature: 3 }), 400, undefined, "temperature");
    await expectError(await server.post(chatPath, { messages: [{ role: "wizard", content: "hi" }] }), 400, "invalid_value", "messages[0].role");
    await expectError(await server.post(chatPath, { messages: [] }), 400, undefined, "messages");
    await expectError(await server.post(chatPath, {}), 400, "missing_required_parameter", "messages");
    await expectError(await server.post(chatPath, { ...ok, stop: ["a", "b", "c", "d", "e"] }), 400, undefined, "stop");
    await expectError(await server.post(chatPath, { ...ok, n: 0 }), 400, undefined, "n");
    await expectError(await server.post(chatPath, [1, 2]), 400);
    await expectError(await server.post(chatPath, { ...ok, tool_choice: "required" }), 400, undefined, "tool_choice");
  });

  test("a 10 MB body is 413", async () => {
    const big = { messages: [{ role: "user", content: "x".repeat(10 * 1024 * 1024) }] };
    await expectError(await server.post(chatPath, big), 413);
  });

  test("a prompt longer than the context is a 400 that says how long", async () => {
    const body = await expectError(await server.post(chatPath, { messages: [{ role: "user", content: "word ".repeat(1000) }] }), 400, undefined, "messages");
    assert.match(body.error.message, /maximum context length is \d+ tokens/);
  });

  test("embeddings on a chat deployment is a 400 naming the operation", async () => {
    const res = await server.post(`/openai/deployments/tiny-chat/embeddings?api-version=${API_VERSION}`, { input: "x" });
    await expectError(res, 400, "OperationNotSupported");
  });

  test("a client that drops a stream halfway frees its sequence; the server keeps serving", async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}${chatPath}`, {
      method: "POST",
      headers: { "content-type": "application/json", "api-key": "0123456789abcdef0123456789abcdef" },
      body: JSON.stringify({ messages: [{ role: "user", content: "go" }], max_tokens: 1500, stream: true, logit_bias: { "256": -100, "257": -100, "258": -100 } }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const active = async (): Promise<number> => {
      const readyz = await json(await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` } }));
      return readyz.models.find((m: { key: string }) => m.key.includes("tiny-chat")).activeSequences;
    };
    // The cancelled generation releases its sequence within moments: nothing is active any more.
    for (const deadline = Date.now() + 5000; (await active()) !== 0; ) {
      assert.ok(Date.now() < deadline, "the dropped stream's sequence was not released within 5 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(server.ingot.app.server.listening);
    const next = await server.post(chatPath, ok);
    assert.equal(next.status, 200);
    assert.equal(await active(), 0);
  });

  test("unknown routes are 404", async () => {
    const res = await server.post("/openai/nothing-here", ok);
    assert.equal(res.status, 404);
  });
});

describe("operations", () => {
  test("/healthz, /readyz and /metrics", async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    // Details and metrics are an administrator's (test/e2e/pipeline.test.ts covers anonymous callers).
    const admin = { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` };
    const ready = await fetch(`${server.url}/readyz`, { headers: admin });
    assert.equal(ready.status, 200);
    const body = await json(ready);
    assert.ok(body.deployments.every((d: { state: string }) => d.state === "Succeeded"));
    await server.post(chatPath, ok);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: admin })).text();
    assert.match(metrics, /ingot_http_requests_total\{/);
    assert.match(metrics, /ingot_time_to_first_token_seconds_bucket\{/);
    assert.match(metrics, /ingot_tokens_total\{.*kind="completion"/);
    assert.match(metrics, /ingot_queue_depth\{model=/);
  });
});
