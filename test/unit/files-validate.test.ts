// Dataset validation (src/core/files/validate.ts): each malformed file gets its own precise
// problem naming the line, and the line reader is exact across chunk boundaries.
import assert from "node:assert/strict";
import test from "node:test";
import { firstInvalidUtf8, splitLines, validateDataset } from "../../src/core/files/validate.ts";

const enc = new TextEncoder();
const chat = (i: number) => JSON.stringify({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: `Q${i}` }, { role: "assistant", content: `A${i}` }] });
const pc = (i: number) => JSON.stringify({ prompt: `P${i}`, completion: ` C${i}` });
const lines = (n: number, make = chat) => Array.from({ length: n }, (_, i) => make(i + 1));

/** Feeds the bytes in chunks of `size`, to cross line boundaries anywhere. */
async function* chunked(bytes: Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
const validate = (text: string | Uint8Array, size?: number) => validateDataset(chunked(typeof text === "string" ? enc.encode(text) : text, size));
const withLine = (n: number, line: number, bad: string) => {
  const l = lines(n);
  l[line - 1] = bad;
  return l.join("\n") + "\n";
};

test("a 10-example chat file is processed: format and count recorded", async () => {
  const r = await validate(lines(10).join("\n") + "\n");
  assert.deepEqual({ ok: r.ok, format: r.format, examples: r.examples, details: r.details }, { ok: true, format: "chat", examples: 10, details: null });
});

test("a prompt/completion file is processed", async () => {
  const r = await validate(lines(12, pc).join("\n"));
  assert.deepEqual({ ok: r.ok, format: r.format, examples: r.examples }, { ok: true, format: "prompt_completion", examples: 12 });
});

test("BOM, CRLF line ends and blank lines are accepted; blank lines are not examples", async () => {
  const text = "\uFEFF" + lines(10).join("\r\n") + "\r\n\r\n   \n";
  const r = await validate(text, 3);
  assert.equal(r.ok, true, r.details ?? "");
  assert.equal(r.examples, 10);
});

test("bad JSON at line 3", async () => {
  const r = await validate(withLine(12, 3, '{"messages": [{"role": "user", "content": "hi"}'));
  assert.equal(r.ok, false);
  assert.match(r.details!, /^line 3: invalid JSON \(.+\); each line must be one complete JSON object$/);
  assert.equal(r.problemCount, 1);
});

test("missing assistant turn", async () => {
  const r = await validate(withLine(12, 5, JSON.stringify({ messages: [{ role: "user", content: "hi" }] })));
  assert.equal(r.details, "line 5: no assistant message; each example needs at least one assistant message to learn from");
});

test("unknown role", async () => {
  const r = await validate(withLine(12, 7, JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "bot", content: "yo" }] })));
  assert.equal(r.details, "line 7: unknown role 'bot' in messages[1]; use system, user, assistant or tool");
});

test("9 examples", async () => {
  const r = await validate(lines(9).join("\n") + "\n");
  assert.equal(r.details, "9 examples: a training file needs at least 10");
  assert.equal((await validate("")).details, "0 examples: a training file needs at least 10");
});

test("invalid UTF-8 names the line and the byte offset", async () => {
  const before = enc.encode(lines(3).join("\n") + "\n");
  const bad = enc.encode('{"prompt": "caf');
  const bytes = new Uint8Array([...before, ...bad, 0xe9, ...enc.encode('", "completion": "x"}\n'), ...enc.encode(lines(8).join("\n"))]);
  const r = await validate(bytes, 5);
  const offset = before.length + bad.length;
  assert.equal(r.details, `line 4: invalid UTF-8 at byte offset ${offset} of the file (byte ${bad.length + 1} of the line, 0xE9); save the file as UTF-8`);
});

test("a UTF-16 file is named as such, once", async () => {
  const text = lines(10).join("\n");
  const bytes = new Uint8Array(2 + text.length * 2);
  bytes.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) bytes[2 + i * 2] = text.charCodeAt(i);
  const r = await validate(bytes);
  assert.equal(r.details, "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8");
});

test("weights: only 0 or 1, only on assistant messages, not all 0", async () => {
  const msg = (weight: unknown, role = "assistant") => JSON.stringify({ messages: [{ role: "user", content: "q" }, { role, content: "a", weight }] });
  assert.equal((await validate(withLine(10, 2, msg(2)))).details, "line 2: messages[1].weight is 2; use 0 (do not train on this message) or 1 (train on it)");
  assert.equal((await validate(withLine(10, 2, msg(1, "user")))).details, "line 2: messages[1] is a user message with a 'weight'; only assistant messages take a weight");
  assert.match((await validate(withLine(10, 2, msg(0)))).details!, /^line 2: every assistant message has weight 0/);
  const mixed = JSON.stringify({ messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a", weight: 0 }, { role: "user", content: "q2" }, { role: "assistant", content: "b", weight: 1 }] });
  assert.equal((await validate(withLine(10, 2, mixed))).ok, true);
});

test("content: text parts accepted, other parts and non-strings refused", async () => {
  const parts = JSON.stringify({ messages: [{ role: "user", content: [{ type: "text", text: "q" }] }, { role: "assistant", content: "a" }] });
  assert.equal((await validate(withLine(10, 1, parts))).ok, true);
  const image = JSON.stringify({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }, { role: "assistant", content: "a" }] });
  assert.match((await validate(withLine(10, 1, image))).details!, /^line 1: messages\[0\]\.content\[0\] is a 'image_url' part; only text parts/);
  const num = JSON.stringify({ messages: [{ role: "user", content: 5 }, { role: "assistant", content: "a" }] });
  assert.equal((await validate(withLine(10, 1, num))).details, "line 1: messages[0].content must be a string or an array of text parts, not a number");
});

