// Continuous batching and crash isolation: parallel streams share one runner and all come
// out right; killing the runner mid-stream fails only that request, and the next succeeds.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const NO_EOS = { "256": -100, "257": -100, "258": -100 };
const request = (i: number) => ({
  model: "tiny-chat",
  messages: [{ role: "user" as const, content: `Parallel request number ${i}` }],
  max_tokens: 24,
  temperature: 0,
  logit_bias: NO_EOS,
});

async function streamText(i: number): Promise<string> {
  let text = "";
  for await (const c of await server.v1().chat.completions.create({ ...request(i), stream: true })) text += c.choices[0]?.delta?.content ?? "";
  return text;
}

describe("concurrency", () => {
  test("8 parallel streams all complete with the same text as when run alone", async () => {
    const alone: string[] = [];
    for (let i = 0; i < 8; i++) alone.push((await server.v1().chat.completions.create(request(i))).choices[0].message.content!);
    const parallel = await Promise.all(Array.from({ length: 8 }, (_, i) => streamText(i)));
    assert.deepEqual(parallel, alone);
  });

  test("killing the runner mid-stream errors that request; the next request succeeds", async () => {
    const pidOf = async () => {
      const body = await json(await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` } }));
      return body.models.find((m: { key: string }) => m.key.includes("tiny-chat")) as { pid: number; state: string };
    };
    const { pid } = await pidOf();
    const stream = await server.v1().chat.completions.create({ ...request(0), max_tokens: 1500, stream: true });
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const c of stream) {
          if (c.choices[0]?.delta?.content) received++;
          if (received === 2) process.kill(pid, "SIGKILL");
        }
      })(),
      (e: Error) => {
        assert.match(e.message, /runner stopped unexpectedly/);
        return true;
      },
    );
    // A request during the restart gets a clean 5xx or waits for the new runner — never hangs.
    const deadline = Date.now() + 30_000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      try {
        const r = await server.v1().chat.completions.create(request(1));
        ok = r.choices[0].message.role === "assistant";
      } catch (e) {
        assert.ok((e as { status?: number }).status! >= 500, String(e));
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(ok, "a request succeeded after the runner restarted");
    const after = await pidOf();
    assert.notEqual(after.pid, pid);
    assert.equal(after.state, "ready");
  });
});
