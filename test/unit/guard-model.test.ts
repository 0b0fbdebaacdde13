// The guard-model backend (core/safety/guard-model.ts): Ingot's prompt and the strict parser
// (anything but a consistent verdict is an error, never "safe"), and the classifier over a fake
// generation service that answers with given text.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GenerationStream } from "../../src/core/generation/service.ts";
import type { ChatRequest } from "../../src/core/generation/types.ts";
import { GuardModelClassifier, GuardOutputError, guardPrompt, parseGuardOutput } from "../../src/core/safety/guard-model.ts";

const T = { timeout: 10_000 };

test("Ingot's JSON verdicts map onto the four harm categories and jailbreak", T, () => {
  assert.deepEqual(parseGuardOutput('{"verdict":"safe","categories":[],"severity":"none"}', true, "g"), { harm: { hate: 0, sexual: 0, violence: 0, self_harm: 0 }, jailbreak: false, source: "g" });
  const r = parseGuardOutput(' { "verdict" : "unsafe", "categories": ["S1", "S10", "J1"], "severity": "medium" } ', true, "g");
  assert.deepEqual(r.harm, { hate: 4, sexual: 0, violence: 4, self_harm: 0 });
  assert.equal(r.jailbreak, true);
  assert.equal(parseGuardOutput('{"verdict":"unsafe","categories":["S4"],"severity":"low"}', false, "g").harm.sexual, 6);
  // Categories outside the four (S6 specialized advice) are not one of Azure's categories.
  assert.deepEqual(parseGuardOutput('{"verdict":"unsafe","categories":["S6"],"severity":"high"}', false, "g").harm, { hate: 0, sexual: 0, violence: 0, self_harm: 0 });
});

test("Llama Guard's own text form is read too", T, () => {
  assert.equal(parseGuardOutput("safe", false, "g").harm.violence, 0);
  assert.deepEqual(parseGuardOutput("unsafe\nS11,S12", false, "g").harm, { hate: 0, sexual: 4, violence: 0, self_harm: 4 });
});

test("unparseable or inconsistent answers are errors, never safe", T, () => {
  for (const bad of [
    "",
    "I think it is fine.",
    '{"verdict":"safe","categories":["S6","S6"',
    '{"verdict":"maybe","categories":[],"severity":"none"}',
    '{"verdict":"safe","categories":["S1"],"severity":"none"}',
    '{"verdict":"unsafe","categories":[],"severity":"high"}',
    '{"verdict":"unsafe","categories":["S99"],"severity":"high"}',
    "unsafe",
    "safe\nS1",
    "[]",
  ])
    assert.throws(() => parseGuardOutput(bad, true, "g"), GuardOutputError, bad);
});

test("the classifier asks its deployment greedily, with the text and the JSON form, and parses the answer", T, async () => {
  const asked: ChatRequest[] = [];
  const answer = (text: string) => ({
    async chat(_account: string, req: ChatRequest): Promise<GenerationStream> {
      asked.push(req);
      return { id: "x", created: 0, model: "m", usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }, chunks: (async function* () { yield { type: "content" as const, index: 0, text }; })() };
    },
  });
  const ok = await new GuardModelClassifier(answer('{"verdict":"unsafe","categories":["S1"],"severity":"high"}'), "acct", "guard").classify("some text", { side: "completion", detectJailbreak: false });
  assert.deepEqual(ok, { harm: { hate: 0, sexual: 0, violence: 6, self_harm: 0 }, source: "guard:guard" });
  assert.equal(asked[0].deployment, "guard");
  assert.equal(asked[0].sampling.temperature, 0);
  assert.equal(asked[0].responseFormat.type, "json_schema");
  assert.match(asked[0].messages[0].content, /<BEGIN CONTENT>\nsome text\n<END CONTENT>/);
  assert.doesNotMatch(asked[0].messages[0].content, /J1/, "jailbreak is asked about only on prompts");
  await assert.rejects(new GuardModelClassifier(answer("no idea"), "acct", "guard").classify("x", { side: "prompt", detectJailbreak: true }), GuardOutputError);
  assert.match(guardPrompt("x", "prompt", true), /J1: Jailbreak/);
});
