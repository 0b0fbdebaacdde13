import assert from "node:assert/strict";
import { test } from "node:test";
import { TextStream } from "../../src/engines/llamacpp/runner/text-stream.ts";

// Byte-level decoding: each "token" is one byte of UTF-8.
const decode = (tokens: number[]) => Buffer.from(tokens).toString("utf8");
const feed = (stream: TextStream, text: string) => {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) {
    out += stream.push(b).text;
    if (stream.stopped) break;
  }
  return out + stream.end().text;
};

test("multi-byte characters are released whole", () => {
  const s = new TextStream([], decode);
  const pieces: string[] = [];
  for (const b of Buffer.from("é🎉", "utf8")) pieces.push(s.push(b).text);
  assert.deepEqual(pieces.filter(Boolean), ["é", "🎉"]);
});

test("text before a stop string is sent, the stop string and after are not", () => {
  assert.equal(feed(new TextStream(["END"], decode), "hello END world"), "hello ");
  assert.equal(feed(new TextStream(["x", "lo"], decode), "hello"), "hel");
});

test("a partial stop match is held back, then released when it does not complete", () => {
  const s = new TextStream(["abc"], decode);
  assert.equal(s.push(0x61).text, "");
  assert.equal(s.push(0x62).text, "");
  assert.equal(s.push(0x64).text, "abd");
  assert.equal(s.end().text, "");
});

test("held text is flushed at the end", () => {
  const s = new TextStream(["abc"], decode);
  s.push(0x61);
  assert.equal(s.end().text, "a");
});

test("logprobs travel with the text they belong to", () => {
  const s = new TextStream([], decode);
  const lp = (t: string) => ({ token: t, logprob: -1, bytes: [], top: [] });
  const first = s.push(0xc3, lp("a"));
  assert.equal(first.text, "");
  const second = s.push(0xa9, lp("b"));
  assert.equal(second.text, "é");
  assert.equal(second.logprobs.length, 2);
});
