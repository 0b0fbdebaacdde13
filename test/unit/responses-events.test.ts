import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import type { ChatChunk } from "../../src/core/generation/types.ts";
import { ResponseBuilder, type ResponseBase, type ResponseEvent } from "../../src/http/openai/responses-events.ts";
import { replayEvents } from "../../src/http/openai/responses.ts";

const base = (): ResponseBase => ({
  id: "resp_1",
  created_at: 1,
  model: "qwen-test",
  instructions: null,
  max_output_tokens: null,
  temperature: 1,
  top_p: 1,
  tools: [],
  tool_choice: "auto",
  text: { format: { type: "text" } },
  parallel_tool_calls: true,
  metadata: {},
  previous_response_id: null,
  store: true,
});
const usage = { promptTokens: 5, completionTokens: 3, cachedTokens: 0 };

function run(chunks: ChatChunk[]) {
  const b = new ResponseBuilder(base());
  const events = [...b.start(), ...chunks.flatMap((c) => b.push(c))];
  const done = b.finish(usage);
  return { events: [...events, ...done.events], response: done.response };
}

/** openai-node's own responses.stream() over the events (its strict accumulator), through a fake fetch. */
async function viaSdk(events: ResponseEvent[]) {
  const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
  const client = new OpenAI({ apiKey: "k", baseURL: "http://x/v1", fetch: async () => new Response(sse, { headers: { "content-type": "text/event-stream" } }) });
  const seen: string[] = [];
  const stream = client.responses.stream({ model: "d", input: "hi" });
  stream.on("event", (e) => seen.push(e.type));
  return { final: await stream.finalResponse(), seen };
}

test("text: the documented sequence with rising sequence numbers, ending in completed with the full output", async () => {
  const { events, response } = run([
    { type: "content", index: 0, text: "Hel" },
    { type: "content", index: 0, text: "lo" },
    { type: "finish", index: 0, reason: "stop" },
  ]);
  assert.deepEqual(events.map((e) => e.type), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  assert.equal(response.status, "completed");
  assert.equal(response.output_text, "Hello");
  assert.deepEqual(response.usage, { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 8 });
  const { final, seen } = await viaSdk(events);
  assert.equal(final.output_text, "Hello");
  assert.equal(seen.length, events.length);
});

test("function calls: an item with call_id, arguments delta and done; the SDK accepts it", async () => {
  const { events, response } = run([
    { type: "tool_call", index: 0, callIndex: 0, call: { id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}' } },
    { type: "finish", index: 0, reason: "tool_calls" },
  ]);
  assert.deepEqual(events.map((e) => e.type).slice(2), [
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
  ]);
  const item = response.output[0];
  assert.equal(item.type, "function_call");
  assert.ok(item.type === "function_call" && item.call_id === "call_a" && item.id.startsWith("fc_"));
  const { final } = await viaSdk(events);
  assert.deepEqual(final.output.map((o) => o.type), ["function_call"]);
});

test("length → incomplete with reason max_output_tokens; the SDK reads the final response", async () => {
  const { events, response } = run([
    { type: "content", index: 0, text: "abc" },
    { type: "finish", index: 0, reason: "length" },
  ]);
  assert.equal(events.at(-1)!.type, "response.incomplete");
  assert.equal(response.status, "incomplete");
  assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
  await viaSdk(events).catch((e) => assert.fail(String(e)));
});

test("an empty reply is still one message; replay of a stored response is a sequence the SDK accepts", async () => {
  const { events, response } = run([{ type: "finish", index: 0, reason: "stop" }]);
  assert.equal(response.output.length, 1);
  assert.equal((await viaSdk(events)).final.output_text, "");
  const mixed = run([
    { type: "content", index: 0, text: "Let me check." },
    { type: "tool_call", index: 0, callIndex: 0, call: { id: "call_b", name: "f", arguments: "{}" } },
    { type: "finish", index: 0, reason: "tool_calls" },
  ]);
  const replay = replayEvents(mixed.response);
  assert.deepEqual(replay.map((e) => e.type), mixed.events.map((e) => e.type));
  assert.equal((await viaSdk(replay)).final.output_text, "Let me check.");
});

test("an error event after the start is the SDK's APIError", async () => {
  const b = new ResponseBuilder(base());
  const events = [...b.start(), b.error("server_error", "the model stopped", null)];
  await assert.rejects(viaSdk(events), /the model stopped/);
});
