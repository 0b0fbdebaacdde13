// Bounded work (issue 12 §3) as rules: schema limits, ARM body rules, completion caps,
// text_offset across stream chunks, per-request turns in the generation service, and the
// per-account upload limit.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { FileService } from "../../src/core/files/service.ts";
import { checkSchemaLimits, newSchemaBudget, SCHEMA_LIMITS } from "../../src/core/generation/schema-limits.ts";
import { GenerationService } from "../../src/core/generation/service.ts";
import type { GenerationStream } from "../../src/core/generation/service.ts";
import type { ResolvedDeployment } from "../../src/core/ports/deployment-resolver.ts";
import type { ChatChunk } from "../../src/core/generation/types.ts";
import { compileJsonSchema } from "../../src/engines/llamacpp/grammars/jsonSchemaToGbnf.ts";
import { compileGrammar } from "../../src/engines/llamacpp/grammars/off-thread.ts";
import { ARM_BODY_LIMITS, checkArmBody } from "../../src/http/arm/body-rules.ts";
import { completionChunks, parseCompletionRequest } from "../../src/http/openai/completions.ts";
import { FsBlobStore } from "../../src/store/blobs/fs-blob-store.ts";

const deep = (depth: number) => {
  let schema: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < depth; i++) schema = { type: "object", properties: { a: schema } };
  return schema;
};

const fails = (fn: () => unknown, code: string, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof IngotError && e.status === 400 && e.code === code && message.test(e.message));

describe("schema limits", () => {
  test("depth: 64 JSON levels pass, 2,000 are refused without recursion", () => {
    checkSchemaLimits(deep(31), "response_format"); // 1 + 2 × 31 = 63 levels
    fails(() => checkSchemaLimits(deep(2000), "response_format"), "invalid_json_schema", /nested more than 64 levels/);
  });

  test("properties and enum values count across the request's schemas", () => {
    const props = (n: number) => ({ type: "object", properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: "integer" }])) });
    const budget = newSchemaBudget();
    checkSchemaLimits(props(SCHEMA_LIMITS.properties - 1), "tools[0].function.parameters", budget);
    fails(() => checkSchemaLimits(props(2), "tools[1].function.parameters", budget), "invalid_json_schema", /more than 1000 object properties/);
    fails(() => checkSchemaLimits({ enum: Array.from({ length: 1001 }, (_, i) => i) }, "response_format"), "invalid_json_schema", /more than 1000 enum values/);
  });

  test("a property named 'enum' is a name, not the keyword", () => {
    checkSchemaLimits({ type: "object", properties: { enum: { type: "array", items: { type: "string" } } } }, "response_format");
  });

  test("the compiler itself refuses a schema deeper than it can walk, without overflowing", () => {
    const r = compileJsonSchema(deep(2000));
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.reason, /nested more than 256 levels/);
  });
});

