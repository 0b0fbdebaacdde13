// The stream interval (ingot up --stream-interval-ms): the first token leaves at once, then
// the tokens of each interval leave together in one chunk, as Azure's default streaming
// returns content in buffered chunks rather than token by token. The text, logprobs and
// usage are those of the unbatched stream; at interval 0 the runner sends each token as it comes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

// Special tokens (end of text, chat turn markers) biased away: every reply is 48 tokens long.
const NO_EOS = { "256": -100, "257": -100, "258": -100 };
const request = { model: "tiny-chat", messages: [{ role: "user" as const, content: "Tell me a story." }], max_tokens: 48, temperature: 0, logprobs: true, logit_bias: NO_EOS };

async function chunked(server: TestServer) {
  const chunks: { text: string; tokens: number }[] = [];
  let usage: number | undefined;
  for await (const c of await server.v1().chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })) {
    const choice = c.choices[0];
    if (choice?.delta?.content || choice?.logprobs?.content?.length) chunks.push({ text: choice.delta?.content ?? "", tokens: choice.logprobs?.content?.length ?? 0 });
    if (c.usage) usage = c.usage.completion_tokens;
  }
  return { chunks, usage: usage! };
}

describe("stream interval", () => {
  let perToken: TestServer;
  let batched: TestServer;
  before(async () => {
    perToken = await startServer({ streamIntervalMs: 0 });
    batched = await startServer({ streamIntervalMs: 1000 });
  });
  after(async () => {
    await perToken?.stop();
    await batched?.stop();
  });

  test("tokens of one interval come in one chunk; text, logprobs and usage as without it", async () => {
    const whole = await batched.v1().chat.completions.create(request);
    assert.equal(whole.usage!.completion_tokens, 48);
    const a = await chunked(perToken);
    const b = await chunked(batched);
    assert.equal(a.usage, whole.usage!.completion_tokens);
    assert.equal(b.usage, whole.usage!.completion_tokens);
    for (const s of [a, b]) {
      assert.equal(s.chunks.map((c) => c.text).join(""), whole.choices[0].message.content);
      assert.equal(s.chunks.reduce((n, c) => n + c.tokens, 0), whole.usage!.completion_tokens);
    }
    // The first token is not held back.
    assert.equal(b.chunks[0].tokens, 1);
    // A 48-token reply of the tiny model takes far less than the 1 s interval: the rest comes in one chunk.
    assert.ok(b.chunks.length <= 3, `${b.chunks.length} chunks`);
    // Interval 0: the runner sends each token as it comes; only what reaches the server
    // together (the tiny model outruns it) leaves together.
    assert.ok(a.chunks.length > b.chunks.length, JSON.stringify(a.chunks));
  });
});
