// Chat completions through the official openai clients: AzureOpenAI (dated, deployment in
// the path), OpenAI on /openai/v1 and on the project endpoint — streaming and not.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const messages = [
  { role: "system" as const, content: "You are a helpful assistant." },
  { role: "user" as const, content: "Say something." },
];

describe("chat completions", () => {
  test("AzureOpenAI non-streaming returns an assistant message with usage", async () => {
    const client = server.azure({ deployment: "tiny-chat" });
    const r = await client.chat.completions.create({ model: "ignored", messages, max_tokens: 12, seed: 1 });
    assert.equal(r.object, "chat.completion");
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.model, "tiny-chat");
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, "assistant");
    assert.equal(typeof r.choices[0].message.content, "string");
    assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
    assert.ok(r.usage!.prompt_tokens > 10);
    assert.ok(r.usage!.completion_tokens >= 1 && r.usage!.completion_tokens <= 12);
    assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  test("max_tokens caps the completion and reports finish_reason length", async () => {
    const client = server.v1();
    const r = await client.chat.completions.create({ model: "tiny-chat", messages, max_completion_tokens: 5, temperature: 1, seed: 7, logit_bias: { 258: -100, 257: -100, 256: -100 } });
    assert.equal(r.usage!.completion_tokens, 5);
    assert.equal(r.choices[0].finish_reason, "length");
  });

  test("same seed and request give the same output; temperature 0 is deterministic", async () => {
    const client = server.v1();
    const req = { model: "tiny-chat", messages, max_tokens: 16, temperature: 1, seed: 42 };
    const [a, b] = [await client.chat.completions.create(req), await client.chat.completions.create(req)];
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    const other = await client.chat.completions.create({ ...req, seed: 43 });
    const g1 = await client.chat.completions.create({ ...req, temperature: 0, seed: undefined });
    const g2 = await client.chat.completions.create({ ...req, temperature: 0, seed: 999 });
    assert.equal(g1.choices[0].message.content, g2.choices[0].message.content);
    assert.notEqual(other.choices[0].message.content, a.choices[0].message.content, "another seed samples another text");
  });

  test("streaming yields role delta, content deltas, a finish chunk and usage when asked", async () => {
    const client = server.azure({ deployment: "tiny-chat" });
    const stream = await client.chat.completions.create({ model: "x", messages, max_tokens: 10, seed: 3, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    // Azure's first event carries the prompt's content-filter results with no choices (issue 14).
    assert.deepEqual(chunks[0].choices, []);
    assert.ok((chunks[0] as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results.length);
    assert.equal(chunks[1].choices[0].delta.role, "assistant");
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    assert.ok(finish, "a chunk carries finish_reason");
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage && last.usage.completion_tokens > 0);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    const whole = await client.chat.completions.create({ model: "x", messages, max_tokens: 10, seed: 3 });
    assert.equal(text, whole.choices[0].message.content, "streamed text equals the non-streamed text for the same seed");
    for (const c of chunks.slice(1)) assert.equal(c.object, "chat.completion.chunk");
  });

  test("project endpoint serves the same API", async () => {
    const r = await server.project("my-project").chat.completions.create({ model: "tiny-chat", messages, max_tokens: 4 });
    assert.equal(r.choices[0].message.role, "assistant");
  });

  test("GET /openai/v1/models lists the models the account can run", async () => {
    const list = await server.v1().models.list();
    const ids = list.data.map((m) => m.id);
    assert.ok(ids.includes("tiny-chat") && ids.includes("tiny-embed"), ids.join(", "));
    assert.ok(!ids.includes("gpt-4.1-mini"), "models without open weights are not listed");
    const tiny = list.data.find((m) => m.id === "tiny-chat")!;
    assert.equal(tiny.owned_by, "Ingot");
  });

  test("stop sequences end the output before the stop string", async () => {
    const client = server.v1();
    const base = await client.chat.completions.create({ model: "tiny-chat", messages, max_tokens: 30, temperature: 0 });
    const text = base.choices[0].message.content!;
    assert.ok(text.length >= 4, `need some text to cut, got ${JSON.stringify(text)}`);
    const stop = text.slice(2, 4);
    for (const stream of [false, true]) {
      let out: string;
      let finish: string | null;
      if (stream) {
        const s = await client.chat.completions.create({ model: "tiny-chat", messages, max_tokens: 30, temperature: 0, stop: [stop, "zzzz"], stream: true });
        out = "";
        finish = null;
        for await (const c of s) {
          out += c.choices[0]?.delta?.content ?? "";
          finish = c.choices[0]?.finish_reason ?? finish;
        }
      } else {
        const r = await client.chat.completions.create({ model: "tiny-chat", messages, max_tokens: 30, temperature: 0, stop });
        out = r.choices[0].message.content!;
        finish = r.choices[0].finish_reason;
      }
      assert.equal(out, text.slice(0, text.indexOf(stop)), `stream=${stream}`);
      assert.equal(finish, "stop");
    }
  });

  test("n returns several choices; usage counts the prompt once", async () => {
    const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 6, n: 3, seed: 5 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
    const single = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 6, seed: 5 });
    assert.equal(r.usage!.prompt_tokens, single.usage!.prompt_tokens);
  });

  test("logprobs and top_logprobs", async () => {
    const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 5, logprobs: true, top_logprobs: 3, temperature: 0 });
    const content = r.choices[0].logprobs!.content!;
    assert.equal(content.length, r.usage!.completion_tokens);
    for (const t of content) {
      assert.ok(t.logprob <= 0);
      assert.equal(t.top_logprobs.length, 3);
      assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[2].logprob);
      // Greedy decoding picks the most likely token.
      assert.equal(t.token, t.top_logprobs[0].token);
    }
  });

  test("logit_bias forces a token", async () => {
    // Token 65 is the byte 'b'... whatever byte it is, +100 makes it always chosen.
    const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 6, logit_bias: { "72": 100 }, temperature: 1, seed: 1 });
    const text = r.choices[0].message.content!;
    assert.equal(text.length, 6);
    assert.equal(new Set(text).size, 1, `one repeated character, got ${JSON.stringify(text)}`);
  });

  test("presence and frequency penalties are accepted and change sampling", async () => {
    const req = { model: "tiny-chat", messages, max_tokens: 24, temperature: 0 };
    const plain = await server.v1().chat.completions.create(req);
    const penalized = await server.v1().chat.completions.create({ ...req, presence_penalty: 1.5, frequency_penalty: 1.5 });
    assert.equal(penalized.choices[0].message.role, "assistant");
    assert.notEqual(penalized.choices[0].message.content, plain.choices[0].message.content, "penalties change the greedy text");
  });

  test("a repeated prompt prefix is served from the KV cache (cached_tokens)", async () => {
    const long = [{ role: "system" as const, content: "Shared context. ".repeat(20) }, { role: "user" as const, content: "first" }];
    await server.v1().chat.completions.create({ model: "tiny-chat", messages: long, max_tokens: 2 });
    const again = await server.v1().chat.completions.create({ model: "tiny-chat", messages: [long[0], { role: "user", content: "second" }], max_tokens: 2 });
    assert.ok(again.usage!.prompt_tokens_details!.cached_tokens! > 300, `cached ${again.usage!.prompt_tokens_details!.cached_tokens}`);
  });
});

test("n choices without a seed differ from each other", async () => {
  const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 12, n: 3, temperature: 1 });
  const texts = new Set(r.choices.map((c) => c.message.content));
  assert.ok(texts.size > 1, `choices: ${JSON.stringify([...texts])}`);
});
