import assert from "node:assert/strict";
import { test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { conversationFor, parseResponsesRequest } from "../../src/http/openai/responses-request.ts";

const fails = (body: unknown, param: string | null, pattern?: RegExp, chain = []) =>
  assert.throws(
    () => conversationFor(parseResponsesRequest(body, "d"), chain),
    (e: unknown) => {
      assert.ok(e instanceof IngotError);
      assert.equal(e.status, 400);
      assert.equal(e.param, param);
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
  );

test("a string input is one user message; instructions become the system message; defaults echo OpenAI's", () => {
  const r = parseResponsesRequest({ model: "d", input: "Hello", instructions: "Be brief." }, "d");
  assert.deepEqual(conversationFor(r, []), [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hello" },
  ]);
  assert.equal(r.store, true);
  assert.equal(r.stream, false);
  assert.equal(r.chat.sampling.temperature, 1);
  assert.equal(r.chat.toolChoice, "none");
  assert.deepEqual(r.echo.text, { format: { type: "text" } });
  assert.equal(r.inputItems.length, 1);
  assert.match(String(r.inputItems[0].id), /^msg_/);
  assert.deepEqual(r.inputItems[0].content, [{ type: "input_text", text: "Hello" }]);
});

test("items: roles, content parts, max_output_tokens, sampling, metadata", () => {
  const r = parseResponsesRequest(
    {
      input: [
        { role: "developer", content: "Rules." },
        { type: "message", role: "user", content: [{ type: "input_text", text: "a" }, { type: "input_text", text: "b" }] },
        { role: "assistant", content: [{ type: "output_text", text: "ok" }] },
      ],
      max_output_tokens: 16,
      temperature: 0.2,
      top_p: 0.5,
      metadata: { k: "v" },
      store: false,
    },
    "d",
  );
  assert.deepEqual(r.input.map((m) => [m.role, m.content]), [["developer", "Rules."], ["user", "ab"], ["assistant", "ok"]]);
  assert.equal(r.chat.maxTokens, 16);
  assert.equal(r.chat.sampling.topP, 0.5);
  assert.deepEqual(r.metadata, { k: "v" });
  assert.equal(r.store, false);
});

test("text.format json_schema becomes the structured-output format; function tools the tool machinery", () => {
  const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };
  const r = parseResponsesRequest(
    {
      input: "x",
      text: { format: { type: "json_schema", name: "thing", schema, strict: true } },
      tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: {} } }],
      tool_choice: { type: "function", name: "get_weather" },
    },
    "d",
  );
  assert.deepEqual(r.chat.responseFormat, { type: "json_schema", name: "thing", schema, strict: true });
  assert.equal(r.chat.tools[0].name, "get_weather");
  assert.deepEqual(r.chat.toolChoice, { name: "get_weather" });
  assert.deepEqual(r.echo.tool_choice, { type: "function", name: "get_weather" });
  assert.deepEqual(parseResponsesRequest({ input: "x", text: { format: { type: "json_object" } } }, "d").chat.responseFormat, { type: "json_object" });
});

test("a function call round trip: function_call items join one assistant turn; outputs answer them", () => {
  const r = parseResponsesRequest(
    {
      input: [
        { role: "user", content: "weather?" },
        { type: "function_call", call_id: "call_1", name: "w", arguments: '{"c":"P"}' },
        { type: "function_call", call_id: "call_2", name: "w", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: "sunny" },
        { type: "function_call_output", call_id: "call_2", output: "rain" },
      ],
    },
    "d",
  );
  const messages = conversationFor(r, []);
  assert.equal(messages.length, 4);
  assert.deepEqual(messages[1].toolCalls?.map((c) => c.id), ["call_1", "call_2"]);
  assert.deepEqual(messages.slice(2).map((m) => [m.role, m.toolCallId, m.content]), [["tool", "call_1", "sunny"], ["tool", "call_2", "rain"]]);
  assert.match(String(r.inputItems[1].id), /^fc_/);
});

test("a function_call_output may answer a call of the chained response; one answering nothing is a 400 naming it", () => {
  const body = { input: [{ type: "function_call_output", call_id: "call_9", output: "x" }] };
  const chain = [{ role: "assistant" as const, content: "", toolCalls: [{ id: "call_9", name: "w", arguments: "{}" }] }];
  assert.equal(conversationFor(parseResponsesRequest(body, "d"), chain).length, 2);
  fails({ input: [{ role: "user", content: "a" }, { type: "function_call_output", call_id: "call_9", output: "x" }] }, "input[1].call_id", /No tool call found/);
});

test("malformed items are 400s whose param names the path and what to write", () => {
  fails({}, "input");
  fails({ input: [] }, "input");
  fails({ input: 5 }, "input");
  fails({ input: ["hi"] }, "input[0]");
  fails({ input: [{ type: "banana" }] }, "input[0].type", /message.*function_call/);
  fails({ input: [{ role: "user", content: "a" }, { content: "no role" }] }, "input[1].role", /'user'/);
  fails({ input: [{ role: "wizard", content: "a" }] }, "input[0].role");
  fails({ input: [{ role: "user" }] }, "input[0].content");
  fails({ input: [{ role: "user", content: "a" }, { role: "user", content: "b" }, { role: "user", content: [{ type: "input_video", text: "x" }] }] }, "input[2].content[0].type", /input_text/);
  fails({ input: [{ role: "user", content: [{ type: "input_image", image_url: "x" }] }] }, "input[0].content[0].type", /not supported/);
  fails({ input: [{ role: "user", content: [{ type: "input_text" }] }] }, "input[0].content[0].text");
  fails({ input: [{ type: "function_call", call_id: "c", name: "f", arguments: "{nope" }] }, "input[0].arguments");
  fails({ input: [{ type: "function_call_output", output: "x" }] }, "input[0].call_id");
  fails({ input: "x", tools: [{ type: "web_search_preview" }] }, "tools[0].type", /function tools only/);
  fails({ input: "x", tools: [{ type: "function", function: { name: "f" } }] }, "tools[0].name", /flat/);
  fails({ input: "x", tools: [{ type: "function", name: "bad name" }] }, "tools[0].name");
  fails({ input: "x", tools: [{ type: "function", name: "f", parameters: [] }] }, "tools[0].parameters");
  fails({ input: "x", tools: [{ type: "function", name: "f" }, { type: "function", name: "f" }] }, "tools[1].name", /Duplicate/);
  fails({ input: "x", tool_choice: "required" }, "tool_choice");
  fails({ input: "x", tools: [{ type: "function", name: "f" }], tool_choice: { type: "function", name: "g" } }, "tool_choice.name");
  fails({ input: "x", text: { format: { type: "json_schema", schema: {} } } }, "text.format.name");
  fails({ input: "x", text: { format: { type: "json_schema", name: "n", schema: [] } } }, "text.format.schema");
  fails({ input: "x", text: { format: { type: "yaml" } } }, "text.format.type");
  fails({ input: "x", max_output_tokens: 0 }, "max_output_tokens");
  fails({ input: "x", temperature: 3 }, "temperature");
  fails({ input: "x", metadata: { k: 1 } }, "metadata.k");
  fails({ input: "x", previous_response_id: "" }, "previous_response_id");
});