test("tools and tool calls", async () => {
  const good = JSON.stringify({
    messages: [
      { role: "user", content: "weather?" },
      { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
      { role: "assistant", content: "Sunny." },
    ],
    tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
  });
  assert.equal((await validate(withLine(10, 1, good))).ok, true);
  const badArgs = good.replace('"arguments":"{\\"city\\":\\"Oslo\\"}"', '"arguments":{"city":"Oslo"}');
  assert.equal((await validate(withLine(10, 1, badArgs))).details, "line 1: messages[1].tool_calls[0].function.arguments must be a string (the arguments as JSON text)");
  const badTools = JSON.stringify({ messages: JSON.parse(good).messages, tools: [{ name: "x" }] });
  assert.match((await validate(withLine(10, 1, badTools))).details!, /^line 1: tools\[0\] must be \{"type": "function"/);
});

test("prompt/completion: both strings", async () => {
  const l = lines(10, pc);
  l[1] = JSON.stringify({ prompt: "p" });
  l[2] = JSON.stringify({ prompt: "p", completion: 3 });
  const r = await validate(l.join("\n"));
  assert.deepEqual(r.problems, [
    "line 2: 'completion' is missing; a prompt/completion example needs both 'prompt' and 'completion' as strings",
    "line 3: 'completion' must be a string, not a number",
  ]);
});

test("mixing formats is an error naming both lines", async () => {
  const l = lines(10);
  l[5] = pc(1);
  assert.equal((await validate(l.join("\n"))).details, "line 6: a prompt/completion example in a file whose line 1 is a chat example; use one format per file");
});

test("not an object, unknown shape", async () => {
  const l = lines(10);
  l[0] = "[1, 2]";
  l[1] = JSON.stringify({ text: "t", label: 1 });
  assert.deepEqual((await validate(l.join("\n"))).problems, [
    "line 1: expected a JSON object, got an array",
    `line 2: expected a chat example {"messages": [...]} or a prompt/completion pair {"prompt": "...", "completion": "..."}; found keys 'text', 'label'`,
  ]);
});

test("the first 10 problems are listed, then a count; the example count comes first", async () => {
  const r = await validate(Array.from({ length: 8 }, () => "nope").concat(lines(0)).join("\n") + "\n" + Array.from({ length: 6 }, () => "{}").join("\n"));
  assert.equal(r.problemCount, 14);
  assert.equal(r.problems.length, 10);
  const details = r.details!.split("\n");
  assert.equal(details.length, 11);
  assert.match(details[0], /^line 1: invalid JSON/);
  assert.equal(details[10], "and 4 more problems");
  const few = await validate(["nope", ...lines(3)].join("\n"));
  assert.equal(few.problems[0], "4 examples: a training file needs at least 10");
  assert.match(few.problems[1], /^line 1: invalid JSON/);
});

test("splitLines: exact lines and offsets across chunk boundaries, final line without newline", async () => {
  const text = "ab\n\ncdé\r\nlast";
  for (const size of [1, 2, 3, 100]) {
    const got = [];
    for await (const l of splitLines(chunked(enc.encode(text), size))) got.push([l.number, l.offset, new TextDecoder().decode(l.bytes)]);
    assert.deepEqual(got, [[1, 0, "ab"], [2, 3, ""], [3, 4, "cdé\r"], [4, 10, "last"]], `chunk size ${size}`);
  }
});

test("splitLines: a line past the cap is flagged, not buffered", async () => {
  const got = [];
  for await (const l of splitLines(chunked(enc.encode("short\n" + "x".repeat(50) + "\nok"), 4), 20)) got.push([l.number, l.tooLong, l.bytes.length]);
  assert.deepEqual(got, [[1, false, 5], [2, true, 0], [3, false, 2]]);
});

test("firstInvalidUtf8", () => {
  assert.equal(firstInvalidUtf8(enc.encode("héllo €𝄞")), -1);
  assert.equal(firstInvalidUtf8(new Uint8Array([0x61, 0xc3])), 1); // truncated sequence
  assert.equal(firstInvalidUtf8(new Uint8Array([0x61, 0xc0, 0x80])), 1); // overlong
  assert.equal(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80])), 0); // surrogate
  assert.equal(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xff])), 2);
});

test("a value nested 20,000 deep is a problem of its line, not a failure of the validator", async () => {
  const deep = "[".repeat(20_000) + "]".repeat(20_000);
  const r = await validate(withLine(12, 3, `{"messages":[{"role":${deep},"content":"x"}]}`), 4096);
  assert.equal(r.ok, false);
  assert.match(r.details ?? "", /line 3: .*nested too deeply to show/);
});
