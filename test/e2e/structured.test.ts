// JSON mode, JSON-schema structured output and tool calls: enforced by a grammar, so even
// a random-weight model's output parses and validates.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Ajv } from "ajv";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const ajv = new Ajv({ strict: false });
const messages = [{ role: "user" as const, content: "Give me data." }];

const personSchema = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 12 },
    age: { type: "integer" },
    tags: { type: "array", items: { type: "string", enum: ["a", "b", "c"] }, maxItems: 3 },
    kind: { enum: ["person", "robot"] },
  },
  required: ["name", "age", "tags", "kind"],
  additionalProperties: false,
};

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 }, unit: { enum: ["c", "f"] } }, required: ["city", "unit"], additionalProperties: false },
  },
};
const timeTool = {
  type: "function" as const,
  function: { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string", maxLength: 10 } }, required: ["zone"] } },
};

describe("structured output", () => {
  test("json_object output is a JSON object (non-streaming and streaming)", async () => {
    let completed = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 300, seed, response_format: { type: "json_object" } });
      const text = r.choices[0].message.content!;
      assert.match(text, /^\s*\{/, "the output starts as an object even when cut off by max_tokens");
      if (r.choices[0].finish_reason !== "stop") continue;
      completed++;
      const parsed = JSON.parse(text);
      assert.equal(typeof parsed, "object");
      assert.ok(parsed !== null && !Array.isArray(parsed));
    }
    assert.ok(completed >= 1, "at least one run finished its object within max_tokens");
    let streamed = "";
    for await (const c of await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 300, seed: 1, response_format: { type: "json_object" }, stream: true }))
      streamed += c.choices[0]?.delta?.content ?? "";
    assert.match(streamed, /^\s*\{/);
  });

  test("json_schema output parses and validates against the schema", async () => {
    const validate = ajv.compile(personSchema);
    for (const stream of [false, true]) {
      for (let seed = 1; seed <= 3; seed++) {
        const req = { model: "tiny-chat", messages, max_tokens: 400, seed, response_format: { type: "json_schema" as const, json_schema: { name: "person", schema: personSchema, strict: true } } };
        let text = "";
        let finish: string | null = null;
        if (stream) {
          for await (const c of await server.azure({ deployment: "tiny-chat" }).chat.completions.create({ ...req, stream: true })) {
            text += c.choices[0]?.delta?.content ?? "";
            finish = c.choices[0]?.finish_reason ?? finish;
          }
        } else {
          const r = await server.azure({ deployment: "tiny-chat" }).chat.completions.create(req);
          text = r.choices[0].message.content!;
          finish = r.choices[0].finish_reason;
        }
        assert.equal(finish, "stop", `the grammar bounds the output so it completes: ${text}`);
        const value = JSON.parse(text);
        assert.ok(validate(value), `${text}: ${ajv.errorsText(validate.errors)}`);
      }
    }
  });

  test("a schema that cannot be enforced is a 400 that says why", async () => {
    const res = await server.post("/openai/v1/chat/completions", {
      model: "tiny-chat",
      messages,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", not: { required: ["a"] } } } },
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error.param, "response_format");
    assert.match(body.error.message, /not/);
  });

  test("a schema that is not JSON Schema is a 400", async () => {
    const res = await server.post("/openai/v1/chat/completions", {
      model: "tiny-chat",
      messages,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "strng" } } },
    });
    assert.equal(res.status, 400);
    assert.match((await json(res)).error.message, /strng/);
  });
});

describe("tool calls", () => {
  const validateWeather = ajv.compile(weatherTool.function.parameters);
  const validateTime = ajv.compile(timeTool.function.parameters);

  test("tool_choice required gives tool_calls whose arguments validate", async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 300, seed, tools: [weatherTool, timeTool], tool_choice: "required" });
      const choice = r.choices[0];
      assert.equal(choice.finish_reason, "tool_calls");
      assert.ok(choice.message.tool_calls!.length >= 1);
      for (const call of choice.message.tool_calls!) {
        assert.equal(call.type, "function");
        assert.match(call.id, /^call_/);
        const fn = (call as { function: { name: string; arguments: string } }).function;
        const args = JSON.parse(fn.arguments);
        const validate = fn.name === "get_weather" ? validateWeather : validateTime;
        assert.ok(validate(args), `${fn.name} ${fn.arguments}`);
      }
    }
  });

  test("a named tool_choice calls exactly that function once; streaming sends tool-call deltas", async () => {
    const stream = await server.azure({ deployment: "tiny-chat" }).chat.completions.create({
      model: "x",
      messages,
      max_tokens: 300,
      seed: 9,
      tools: [weatherTool, timeTool],
      tool_choice: { type: "function", function: { name: "get_time" } },
      stream: true,
    });
    const calls: { index: number; name?: string; arguments?: string; id?: string }[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      for (const d of c.choices[0]?.delta?.tool_calls ?? []) calls.push({ index: d.index, id: d.id, name: d.function?.name, arguments: d.function?.arguments });
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, "tool_calls");
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, "get_time");
    assert.ok(validateTime(JSON.parse(calls[0].arguments!)));
  });

  test("parallel_tool_calls false gives exactly one call; tool_choice none gives text", async () => {
    const one = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 300, seed: 2, tools: [weatherTool], tool_choice: "required", parallel_tool_calls: false });
    assert.equal(one.choices[0].message.tool_calls!.length, 1);
    const none = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 8, seed: 2, tools: [weatherTool], tool_choice: "none" });
    assert.equal(none.choices[0].message.tool_calls, undefined);
    assert.equal(typeof none.choices[0].message.content, "string");
  });

  test("auto either answers or calls a valid tool; tool results round-trip in history", async () => {
    const r = await server.v1().chat.completions.create({ model: "tiny-chat", messages, max_tokens: 200, seed: 4, tools: [weatherTool] });
    const choice = r.choices[0];
    if (choice.message.tool_calls?.length) {
      assert.equal(choice.finish_reason, "tool_calls");
      const fn = (choice.message.tool_calls[0] as { function: { arguments: string } }).function;
      assert.ok(validateWeather(JSON.parse(fn.arguments)));
    } else assert.ok(["stop", "length"].includes(choice.finish_reason));
    const followUp = await server.v1().chat.completions.create({
      model: "tiny-chat",
      max_tokens: 4,
      messages: [
        ...messages,
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo","unit":"c"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: '{"temp": 3}' },
      ],
      tools: [weatherTool],
    });
    assert.equal(followUp.choices[0].message.role, "assistant");
  });

  test("a tool whose parameters schema cannot be enforced is a 400 naming the tool", async () => {
    const res = await server.post("/openai/v1/chat/completions", {
      model: "tiny-chat",
      messages,
      tools: [weatherTool, { type: "function", function: { name: "bad", parameters: { type: "object", patternProperties: { "^x": { type: "string" } } } } }],
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error.param, "tools");
    assert.match(body.error.message, /tools\[1\]/);
  });
});