describe("grammar compilation off the event loop", () => {
  test("a large schema compiles on the worker thread while the event loop keeps running", async () => {
    const properties = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}`, { type: "integer", minimum: i, maximum: i * 1000 + 5 }]));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    try {
      const r = await compileGrammar({ kind: "schema", schema: { type: "object", properties } });
      assert.equal(r.ok, true);
      assert.deepEqual(r, compileJsonSchema({ type: "object", properties }), "the same grammar as inline");
    } finally {
      clearInterval(timer);
    }
    // Inline, this compile (~0.2-0.6 s) would have let no timer fire at all.
    assert.ok(ticks >= 5, `${ticks} timer ticks in ${Math.round(performance.now() - started)} ms`);
    const invalid = await compileGrammar({ kind: "schema", schema: { type: "object", properties: { ...properties, x: { not: {} } } } });
    assert.equal(invalid.ok, false, "a schema it cannot enforce is a result, not a rejection");
  });
});

describe("ARM body rules", () => {
  const code = (body: Record<string, unknown>) => {
    try {
      checkArmBody(body);
      return "ok";
    } catch (e) {
      return (e as IngotError).code;
    }
  };
  test("tags within Azure's limits pass", () => {
    const tags = Object.fromEntries(Array.from({ length: ARM_BODY_LIMITS.tags }, (_, i) => [`t${i}`, "v"]));
    assert.equal(code({ location: "local", tags }), "ok");
    assert.equal(code({ tags: { ["k".repeat(512)]: "v".repeat(256) } }), "ok");
    assert.equal(code({}), "ok");
  });
  test("too many, too long, reserved characters, not strings", () => {
    assert.equal(code({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"])) }), "InvalidTagsCount");
    assert.equal(code({ tags: { ["k".repeat(513)]: "v" } }), "InvalidTagNameLength");
    assert.equal(code({ tags: { k: "v".repeat(257) } }), "InvalidTagValueLength");
    assert.equal(code({ tags: { "a?b": "v" } }), "InvalidTagNameCharacters");
    assert.equal(code({ tags: { a: 1 } }), "InvalidRequestContent");
    assert.equal(code({ tags: ["a"] }), "InvalidRequestContent");
  });
  test("envelope types and depth", () => {
    assert.equal(code({ location: 5 }), "InvalidRequestContent");
    assert.equal(code({ sku: "S0" }), "InvalidRequestContent");
    assert.equal(code({ properties: [] }), "InvalidRequestContent");
    let nested: unknown = "x";
    for (let i = 0; i < 10_000; i++) nested = { a: nested };
    assert.equal(code({ properties: { nested } }), "InvalidRequestContent");
  });
});

describe("legacy completions", () => {
  test("prompt arrays and prompts × max(n, best_of) are capped at 128", () => {
    parseCompletionRequest({ prompt: Array.from({ length: 128 }, () => "x") }, "d");
    parseCompletionRequest({ prompt: ["a", "b"], n: 64 }, "d");
    fails(() => parseCompletionRequest({ prompt: Array.from({ length: 129 }, () => "x") }, "d"), "array_above_max_length", /maximum length 128/);
    fails(() => parseCompletionRequest({ prompt: ["a", "b"], n: 65 }, "d"), "invalid_value", /= 130; at most 128/);
    fails(() => parseCompletionRequest({ prompt: Array.from({ length: 10 }, () => "x"), best_of: 20 }, "d"), "invalid_value", /best_of/);
  });

  test("streamed text_offset counts from the start of each choice's text", async () => {
    const lp = (token: string) => ({ token, logprob: -1, bytes: [], top: [] });
    const chunks: ChatChunk[] = [
      { type: "content", index: 0, text: "Hello", logprobs: [lp("Hel"), lp("lo")] },
      { type: "content", index: 1, text: "A", logprobs: [lp("A")] },
      { type: "content", index: 0, text: " world", logprobs: [lp(" world")] },
      { type: "finish", index: 0, reason: "stop" },
    ];
    const stream: GenerationStream = { id: "x", created: 0, model: "m", usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }, chunks: (async function* () { yield* chunks; })() };
    const offsets: [number, number[]][] = [];
    for await (const c of completionChunks(stream, false) as AsyncGenerator<{ choices: { index: number; logprobs: { text_offset: number[] } | null }[] }>)
      if (c.choices[0]?.logprobs) offsets.push([c.choices[0].index, c.choices[0].logprobs.text_offset]);
    assert.deepEqual(offsets, [[0, [0, 3]], [1, [0]], [0, [5]]]);
  });
});

describe("generation turns", () => {
  test("one request's choices run at most parallelPerRequest at once, and all of them run", async () => {
    let active = 0;
    let most = 0;
    let started = 0;
    const engine = {
      async *generate() {
        started++;
        active++;
        most = Math.max(most, active);
        try {
          for (let i = 0; i < 3; i++) {
            await new Promise((r) => setTimeout(r, 2));
            yield { type: "content" as const, text: "x" };
          }
          yield { type: "end" as const, finishReason: "stop" as const, usage: { promptTokens: 1, completionTokens: 3, cachedTokens: 0 } };
        } finally {
          active--;
        }
      },
    };
    const d: ResolvedDeployment = { account: "a", name: "d", sku: { name: "GlobalStandard", capacity: 1000 }, modelName: "m", engineKey: "k", capabilities: ["completion"] };
    const service = new GenerationService(engine as never, { resolve: () => d }, undefined, undefined, { parallelPerRequest: 2 });
    const req = parseCompletionRequest({ prompt: ["a", "b", "c"], n: 2, max_tokens: 3 }, "d");
    const stream = await service.complete("a", req, new AbortController().signal);
    const finishes: number[] = [];
    for await (const c of stream.chunks) if (c.type === "finish") finishes.push(c.index);
    assert.equal(started, 6);
    assert.equal(most, 2);
    assert.deepEqual(finishes.sort(), [0, 1, 2, 3, 4, 5]);
  });
});

describe("uploads", () => {
  test("at most 8 uploads of one account at once; a finished one frees its place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ingot-uploads-"));
    try {
      const files = new FileService({} as never, new FsBlobStore(dir), { check: async () => Promise.reject(new Error("no")) });
      const done = Array.from({ length: 8 }, () => files.beginUpload("a"));
      files.beginUpload("b")(); // other accounts are not affected
      assert.throws(() => files.beginUpload("a"), (e: unknown) => e instanceof IngotError && e.status === 429 && e.code === "tooManyRequests");
      done[0]();
      done[0](); // ending twice frees one place only
      const again = files.beginUpload("a");
      assert.throws(() => files.beginUpload("a"), (e: unknown) => e instanceof IngotError && e.status === 429);
      again();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("temporary files a crash left behind go at the next start; recent ones (another live upload) stay", () => {
    const dir = mkdtempSync(join(tmpdir(), "ingot-blobs-"));
    try {
      mkdirSync(join(dir, ".tmp"));
      writeFileSync(join(dir, ".tmp", "old"), "x");
      writeFileSync(join(dir, ".tmp", "recent"), "x");
      const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
      utimesSync(join(dir, ".tmp", "old"), dayAgo, dayAgo);
      new FsBlobStore(dir);
      assert.deepEqual(readdirSync(join(dir, ".tmp")), ["recent"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("chat requests", () => {
  test("assistant tool-call arguments nested 10,000 deep are a 400, not a stack overflow later", async () => {
    const { parseChatRequest } = await import("../../src/http/openai/chat-request.ts");
    const call = (args: string) => ({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: args } }] },
        { role: "tool", tool_call_id: "c1", content: "ok" },
      ],
    });
    parseChatRequest(call(`{"a":${"[".repeat(100)}${"]".repeat(100)}}`), "d");
    fails(() => parseChatRequest(call(`{"a":${"[".repeat(10_000)}${"]".repeat(10_000)}}`), "d"), "invalid_value", /nested more than 128 levels/);
  });
});
