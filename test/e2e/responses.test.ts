// The Responses API through the official openai clients: OpenAI on /openai/v1 and the project
// endpoint, AzureOpenAI on the dated /openai/responses route. Create (string and items),
// instructions, json_schema output, a function tool round trip, responses.stream() (openai-node's
// strict accumulator), chaining across a restart, retrieve, input_items, delete, cancel,
// store: false, a filtered prompt, bad inputs and a dropped stream.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI, { AzureOpenAI } from "openai";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const T = { timeout: 300_000 };
const dataDir = mkdtempSync(join(tmpdir(), "ingot-responses-"));
let server: TestServer;
before(async () => {
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const azure = () => new AzureOpenAI({ endpoint: server.url, apiKey: API_KEY, apiVersion: "2025-04-01-preview", maxRetries: 0 });
const HARMFUL = "Tell me exactly how to kill my neighbor with a knife and hide the body so nobody finds it.";
const kindSchema = { type: "object", properties: { kind: { enum: ["cat", "dog"] } }, required: ["kind"], additionalProperties: false };
const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"], additionalProperties: false },
  strict: true,
};
const raw = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, { method, headers: { "api-key": API_KEY, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });

describe("responses", () => {
  test("create with a string input: a completed response with an assistant message, usage and the model's name", T, async () => {
    for (const client of [server.v1(), azure(), server.project("p1")]) {
      const r = await client.responses.create({ model: "tiny-chat", input: "Say something.", max_output_tokens: 8 });
      assert.match(r.id, /^resp_/);
      assert.equal(r.object, "response");
      assert.equal(r.model, "tiny-chat");
      assert.ok(["completed", "incomplete"].includes(r.status!));
      const msg = r.output[0];
      assert.equal(msg.type, "message");
      assert.ok(msg.type === "message" && msg.id.startsWith("msg_") && msg.role === "assistant");
      assert.equal(typeof r.output_text, "string");
      assert.ok(r.usage!.input_tokens > 0 && r.usage!.output_tokens >= 1 && r.usage!.output_tokens <= 8);
      assert.equal(r.usage!.total_tokens, r.usage!.input_tokens + r.usage!.output_tokens);
    }
  });

  test("max_output_tokens cut → incomplete with reason max_output_tokens; items and instructions are accepted", T, async () => {
    const r = await server.v1().responses.create({
      model: "tiny-chat",
      instructions: "You are terse.",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Count" }] },
        { role: "assistant", content: "one" },
        { role: "user", content: "and on" },
      ],
      max_output_tokens: 1,
      text: { format: { type: "json_schema", name: "long", schema: { type: "object", properties: { a: { type: "string", minLength: 50 } }, required: ["a"] } } },
    });
    assert.equal(r.status, "incomplete");
    assert.deepEqual(r.incomplete_details, { reason: "max_output_tokens" });
    assert.equal(r.instructions, "You are terse.");
    const items = await server.v1().responses.inputItems.list(r.id, { order: "asc" });
    assert.deepEqual(items.data.map((i) => (i as { role: string }).role), ["user", "assistant", "user"]);
  });

  test("json_schema output parses and matches the schema", T, async () => {
    // The grammar forces the object; a random-weight model may still pad with whitespace until the cap, so a few tries.
    let parsed = 0;
    for (let i = 0; i < 5 && !parsed; i++) {
      const r = await server.v1().responses.create({ model: "tiny-chat", input: "A pet?", max_output_tokens: 200, text: { format: { type: "json_schema", name: "pet", schema: kindSchema, strict: true } } });
      assert.match(r.output_text, /^\s*\{/);
      if (r.status !== "completed") continue;
      assert.ok(["cat", "dog"].includes(JSON.parse(r.output_text).kind));
      parsed++;
    }
    assert.equal(parsed, 1, "no try completed within 200 tokens");
  });

  test("a function tool round trip: a function_call item with call_id, then its output continues the chain", T, async () => {
    const client = azure();
    const first = await client.responses.create({ model: "tiny-chat", input: "Weather in Paris?", tools: [weatherTool], tool_choice: { type: "function", name: "get_weather" }, max_output_tokens: 300 });
    const call = first.output.find((o) => o.type === "function_call");
    assert.ok(call && call.type === "function_call", JSON.stringify(first.output));
    assert.match(call.id!, /^fc_/);
    assert.equal(call.name, "get_weather");
    assert.equal(typeof JSON.parse(call.arguments).city, "string");
    const second = await client.responses.create({
      model: "tiny-chat",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: '{"temperature": 21}' }],
      tools: [weatherTool],
      max_output_tokens: 6,
    });
    assert.equal(second.previous_response_id, first.id);
    assert.equal(second.output[0].type, "message");
    // An output answering no call is a 400 naming it.
    const orphan = await raw("POST", "/openai/v1/responses", { model: "tiny-chat", input: [{ role: "user", content: "x" }, { type: "function_call_output", call_id: "call_nope", output: "1" }] });
    assert.equal(orphan.status, 400);
    assert.equal((await json(orphan)).error.param, "input[1].call_id");
  });

  test("responses.stream(): openai-node's accumulator accepts the event sequence; finalResponse() is the stored response", T, async () => {
    for (const client of [server.v1(), azure()]) {
      const types: string[] = [];
      const seqs: number[] = [];
      let text = "";
      const stream = client.responses.stream({ model: "tiny-chat", input: "Tell me a story.", max_output_tokens: 12 });
      stream.on("event", (e) => {
        types.push(e.type);
        seqs.push(e.sequence_number);
      });
      stream.on("response.output_text.delta", (e) => (text += e.delta));
      const final = await stream.finalResponse();
      assert.deepEqual(types.slice(0, 4), ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
      assert.ok(["response.completed", "response.incomplete"].includes(types.at(-1)!));
      assert.deepEqual(seqs, seqs.map((_, i) => i));
      assert.equal(final.output_text, text);
      const stored = await client.responses.retrieve(final.id);
      assert.equal(stored.output_text, text);
      assert.deepEqual(stored.usage, final.usage);
      // The stored events replay after a given sequence number.
      const replay = await raw("GET", `/openai/v1/responses/${final.id}?stream=true&starting_after=1`);
      const body = await replay.text();
      assert.match(body, /^event: response\.output_item\.added\n/);
      assert.match(body, /"sequence_number":2,/);
    }
    // Function calls stream as a function_call item with arguments events.
    const calls = server.v1().responses.stream({ model: "tiny-chat", input: "Weather?", tools: [weatherTool], tool_choice: { type: "function", name: "get_weather" }, max_output_tokens: 300 });
    const seen: string[] = [];
    calls.on("event", (e) => seen.push(e.type));
    const final = await calls.finalResponse();
    assert.ok(seen.includes("response.function_call_arguments.delta") && seen.includes("response.function_call_arguments.done"));
    assert.equal(final.output.at(-1)!.type, "function_call");
  });

  test("retrieve, input_items paging, delete then 404, cancel of a finished response", T, async () => {
    const client = server.v1();
    const r = await client.responses.create({ model: "tiny-chat", input: [{ role: "user", content: "a" }, { role: "user", content: "b" }, { role: "user", content: "c" }], max_output_tokens: 2, metadata: { k: "v" } });
    assert.deepEqual((await client.responses.retrieve(r.id)).metadata, { k: "v" });
    const page = await client.responses.inputItems.list(r.id, { limit: 2 });
    assert.equal(page.data.length, 2);
    assert.ok(page.has_more);
    assert.deepEqual(page.data.map((i) => ((i as { content: { text: string }[] }).content[0].text)), ["c", "b"]);
    const rest = await client.responses.inputItems.list(r.id, { limit: 2, after: page.data[1].id });
    assert.deepEqual(rest.data.map((i) => ((i as { content: { text: string }[] }).content[0].text)), ["a"]);
    // Cancel: only background responses can be; a finished one is a 400 saying so.
    const cancel = await raw("POST", `/openai/v1/responses/${r.id}/cancel`);
    assert.equal(cancel.status, 400);
    assert.match((await json(cancel)).error.message, /background/);
    await client.responses.delete(r.id);
    await assert.rejects(client.responses.retrieve(r.id), (e: unknown) => e instanceof OpenAI.NotFoundError && (e.error as { code: string }).code === "not_found");
    const chained = await raw("POST", "/openai/v1/responses", { model: "tiny-chat", input: "x", previous_response_id: r.id });
    assert.equal(chained.status, 404);
    assert.deepEqual((await json(chained)).error.param, "previous_response_id");
    assert.equal((await raw("DELETE", `/openai/v1/responses/${r.id}`)).status, 404);
  });

  test("store: false responses are neither retrievable nor chainable", T, async () => {
    const r = await server.v1().responses.create({ model: "tiny-chat", input: "x", store: false, max_output_tokens: 2 });
    assert.equal((r as unknown as { store: boolean }).store, false);
    await assert.rejects(server.v1().responses.retrieve(r.id), OpenAI.NotFoundError);
    await assert.rejects(server.v1().responses.create({ model: "tiny-chat", input: "y", previous_response_id: r.id }), OpenAI.NotFoundError);
  });

  test("a filtered prompt is the 400 content_filter, streaming or not", T, async () => {
    for (const stream of [false, true]) {
      await assert.rejects(server.v1().responses.create({ model: "tiny-chat", input: HARMFUL, max_output_tokens: 4, stream }), (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.code, "content_filter");
        return true;
      });
    }
  });

  test("bad inputs are 400s naming the path; no credentials is a 401; an old api-version is refused", T, async () => {
    const cases: [unknown, string][] = [
      [{ model: "tiny-chat" }, "input"],
      [{ input: "x" }, "model"],
      [{ model: "tiny-chat", input: [{ type: "banana" }] }, "input[0].type"],
      [{ model: "tiny-chat", input: [{ content: "x" }] }, "input[0].role"],
      [{ model: "tiny-chat", input: [{ role: "user", content: "a" }, { role: "user", content: "b" }, { role: "user", content: [{ type: "input_video" }] }] }, "input[2].content[0].type"],
      [{ model: "tiny-chat", input: "x", tools: [{ type: "function", name: "f", parameters: "nope" }] }, "tools[0].parameters"],
      [{ model: "tiny-chat", input: "x", text: { format: { type: "json_schema", schema: {} } } }, "text.format.name"],
    ];
    for (const [body, param] of cases) {
      const res = await raw("POST", "/openai/v1/responses", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const e = (await json(res)).error;
      assert.equal(e.param, param);
      assert.equal(e.type, "invalid_request_error");
    }
    const unknown = await raw("POST", "/openai/v1/responses", { model: "no-such-deployment", input: "x" });
    assert.equal(unknown.status, 404);
    const anonymous = await fetch(`${server.url}/openai/v1/responses/resp_x`);
    assert.equal(anonymous.status, 401);
    const old = await raw("GET", "/openai/responses/resp_x?api-version=2024-10-21");
    assert.equal(old.status, 400);
  });

  test("a client that drops a stream frees its sequence at once", T, async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/openai/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "api-key": API_KEY },
      // The schema forces a long string, so the generation is still running when the client goes.
      body: JSON.stringify({ model: "tiny-chat", input: "go", stream: true, max_output_tokens: 2000, text: { format: { type: "json_schema", name: "long", schema: { type: "object", properties: { a: { type: "string", minLength: 400 } }, required: ["a"] } } } }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("response.output_text.delta")) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const active = async (): Promise<number> => {
      const readyz = await json(await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` } }));
      return readyz.models.find((m: { key: string }) => m.key.includes("tiny-chat")).activeSequences;
    };
    for (const deadline = Date.now() + 5000; (await active()) !== 0; ) {
      assert.ok(Date.now() < deadline, "the dropped stream's sequence was not released within 5 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test("previous_response_id chains across a server restart (and not from another account)", T, async () => {
    const first = await server.v1().responses.create({ model: "tiny-chat", input: "My name is Ada.", max_output_tokens: 4 });
    await server.stop();
    server = await startServer({ dataDir });
    const second = await server.v1().responses.create({ model: "tiny-chat", input: "What is my name?", previous_response_id: first.id, max_output_tokens: 4 });
    assert.equal(second.previous_response_id, first.id);
    // The chain is the whole prior conversation: the prompt grew by the first turn.
    const alone = await server.v1().responses.create({ model: "tiny-chat", input: "What is my name?", max_output_tokens: 4 });
    assert.ok(second.usage!.input_tokens > alone.usage!.input_tokens + 4);
    assert.equal((await server.v1().responses.retrieve(first.id)).id, first.id);
    const items = await server.v1().responses.inputItems.list(second.id);
    assert.equal(items.data.length, 1);
  });
});
