// The runner's outbox: streamed text coalesced over the stream interval, each request's first
// text and every other kind of message sent at once, order kept.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FromRunner } from "../../src/engines/llamacpp/protocol.ts";
import { Outbox } from "../../src/engines/llamacpp/runner/outbox.ts";

const text = (id: number, t: string): FromRunner => ({ type: "text", id, text: t });
const done = (id: number): FromRunner => ({ type: "done", id, finishReason: "stop", promptTokens: 1, completionTokens: 2, cachedTokens: 0 });

/** An outbox on a clock that `advance` moves together with the mocked timers. */
function outbox(intervalMs: number, timers?: { tick(ms: number): void }) {
  let now = 1000;
  const sent: (FromRunner | FromRunner[])[] = [];
  const box = new Outbox(intervalMs, (m) => sent.push(m), () => now);
  const advance = (ms: number) => {
    now += ms;
    timers?.tick(ms);
  };
  return { box, sent, advance };
}

test("a request's first text goes at once; later text waits for the interval and leaves in one message", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { box, sent, advance } = outbox(20, t.mock.timers);
  box.send(text(1, "a"));
  assert.deepEqual(sent, [text(1, "a")]);
  advance(5);
  box.send(text(1, "b"));
  advance(5);
  box.send(text(1, "c"));
  assert.equal(sent.length, 1, "held within the interval");
  advance(10);
  assert.deepEqual(sent, [text(1, "a"), [text(1, "b"), text(1, "c")]]);
  // Text that comes when the interval has passed goes straight out.
  advance(25);
  box.send(text(1, "d"));
  assert.deepEqual(sent.at(-1), text(1, "d"));
});

test("done (or any other message) goes at once, after the text held before it", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { box, sent, advance } = outbox(20, t.mock.timers);
  box.send(text(1, "a"));
  advance(1);
  box.send(text(1, "b"));
  box.send(done(1));
  assert.deepEqual(sent, [text(1, "a"), [text(1, "b"), done(1)]]);
  advance(50);
  assert.equal(sent.length, 2, "nothing left for the timer");
});

test("another request's first text is not held behind the interval", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { box, sent, advance } = outbox(20, t.mock.timers);
  box.send(text(1, "a"));
  advance(1);
  box.send(text(1, "b"));
  box.send(text(2, "x"));
  assert.deepEqual(sent, [text(1, "a"), [text(1, "b"), text(2, "x")]]);
  // A request id seen done starts over: its next text (a new request reusing nothing) is a first.
  box.send(done(2));
  advance(1);
  box.send(text(3, "y"));
  assert.deepEqual(sent.at(-1), text(3, "y"));
});

test("interval 0: every message as it comes", () => {
  const { box, sent } = outbox(0);
  box.send(text(1, "a"));
  box.send(text(1, "b"));
  box.send(done(1));
  assert.deepEqual(sent, [text(1, "a"), text(1, "b"), done(1)]);
});
