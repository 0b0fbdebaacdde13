// Bounded work, no 5xx from input (issue 12 §3): empty prompts generate, oversized inputs are
// 400s that name the limit, deep schemas and deep ARM tags are refused before they reach the
// grammar compiler or SQLite, failed uploads leave no temporary file, a tool call cut by
// max_tokens says `length`, and streamed legacy logprobs count offsets from the text's start.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  // Per-token stream chunks: the text_offset test needs several chunks per choice.
  server = await startServer({ streamIntervalMs: 0 });
});
after(() => server?.stop());

/** Keeps tiny-chat from ending early (its end-of-generation tokens), so generations run to max_tokens. */
const NO_END = { "256": -100, "257": -100, "258": -100 };

/** A JSON Schema nested `depth` objects deep. */
function deepSchema(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < depth; i++) schema = { type: "object", properties: { a: schema }, required: ["a"] };
  return schema;
}

describe("legacy completions", { timeout: 120_000 }, () => {
  test("an empty prompt generates from the start of a sequence", async () => {
    const client = server.v1();
    for (const prompt of ["", [""], ["a", ""]]) {
      const r = await client.completions.create({ model: "tiny-chat", prompt, max_tokens: 3, temperature: 0 });
      assert.equal(r.choices.length, Array.isArray(prompt) ? prompt.length : 1, JSON.stringify(prompt));
      for (const c of r.choices) assert.equal(typeof c.text, "string");
    }
  });
});

describe("limits are 400s that name them", { timeout: 120_000 }, () => {
  test("a 10,000-prompt array and prompts × n over 128", async () => {
    let res = await server.post("/openai/v1/completions", { model: "tiny-chat", prompt: Array.from({ length: 10_000 }, () => "x"), max_tokens: 1 });
    assert.equal(res.status, 400);
    let body = await json(res);
    assert.equal(body.error.code, "array_above_max_length");
    assert.equal(body.error.param, "prompt");
    assert.match(body.error.message, /maximum length 128/);
    res = await server.post("/openai/v1/completions", { model: "tiny-chat", prompt: ["a", "b"], n: 100, max_tokens: 1 });
    assert.equal(res.status, 400);
    body = await json(res);
    assert.equal(body.error.param, "n");
    assert.match(body.error.message, /at most 128/);
  });

  test("a JSON schema 2,000 levels deep, in response_format or in tools", async () => {
    const messages = [{ role: "user", content: "hi" }];
    let res = await server.post("/openai/v1/chat/completions", {
      model: "tiny-chat",
      messages,
      response_format: { type: "json_schema", json_schema: { name: "deep", schema: deepSchema(2000) } },
    });
    assert.equal(res.status, 400);
    let body = await json(res);
    assert.equal(body.error.code, "invalid_json_schema");
    assert.equal(body.error.param, "response_format");
    assert.match(body.error.message, /nested more than 64 levels/);
    res = await server.post("/openai/v1/chat/completions", {
      model: "tiny-chat",
      messages,
      tools: [{ type: "function", function: { name: "f", parameters: deepSchema(2000) } }],
    });
    assert.equal(res.status, 400);
    body = await json(res);
    assert.equal(body.error.param, "tools[0].function.parameters");
  });

  test("schemas with more than 1,000 properties in all", async () => {
    const properties = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`p${i}`, { type: "integer" }]));
    const tool = (name: string) => ({ type: "function", function: { name, parameters: { type: "object", properties } } });
    const res = await server.post("/openai/v1/chat/completions", { model: "tiny-chat", messages: [{ role: "user", content: "hi" }], tools: [tool("a"), tool("b")] });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error.param, "tools[1].function.parameters");
    assert.match(body.error.message, /more than 1000 object properties/);
  });
});

