// The generation span (core, through the Tracing port) and the engine span (the engine
// decorator), against a fake Tracing and a fake engine: names, GenAI attributes, parentage,
// and every span ended once the stream is drained or fails.
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { test } from "node:test";
import { TracedGenerationService } from "../../src/core/generation/traced.ts";
import type { ResolvedDeployment, SpanAttributes, TraceSpan, Tracing } from "../../src/core/ports/index.ts";
import { tracedEngine } from "../../src/engines/traced-engine.ts";
import { parseCompletionRequest } from "../../src/http/openai/completions.ts";

interface FakeSpan extends TraceSpan {
  name: string;
  attributes: SpanAttributes;
  parent: FakeSpan | undefined;
  ended: number;
  error?: string;
}

function fakeTracing(): Tracing & { spans: FakeSpan[] } {
  const current = new AsyncLocalStorage<FakeSpan>();
  const spans: FakeSpan[] = [];
  return {
    spans,
    startSpan(name, attributes = {}) {
      const span: FakeSpan = {
        name,
        attributes: { ...attributes },
        parent: current.getStore(),
        ended: 0,
        setAttributes: (a) => Object.assign(span.attributes, a),
        recordError: (e) => (span.error = (e as Error).message),
        end: () => span.ended++,
      };
      spans.push(span);
      return span;
    },
    withSpan: (span, fn) => current.run(span as FakeSpan, fn),
    enterSpan: (span) => current.enterWith(span as FakeSpan),
    shutdown: async () => {},
  };
}

const d: ResolvedDeployment = { account: "a", name: "my-dep", sku: { name: "GlobalStandard", capacity: 1000 }, modelName: "tiny", engineKey: "tiny@1", capabilities: ["completion"] };

function engine(fail = false) {
  return {
    name: "fake",
    async *generate() {
      yield { type: "content" as const, text: "hi" };
      if (fail) throw new Error("runner died");
      yield { type: "end" as const, finishReason: "length" as const, usage: { promptTokens: 4, completionTokens: 2, cachedTokens: 0 } };
    },
  };
}

test("a completion: one generation span with GenAI attributes, an engine span per choice under it, all ended", { timeout: 10_000 }, async () => {
  const tracing = fakeTracing();
  const service = new TracedGenerationService(tracing, tracedEngine(engine() as never, tracing), { resolve: () => d });
  const req = parseCompletionRequest({ prompt: ["a", "b"], max_tokens: 2, temperature: 0.3 }, "my-dep");
  const stream = await service.complete("acct", req, new AbortController().signal);
  for await (const _ of stream.chunks);

  const [generation, ...engines] = tracing.spans;
  assert.equal(generation.name, "text_completion my-dep");
  assert.equal(generation.parent, undefined);
  assert.deepEqual(
    { ...generation.attributes },
    {
      "gen_ai.operation.name": "text_completion",
      "gen_ai.provider.name": "ingot",
      "gen_ai.request.model": "my-dep",
      "ingot.account": "acct",
      "gen_ai.request.max_tokens": 2,
      "gen_ai.request.temperature": 0.3,
      "gen_ai.request.top_p": 1,
      "gen_ai.request.seed": undefined,
      "gen_ai.request.choice.count": undefined,
      "gen_ai.response.id": stream.id,
      "gen_ai.response.model": "tiny",
      "gen_ai.usage.input_tokens": 8,
      "gen_ai.usage.output_tokens": 4,
      "gen_ai.response.finish_reasons": ["length", "length"],
    },
  );
  assert.equal(engines.length, 2);
  for (const e of engines) {
    assert.equal(e.name, "text_completion tiny@1");
    assert.equal(e.parent, generation);
    assert.equal(e.attributes["gen_ai.usage.output_tokens"], 2);
    assert.equal(e.attributes["ingot.engine"], "fake");
  }
  assert.deepEqual(tracing.spans.map((s) => s.ended), [1, 1, 1]);
});

test("an engine failure mid-stream marks both spans failed and still ends them", { timeout: 10_000 }, async () => {
  const tracing = fakeTracing();
  const service = new TracedGenerationService(tracing, tracedEngine(engine(true) as never, tracing), { resolve: () => d });
  const stream = await service.complete("acct", parseCompletionRequest({ prompt: "a", max_tokens: 2 }, "my-dep"), new AbortController().signal);
  await assert.rejects(async () => {
    for await (const _ of stream.chunks);
  }, /runner died/);
  assert.deepEqual(tracing.spans.map((s) => [s.error, s.ended]), [["runner died", 1], ["runner died", 1]]);
});
