// `ingot rai` flag parsing: --filter CAT:SIDE[:LEVEL][:annotate], --blocklist NAME:SIDE[:annotate],
// and item names derived from patterns.
import assert from "node:assert/strict";
import { test } from "node:test";
import { itemNameOf, parseBlocklistFlag, parseFilterFlag } from "../../src/cli/commands/rai.ts";

const C = "ingot rai policy create";

test("--filter: thresholds, both sides, off, annotate only, binary filters", () => {
  assert.deepEqual(parseFilterFlag(C, "hate:prompt:low"), [{ name: "Hate", source: "Prompt", enabled: true, blocking: true, severityThreshold: "Low" }]);
  assert.deepEqual(
    parseFilterFlag(C, "self_harm:both:high:annotate").map((f) => [f.name, f.source, f.blocking, f.severityThreshold]),
    [
      ["Selfharm", "Prompt", false, "High"],
      ["Selfharm", "Completion", false, "High"],
    ],
  );
  assert.deepEqual(parseFilterFlag(C, "Violence:Completion:off"), [{ name: "Violence", source: "Completion", enabled: false, blocking: false, severityThreshold: "Medium" }]);
  assert.deepEqual(parseFilterFlag(C, "protected-material-code:completion:off"), [{ name: "Protected Material Code", source: "Completion", enabled: false, blocking: false }]);
  assert.deepEqual(parseFilterFlag(C, "jailbreak:prompt"), [{ name: "Jailbreak", source: "Prompt", enabled: true, blocking: true }]);
});

test("--filter and --blocklist: mistakes are usage errors naming what to type", () => {
  const usage = (f: () => unknown, message: RegExp) => assert.throws(f, (e: Error & { exitCode?: number }) => e.exitCode === 2 && message.test(e.message));
  usage(() => parseFilterFlag(C, "hate"), /CATEGORY:SIDE/);
  usage(() => parseFilterFlag(C, "hat:prompt"), /unknown category 'hat'.*self_harm/);
  usage(() => parseFilterFlag(C, "hate:input"), /prompt, completion or both/);
  usage(() => parseFilterFlag(C, "hate:prompt:severe"), /'severe' is not low, medium, high, on, off or annotate/);
  usage(() => parseFilterFlag(C, "profanity:prompt:high"), /no severity levels/);
  usage(() => parseBlocklistFlag(C, "competitors"), /NAME:SIDE/);
  usage(() => parseBlocklistFlag(C, "competitors:prompt:block"), /NAME:SIDE\[:annotate\]/);
  assert.deepEqual(parseBlocklistFlag(C, "competitors:both:annotate"), [
    { blocklistName: "competitors", source: "Prompt", blocking: false },
    { blocklistName: "competitors", source: "Completion", blocking: false },
  ]);
});

test("item names from patterns are valid ARM names and unique", () => {
  const taken = new Set(["acme-corp"]);
  assert.equal(itemNameOf("ACME Corp", taken), "acme-corp-2");
  assert.equal(itemNameOf("acme[0-9]+", taken), "acme-0-9");
  assert.equal(itemNameOf("¿¡!", taken), "item");
  assert.match(itemNameOf("x".repeat(300), taken), /^x{48}$/);
});
