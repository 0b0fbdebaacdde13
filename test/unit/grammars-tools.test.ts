// Tool-call grammar (checked with llama.cpp's grammar parser and matcher), parser and prompt.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useLlama } from "./grammar-llama.ts";
import type { Matcher } from "./grammar-llama.ts";
import {
  TOOL_CALL_CLOSE, TOOL_CALL_OPEN, parseToolCalls, toolCallGrammar, toolsSystemPrompt,
} from "../../src/engines/llamacpp/grammars/index.ts";
import type { ToolCallMode, ToolDefinition } from "../../src/engines/llamacpp/grammars/index.ts";


const getLlama = useLlama();

const TOOLS: ToolDefinition[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" }, unit: { enum: ["c", "f"] } }, required: ["city"], additionalProperties: false },
      strict: true,
    },
  },
  { type: "function", function: { name: "now", description: "The current time" } },
];

async function grammarFor(mode: ToolCallMode, parallel: boolean, tools: unknown[] = TOOLS): Promise<Matcher> {
  const r = toolCallGrammar(tools as ToolDefinition[], mode, parallel);
  assert.ok(r.ok, r.ok ? "" : `${r.reason} (${r.path})`);
  assert.equal(r.rootRule, "root");
  return (await getLlama().createGrammar({ grammar: r.gbnf })) as unknown as Matcher;
}

const weather = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>';
const weatherNl = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "c"}}\n</tool_call>';
const now = '<tool_call>{"name":"now","arguments":{}}</tool_call>';

describe("toolCallGrammar", () => {
  test("auto: calls or free text; the first non-whitespace character decides", async () => {
    const g = await grammarFor("auto", true);
    for (const t of [weather, weatherNl, now, `${weather}\n${now}`, `${weather}${now}`, "Hello!", "", "The answer is <b>42</b>.", `\n${weather}`, "  Hi"]) {
      assert.equal(g._testText(t), true, t);
    }
    const bad = [
      "<b>hi</b>",
      '<tool_call>{"name": "nope", "arguments": {}}</tool_call>',
      '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>',
      '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "x": 1}}</tool_call>',
      '<tool_call>{"name": "now", "arguments": {"a": 1}}</tool_call>',
      `${weather} and more text`,
      `${weather}\n\n${now}`,
      `     ${weather}`,
      `\u00a0${weather}`, // trimStart() would see a call here, so free text must not start like this
      "\u2028Hello",
    ];
    for (const t of bad) assert.equal(g._testText(t), false, t);
  });

  test("parallel=false allows exactly one call", async () => {
    const g = await grammarFor("auto", false);
    assert.equal(g._testText(weather), true);
    assert.equal(g._testText(`${weather}\n${now}`), false);
  });

  test("required: only call blocks", async () => {
    const g = await grammarFor("required", true);
    assert.equal(g._testText(`${now}\n${weather}`), true);
    assert.equal(g._testText("Hello"), false);
    assert.equal(g._testText(""), false);
  });

  test("named function: exactly one call to it", async () => {
    const g = await grammarFor({ name: "now" }, true);
    assert.equal(g._testText(now), true);
    assert.equal(g._testText(weather), false);
    assert.equal(g._testText(`${now}\n${now}`), false);
    assert.equal(g._testText("Hello"), false);
  });

  test("maxParallelCalls caps the number of blocks", async () => {
    const r = toolCallGrammar(TOOLS, "required", true, { maxParallelCalls: 2 });
    assert.ok(r.ok);
    const g = (await getLlama().createGrammar({ grammar: r.gbnf })) as unknown as Matcher;
    assert.equal(g._testText(`${now}${now}`), true);
    assert.equal(g._testText(`${now}${now}${now}`), false);
  });

  test("$defs are resolved per tool, without clashes between tools", async () => {
    const tool = (name: string, item: unknown): unknown => ({
      type: "function",
      function: { name, parameters: { properties: { x: { $ref: "#/$defs/Item" } }, required: ["x"], $defs: { Item: item } } },
    });
    const g = await grammarFor("required", false, [tool("a", { type: "integer" }), tool("b", { type: "string" })]);
    assert.equal(g._testText('<tool_call>{"name":"a","arguments":{"x":1}}</tool_call>'), true);
    assert.equal(g._testText('<tool_call>{"name":"b","arguments":{"x":"s"}}</tool_call>'), true);
    assert.equal(g._testText('<tool_call>{"name":"a","arguments":{"x":"s"}}</tool_call>'), false);
  });

  test("errors name the offending tool and field", () => {
    const tools = [...TOOLS, { type: "function", function: { name: "search", parameters: { type: "object", properties: { q: { type: "string", not: { const: "" } } } } } }];
    const r = toolCallGrammar(tools as ToolDefinition[], "auto", true);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.path, "tools[2].function.parameters#/properties/q");
    assert.match(r.reason, /^function 'search': 'not' at tools\[2\]\.function\.parameters#\/properties\/q is not supported/);
  });

  const invalid: [string, unknown[], ToolCallMode, string, RegExp][] = [
    ["no tools", [], "auto", "tools", /at least one function/],
    ["not a function tool", [{ type: "retrieval" }], "auto", "tools[0]", /"type": "function"/],
    ["missing name", [{ type: "function", function: {} }], "auto", "tools[0].function.name", /non-empty string/],
    ["duplicate name", [TOOLS[1], TOOLS[1]], "auto", "tools[1].function.name", /used twice/],
    ["non-object parameters", [{ type: "function", function: { name: "f", parameters: { type: "string" } } }], "auto", "tools[0].function.parameters", /must describe an object/],
    ["unknown named function", TOOLS, { name: "missing" }, "tool_choice", /'missing'/],
    ["bad mode", TOOLS, "sometimes" as ToolCallMode, "tool_choice", /tool_choice/],
  ];
  for (const [name, tools, mode, path, reason] of invalid) {
    test(`rejects: ${name}`, () => {
      const r = toolCallGrammar(tools as ToolDefinition[], mode, true);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.path, path);
      assert.match(r.reason, reason);
    });
  }
});