describe("large schemas within the limits", { timeout: 120_000 }, () => {
  test("are served, their grammar compiled on the compiler thread", async () => {
    const properties = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, { type: "integer", minimum: 0, maximum: 9 }]));
    const r = await server.v1().chat.completions.create({
      model: "tiny-chat",
      messages: [{ role: "user", content: "Numbers" }],
      response_format: { type: "json_schema", json_schema: { name: "wide", schema: { type: "object", properties: { ...properties, first: { type: "integer" } }, required: ["first"] } } },
      max_tokens: 40,
      seed: 1,
    });
    const content = r.choices[0].message.content ?? "";
    if (r.choices[0].finish_reason === "stop") assert.equal(typeof JSON.parse(content).first, "number", content);
    else assert.match(content, /^\{\s*"first"/);
  });
});

describe("ARM bodies", { timeout: 120_000 }, () => {
  const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts";
  /** A body whose DEEP placeholder becomes a value nested 10,000 objects deep (JSON.stringify of that would overflow here). */
  const DEEP = "__deep__";
  const deepJson = `${'{"a":'.repeat(10_000)}"x"${"}".repeat(10_000)}`;
  const arm = (method: string, path: string, body: unknown) =>
    fetch(`${server.url}${ACCOUNT}${path}?api-version=2024-10-01`, {
      method,
      headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}`, "content-type": "application/json" },
      body: JSON.stringify(body).replace(JSON.stringify(DEEP), deepJson),
    });

  test("tags nested 10,000 deep, too many tags, a tag value that is not a string", async () => {
    const deep = DEEP;
    const cases: [string, string, unknown, string][] = [
      ["PUT", "/bounded1", { location: "local", kind: "AIServices", sku: { name: "S0" }, tags: deep }, "InvalidRequestContent"],
      ["PATCH", "/ingot", { tags: deep }, "InvalidRequestContent"],
      ["PUT", "/bounded1", { location: "local", kind: "AIServices", sku: { name: "S0" }, tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"])) }, "InvalidTagsCount"],
      ["PUT", "/bounded1", { location: "local", kind: "AIServices", sku: { name: "S0" }, tags: { a: { b: "c" } } }, "InvalidRequestContent"],
      ["PUT", "/bounded1", { location: "local", kind: "AIServices", sku: { name: "S0" }, tags: { ["k".repeat(513)]: "v" } }, "InvalidTagNameLength"],
      ["PUT", "/bounded1", { location: "local", kind: "AIServices", sku: { name: "S0" }, tags: { k: "v".repeat(257) } }, "InvalidTagValueLength"],
      ["PUT", "/bounded1", { location: { deep: true }, kind: "AIServices", sku: { name: "S0" } }, "InvalidRequestContent"],
      ["PATCH", "/ingot/deployments/tiny-chat", { tags: { "a/b": "v" } }, "InvalidTagNameCharacters"],
      ["PUT", "/ingot/projects/p1", { properties: {}, tags: deep }, "InvalidRequestContent"],
    ];
    for (const [method, path, body, code] of cases) {
      const res = await arm(method, path, body);
      const text = await res.text();
      assert.equal(res.status, 400, `${method} ${path} ${code}: ${text.slice(0, 200)}`);
      assert.equal(JSON.parse(text).error.code, code, text.slice(0, 200));
    }
    // Within the limits, tags are kept.
    const res = await arm("PATCH", "/ingot", { tags: { team: "ml", "cost-center": "42" } });
    assert.equal(res.status, 200);
    assert.deepEqual((await json(res)).tags, { team: "ml", "cost-center": "42" });
  });
});

describe("uploads", { timeout: 120_000 }, () => {
  test("a refused upload leaves no temporary file behind", async () => {
    const tmp = join(server.dataDir, "blobs", "files", ".tmp");
    for (const expires of ["not json", '{"anchor":"created_at","seconds":5}']) {
      const form = new FormData();
      form.append("purpose", "fine-tune");
      form.append("expires_after", expires);
      form.append("file", new Blob(['{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'.repeat(2000)]), "train.jsonl");
      const res = await fetch(`${server.url}/openai/v1/files`, { method: "POST", headers: { "api-key": API_KEY }, body: form });
      assert.equal(res.status, 400, expires);
      assert.equal((await json(res)).error.param?.startsWith("expires_after"), true);
      assert.deepEqual(readdirSync(tmp), [], `temporary files after expires_after=${expires}`);
    }
  });
});

describe("tool calls and logprobs", { timeout: 120_000 }, () => {
  const weather = {
    type: "function" as const,
    function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } }, required: ["city", "unit"] } },
  };

  test("a tool call cut by max_tokens finishes with 'length' and carries the text generated", async () => {
    const request = {
      model: "tiny-chat",
      messages: [{ role: "user" as const, content: "Weather in Paris?" }],
      tools: [weather],
      tool_choice: "required" as const,
      max_tokens: 4,
      seed: 1,
    };
    const r = await server.v1().chat.completions.create(request);
    const choice = r.choices[0];
    assert.equal(choice.finish_reason, "length");
    assert.equal(choice.message.tool_calls, undefined);
    assert.ok(choice.message.content && choice.message.content.length > 0, "the cut call is returned as content");
    // Streamed: the same.
    let content = "";
    let finish: string | null = null;
    for await (const c of await server.v1().chat.completions.create({ ...request, stream: true })) {
      content += c.choices[0]?.delta?.content ?? "";
      assert.equal(c.choices[0]?.delta?.tool_calls, undefined);
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, "length");
    assert.equal(content, choice.message.content);
  });

  test("streamed legacy logprobs count text_offset from the start of the text", async () => {
    let text = "";
    let chunks = 0;
    for await (const c of await server.v1().completions.create({ model: "tiny-chat", prompt: "Once upon a time", max_tokens: 48, temperature: 0, logprobs: 1, stream: true, echo: true, logit_bias: NO_END })) {
      const choice = c.choices[0];
      // The echoed prompt comes first, without logprobs: the generated tokens' offsets start after it
      // (so even a stream whose generated text arrives in one chunk shows offsets restarting at 0).
      if (!choice?.logprobs?.text_offset?.length) {
        text += choice?.text ?? "";
        continue;
      }
      chunks++;
      let at = text.length;
      choice.logprobs.text_offset.forEach((offset, i) => {
        assert.equal(offset, at, `chunk ${chunks}, token ${i}`);
        at += choice.logprobs!.tokens![i].length;
      });
      text += choice.text;
    }
    assert.ok(text.startsWith("Once upon a time"), text);
    assert.ok(chunks >= 1, "chunks with logprobs");
  });
});

describe("one request does not hold a model for everyone", { timeout: 180_000 }, () => {
  test("a request with many prompts leaves sequences for a request that comes after it", async () => {
    const client = server.v1();
    // Streamed so that its first chunk shows it is generating before the small request is sent.
    const big = await client.completions.create({ model: "tiny-chat", prompt: Array.from({ length: 32 }, (_, i) => `Story ${i}:`), max_tokens: 128, stream: true, logit_bias: NO_END });
    const iterator = big[Symbol.asyncIterator]();
    await iterator.next();
    let finished = 0;
    let finishedWhenSmallDone: number | undefined;
    const small = client.completions.create({ model: "tiny-chat", prompt: "Hello", max_tokens: 2 }).then(() => (finishedWhenSmallDone = finished));
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) finished += r.value.choices.filter((c) => c.finish_reason).length;
    await small;
    // Ordering, not timing: with a fair share the small request gets a free sequence at once and ends
    // while the big one's first batch of choices is still generating; without it, it waits behind
    // most of the 32 choices.
    assert.equal(finished, 32);
    assert.ok(finishedWhenSmallDone !== undefined && finishedWhenSmallDone < 16, `the small request ended after ${finishedWhenSmallDone} of the big request's 32 choices`);
  });
});
