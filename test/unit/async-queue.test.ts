import assert from "node:assert/strict";
import { test } from "node:test";
import { AsyncQueue } from "../../src/lib/async-queue.ts";

test("items pushed before and while a consumer waits come out in order; end finishes it", async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  const seen: number[] = [];
  const done = (async () => {
    for await (const n of q) seen.push(n);
  })();
  await new Promise((r) => setImmediate(r));
  q.push(2);
  q.push(3);
  q.end();
  q.push(4);
  await done;
  assert.deepEqual(seen, [1, 2, 3]);
});

test("takeIf takes the next waiting item only when it is accepted", async () => {
  const q = new AsyncQueue<string>();
  assert.equal(q.takeIf(() => true), undefined);
  q.push("a");
  q.push("b");
  q.push("stop");
  assert.equal((await q.next()).value, "a");
  assert.equal(q.takeIf((s) => s.length === 1), "b");
  assert.equal(q.takeIf((s) => s.length === 1), undefined);
  assert.equal((await q.next()).value, "stop");
});

test("fail rejects the waiting consumer", async () => {
  const q = new AsyncQueue<number>();
  const next = q.next();
  q.fail(new Error("runner died"));
  await assert.rejects(next, /runner died/);
});