describe("parseToolCalls", () => {
  test("parses one or more blocks into compact JSON arguments", () => {
    assert.deepEqual(parseToolCalls(weather), [{ name: "get_weather", arguments: '{"city":"Paris"}' }]);
    assert.deepEqual(parseToolCalls(`\n${weatherNl}\n${now}\n`), [
      { name: "get_weather", arguments: '{"city":"Oslo","unit":"c"}' },
      { name: "now", arguments: "{}" },
    ]);
  });

  test("braces and the close tag inside strings do not confuse it", () => {
    const text = `${TOOL_CALL_OPEN}{"name": "echo", "arguments": {"s": "} ${TOOL_CALL_CLOSE} {\\"x\\": ]"}}${TOOL_CALL_CLOSE}`;
    assert.deepEqual(parseToolCalls(text), [{ name: "echo", arguments: JSON.stringify({ s: `} ${TOOL_CALL_CLOSE} {"x": ]` }) }]);
  });

  test("accepts arguments given as a JSON string", () => {
    assert.deepEqual(parseToolCalls('<tool_call>{"name":"f","arguments":"{\\"a\\": 1}"}</tool_call>'), [{ name: "f", arguments: '{"a":1}' }]);
  });

  test("returns null for anything that is not only well-formed calls", () => {
    for (const t of [
      "Hello",
      "",
      `Sure! ${weather}`,
      `${weather} trailing`,
      '<tool_call>{"name": "f", "arguments": {"a": 1}',
      '<tool_call>{"name": "f", "arguments": [1]}</tool_call>',
      '<tool_call>{"arguments": {}}</tool_call>',
      "<tool_call>not json</tool_call>",
    ]) {
      assert.equal(parseToolCalls(t), null, t);
    }
  });
});

describe("toolsSystemPrompt", () => {
  test("lists every function with description and schema, and the exact call format", () => {
    const prompt = toolsSystemPrompt(TOOLS);
    assert.ok(prompt.includes(JSON.stringify({ name: "get_weather", description: "Current weather for a city", parameters: TOOLS[0].function.parameters })));
    assert.ok(prompt.includes('"name":"now"'));
    assert.ok(prompt.includes(`${TOOL_CALL_OPEN}\n{"name": "<function name>", "arguments": <arguments as a JSON object>}\n${TOOL_CALL_CLOSE}`));
    assert.equal(TOOL_CALL_OPEN, "<tool_call>");
    assert.equal(TOOL_CALL_CLOSE, "</tool_call>");
  });
});
