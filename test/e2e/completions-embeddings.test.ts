// Legacy completions and embeddings through AzureOpenAI and OpenAI v1.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

describe("completions", () => {
  test("prompt completion with usage; echo prepends the prompt", async () => {
    const client = server.azure({ deployment: "tiny-chat" });
    const r = await client.completions.create({ model: "x", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    assert.equal(r.object, "text_completion");
    assert.equal(typeof r.choices[0].text, "string");
    assert.ok(r.usage!.completion_tokens <= 8);
    const echoed = await client.completions.create({ model: "x", prompt: "Once upon a time", max_tokens: 8, temperature: 0, echo: true });
    assert.equal(echoed.choices[0].text, "Once upon a time" + r.choices[0].text);
  });

  test("streaming completions and logprobs", async () => {
    const client = server.v1();
    let text = "";
    for await (const c of await client.completions.create({ model: "tiny-chat", prompt: "abc", max_tokens: 6, temperature: 0, stream: true })) text += c.choices[0]?.text ?? "";
    const whole = await client.completions.create({ model: "tiny-chat", prompt: "abc", max_tokens: 6, temperature: 0, logprobs: 2 });
    assert.equal(text, whole.choices[0].text);
    const lp = whole.choices[0].logprobs!;
    assert.equal(lp.tokens!.length, whole.usage!.completion_tokens);
    assert.equal(Object.keys(lp.top_logprobs![0]).length, 2);
  });

  test("suffix fills in the middle", async () => {
    const r = await server.v1().completions.create({ model: "tiny-chat", prompt: "def add(a, b):", suffix: "\n\nprint(add(1, 2))", max_tokens: 6, temperature: 0 });
    assert.equal(typeof r.choices[0].text, "string");
  });

  test("best_of picks n of several candidates; not allowed with stream", async () => {
    const r = await server.v1().completions.create({ model: "tiny-chat", prompt: "x", max_tokens: 4, best_of: 3, n: 2, seed: 1 });
    assert.equal(r.choices.length, 2);
    const res = await server.post("/openai/v1/completions", { model: "tiny-chat", prompt: "x", best_of: 3, stream: true });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error.param, "best_of");
  });
});

describe("embeddings", () => {
  test("float and base64 vectors, dimensions, usage", async () => {
    const client = server.azure({ deployment: "tiny-embed" });
    const r = await client.embeddings.create({ model: "x", input: ["hello world", "goodbye"] });
    assert.equal(r.object, "list");
    assert.equal(r.data.length, 2);
    const v = r.data[0].embedding;
    assert.ok(v.length > 16);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-3, "unit length");
    assert.ok(r.usage.prompt_tokens > 0);
    // The openai client asks for base64 by default and decodes it; check the wire too.
    const raw = await server.post("/openai/v1/embeddings", { model: "tiny-embed", input: "hello world", encoding_format: "base64" });
    const b64 = (await json(raw)).data[0].embedding as string;
    const bytes = Buffer.from(b64, "base64");
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    assert.equal(decoded.length, v.length);
    assert.ok(Math.abs(decoded[0] - v[0]) < 1e-6);
    const small = await server.v1().embeddings.create({ model: "tiny-embed", input: "hello world", dimensions: 8 });
    assert.equal(small.data[0].embedding.length, 8);
    const same = await server.v1().embeddings.create({ model: "tiny-embed", input: "hello world" });
    assert.deepEqual(same.data[0].embedding.map((x) => x.toFixed(5)), v.map((x) => x.toFixed(5)), "deterministic");
  });
});

test("several prompts in one request: n choices each, numbered prompt by prompt, with best_of and echo", async () => {
  const r = await server.v1().completions.create({ model: "tiny-chat", prompt: ["alpha", "beta"], max_tokens: 4, n: 2, temperature: 0, echo: true });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2, 3]);
  assert.ok(r.choices[0].text.startsWith("alpha") && r.choices[1].text.startsWith("alpha"));
  assert.ok(r.choices[2].text.startsWith("beta") && r.choices[3].text.startsWith("beta"));
  const one = await server.v1().completions.create({ model: "tiny-chat", prompt: "alpha", max_tokens: 4 });
  const two = await server.v1().completions.create({ model: "tiny-chat", prompt: "beta", max_tokens: 4 });
  const both = await server.v1().completions.create({ model: "tiny-chat", prompt: ["alpha", "beta"], max_tokens: 4 });
  assert.equal(both.usage!.prompt_tokens, one.usage!.prompt_tokens + two.usage!.prompt_tokens);
  const best = await server.v1().completions.create({ model: "tiny-chat", prompt: ["alpha", "beta"], max_tokens: 3, best_of: 3, n: 1, seed: 2, echo: true });
  assert.equal(best.choices.length, 2);
  assert.ok(best.choices[0].text.startsWith("alpha") && best.choices[1].text.startsWith("beta"));
});
