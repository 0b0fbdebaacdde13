// The Azure AI model inference API through @azure-rest/ai-inference.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import ModelClient, { isUnexpected } from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import { API_KEY, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const client = () => ModelClient(`${server.url}/models`, new AzureKeyCredential(API_KEY), { retryOptions: { maxRetries: 0 }, allowInsecureConnection: true });

describe("model inference", () => {
  for (const apiVersion of ["2024-05-01-preview", "2025-04-01"]) {
    test(`chat completions with api-version ${apiVersion}`, async () => {
      const res = await ModelClient(`${server.url}/models`, new AzureKeyCredential(API_KEY), { apiVersion, allowInsecureConnection: true })
        .path("/chat/completions")
        .post({ body: { model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 5, seed: 1 } });
      assert.equal(res.status, "200");
      if (isUnexpected(res)) throw new Error(JSON.stringify(res.body));
      assert.equal(res.body.choices[0].message.role, "assistant");
      assert.equal(res.body.model, "tiny-chat");
    });
  }

  test("streaming chat", async () => {
    const res = await client()
      .path("/chat/completions")
      .post({ body: { model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 5, stream: true } })
      .asNodeStream();
    assert.equal(res.status, "200");
    let text = "";
    for await (const chunk of res.body!) text += chunk.toString();
    assert.match(text, /^data: /);
    assert.match(text, /data: \[DONE\]\n\n$/);
  });

  test("embeddings and info", async () => {
    const res = await client().path("/embeddings").post({ body: { model: "tiny-embed", input: ["a", "b"] } });
    if (isUnexpected(res)) throw new Error(JSON.stringify(res.body));
    assert.equal(res.body.data.length, 2);
    const info = await client().path("/info").get({ queryParameters: { model: "tiny-chat" } } as never);
    assert.equal(info.status, "200");
    assert.deepEqual(info.body, { model_name: "tiny-chat", model_type: "chat-completions", model_provider_name: "Ingot" });
  });

  test("extra-parameters: error → 422 parameter_not_supported, drop, pass-through", async () => {
    const body = { model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 3, logprobs: true };
    const rejected = await client().path("/chat/completions").post({ body });
    assert.equal(rejected.status, "422");
    assert.equal(rejected.headers["x-ms-error-code"], "parameter_not_supported");
    assert.equal((rejected.body as unknown as { code: string }).code, "parameter_not_supported");
    const dropped = await client().path("/chat/completions").post({ body, headers: { "extra-parameters": "drop" } });
    assert.equal(dropped.status, "200");
    assert.equal((dropped.body as unknown as { choices: { logprobs: unknown }[] }).choices[0].logprobs, null);
    const passed = await client().path("/chat/completions").post({ body, headers: { "extra-parameters": "pass-through" } });
    assert.equal(passed.status, "200");
    assert.ok((passed.body as unknown as { choices: { logprobs: { content: unknown[] } }[] }).choices[0].logprobs.content.length > 0);
  });

  test("unknown deployment is 404 and a bad key 401", async () => {
    const missing = await client().path("/chat/completions").post({ body: { model: "nope", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(missing.status, "404");
    const denied = await ModelClient(`${server.url}/models`, new AzureKeyCredential("bad"), { allowInsecureConnection: true }).path("/chat/completions").post({ body: { model: "tiny-chat", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(denied.status, "401");
  });
});
