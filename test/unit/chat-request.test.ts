import assert from "node:assert/strict";
import { test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { parseChatRequest } from "../../src/http/openai/chat-request.ts";

const base = { messages: [{ role: "user", content: "hi" }] };
const fails = (body: unknown, param: string | null, pattern?: RegExp) =>
  assert.throws(
    () => parseChatRequest(body, "d"),
    (e: unknown) => {
      assert.ok(e instanceof IngotError);
      assert.equal(e.status, 400);
      assert.equal(e.param, param);
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
  );

test("defaults follow OpenAI's", () => {
  const r = parseChatRequest(base, "d");
  assert.equal(r.sampling.temperature, 1);
  assert.equal(r.sampling.topP, 1);
  assert.equal(r.n, 1);
  assert.equal(r.toolChoice, "none");
  assert.equal(r.parallelToolCalls, true);
  assert.deepEqual(r.responseFormat, { type: "text" });
  assert.equal(r.stream, false);
});

test("content parts are joined; developer and tool roles are accepted", () => {
  const r = parseChatRequest(
    {
      messages: [
        { role: "developer", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: "ok" },
      ],
    },
    "d",
  );
  assert.equal(r.messages[0].content, "ab");
  assert.equal(r.messages[1].toolCalls![0].name, "f");
  assert.equal(r.messages[2].toolCallId, "c1");
});

test("tools default tool_choice to auto; named choice must exist", () => {
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  assert.equal(parseChatRequest({ ...base, tools }, "d").toolChoice, "auto");
  assert.deepEqual(parseChatRequest({ ...base, tools, tool_choice: { type: "function", function: { name: "f" } } }, "d").toolChoice, { name: "f" });
  fails({ ...base, tools, tool_choice: { type: "function", function: { name: "g" } } }, "tool_choice", /'g'/);
});

test("bad input names the parameter and what to send", () => {
  fails({ messages: [{ role: "robot", content: "x" }] }, "messages[0].role", /Supported values/);
  fails({ messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id");
  fails({ ...base, max_tokens: 5, max_completion_tokens: 5 }, "max_tokens");
  fails({ ...base, top_logprobs: 2 }, "top_logprobs", /logprobs/);
  fails({ ...base, stream_options: { include_usage: true } }, "stream_options");
  fails({ ...base, logit_bias: { abc: 1 } }, "logit_bias");
  fails({ ...base, response_format: { type: "yaml" } }, "response_format.type");
  fails({ ...base, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, "messages[0].content[0].type");
});
