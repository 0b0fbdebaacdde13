import assert from "node:assert/strict";
import { test } from "node:test";
import { ToolCallScanner } from "../../src/engines/llamacpp/tool-call-scanner.ts";

test("free text passes through as content", () => {
  const s = new ToolCallScanner();
  assert.deepEqual(s.push("Hel"), [{ type: "content", text: "Hel" }]);
  assert.deepEqual(s.push("lo <b>"), [{ type: "content", text: "lo <b>" }]);
  assert.equal(s.sawCalls, false);
});

test("tool-call blocks are emitted as each one closes, even when split across pieces", () => {
  const s = new ToolCallScanner();
  assert.deepEqual(s.push("<tool_call>{\"name\":\"f\",\"argu"), []);
  assert.deepEqual(s.push("ments\":{\"a\":1}}</tool_call>\n<tool_call>{\"name\":\"g\",\"arguments\":{}}"), [
    { type: "tool_call", name: "f", arguments: '{"a":1}' },
  ]);
  assert.deepEqual(s.push("</tool_call>"), [{ type: "tool_call", name: "g", arguments: "{}" }]);
  assert.equal(s.sawCalls, true);
});

test("leading whitespace does not decide the mode", () => {
  const s = new ToolCallScanner();
  assert.deepEqual(s.push("  "), []);
  assert.deepEqual(s.push("hi"), [{ type: "content", text: "  hi" }]);
});

test("a close tag inside an argument string does not end the call", () => {
  const s = new ToolCallScanner();
  assert.deepEqual(s.push('<tool_call>{"name":"f","arguments":{"q":"a</tool_call>b"}}</tool_call>'), [
    { type: "tool_call", name: "f", arguments: '{"q":"a</tool_call>b"}' },
  ]);
});

test("a call cut before its close tag is left as text for the reply, not a call", () => {
  const s = new ToolCallScanner();
  assert.deepEqual(s.push('<tool_call>{"name":"f","argu'), []);
  assert.equal(s.end(), '<tool_call>{"name":"f","argu');
  assert.equal(s.end(), "", "taken once");
  const whole = new ToolCallScanner();
  assert.deepEqual(whole.push('<tool_call>{"name":"f","arguments":{}}</tool_call>\n'), [{ type: "tool_call", name: "f", arguments: "{}" }]);
  assert.equal(whole.end(), "", "only whitespace after complete calls");
});

test("a call whose arguments are nested too deep to serialize comes out as text, not a throw", () => {
  const s = new ToolCallScanner();
  const args = "[".repeat(20_000) + "]".repeat(20_000);
  const block = `<tool_call>{"name":"f","arguments":${args}}</tool_call>`;
  const pieces = s.push(block);
  assert.deepEqual(pieces.map((p) => p.type), ["content"]);
  assert.equal(pieces[0].type === "content" && pieces[0].text, block);
});
