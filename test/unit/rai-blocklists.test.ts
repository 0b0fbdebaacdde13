// Custom blocklists (core/safety/blocklists.ts): how items match, which regexes are refused and
// why, bounded matching on long texts, and the 10,000-item cap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BLOCKLIST_LIMITS, checkPattern, matchBounded, RaiBlocklistService, REGEX_OVERLAP, REGEX_WINDOW } from "../../src/core/safety/blocklists.ts";
import { SqliteRaiStore } from "../../src/store/sqlite/rai-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { caught } from "./caught.ts";

function service() {
  const s = new RaiBlocklistService(new SqliteRaiStore(new SqliteStore(":memory:").database));
  s.createOrUpdate("acct", "words", { description: "test" });
  return s;
}

test("plain items match case-insensitively as whole words; regex items case-sensitively; offsets and names come back", { timeout: 10_000 }, () => {
  const s = service();
  s.addItems("acct", "words", [
    { name: "acme", properties: { pattern: "Acme Corp", isRegex: false } },
    { name: "ass", properties: { pattern: "ass" } },
    { name: "cash", properties: { pattern: "$$$" } },
    { name: "ssn", properties: { pattern: "\\b\\d{3}-\\d{2}-\\d{4}\\b", isRegex: true } },
    { name: "Secret", properties: { pattern: "Project X", isRegex: true } },
  ]);
  const text = "We met ACME CORP's lawyer about the class; pay $$$ now. SSN 123-45-6789. project x and Project X.";
  const hits = s.match("acct", ["WORDS"], text);
  assert.deepEqual(
    hits.map((h) => [h.itemId, h.text, h.offset]),
    [
      ["acme", "ACME CORP", text.indexOf("ACME")],
      ["cash", "$$$", text.indexOf("$$$")],
      ["ssn", "123-45-6789", text.indexOf("123")],
      ["Secret", "Project X", text.lastIndexOf("Project X")],
    ],
  );
  assert.ok(hits.every((h) => h.blocklist === "words"));
  // "ass" inside "class" or "assess" is not a hit; on its own it is.
  assert.deepEqual(s.match("acct", ["words"], "assess the class"), []);
  assert.deepEqual(s.match("acct", ["words"], "what an ass!").map((h) => h.itemId), ["ass"]);
  // Unknown lists are skipped; an edit takes effect at once.
  assert.deepEqual(s.match("acct", ["nope"], "acme corp"), []);
  s.putItem("acct", "words", "acme", { pattern: "globex" });
  assert.deepEqual(s.match("acct", ["words"], "acme corp, globex").map((h) => h.itemId), ["acme"]);
  assert.equal(s.match("acct", ["words"], "acme corp, globex")[0].text, "globex");
  s.deleteItems("acct", "words", ["acme", "not-there"]);
  assert.deepEqual(s.match("acct", ["words"], "globex"), []);
});

test("regexes that could backtrack catastrophically are refused with the rule; invalid ones with the compile error", { timeout: 10_000 }, () => {
  const refused: [string, RegExp][] = [
    ["(a+)+$", /nested quantifiers: a\+ is repeated inside \(a\+\)\+/],
    ["^(\\w+\\s?)*$", /nested quantifiers/],
    ["(a|ab)*c", /alternatives that can start with the same character inside the repeated group \(a\|ab\)\*/],
    ["(\\w|\\d)+!", /alternatives that can start with the same character/],
    ["(x|)+y", /can match nothing/],
    ["\\d+\\d*x", /\\d\+ can stop at many places and still let what follows match, which could take about 1\.3e\+8 steps on 512 characters \(at most 5\.0e\+5\)/],
    ["\\w+\\s*\\w+!", /\\w\+ can stop at many places/],
    ["ignore.*previous.*instructions", /\.\*, \.\* can each stop at many places .*bound them \(\.\{0,20\} instead of \.\*\)/],
    ["a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?aaaaaaaaaaaaaaaaaaaa", /a\?, a\?/],
  ];
  for (const [pattern, rule] of refused) {
    const err = caught(() => checkPattern(pattern, true));
    assert.equal(err.code, "InvalidRegexPattern", pattern);
    assert.equal(err.param, "properties.pattern");
    assert.match(err.message, /could backtrack catastrophically/);
    assert.match(err.message, rule, pattern);
  }
  for (const ok of ["ignore.{0,20}previous.{0,20}instructions", "a.*b", "\\w+\\s+\\w+!", "acme\\s+corp", "\\b\\d{3}-\\d{4}\\b", "(\\d{3}-)+\\d", "password.*?\\d", "^\\s*ignore (all|previous) instructions", "\\d+(\\.\\d+)?%"]) checkPattern(ok, true);
  const bad = caught(() => checkPattern("acme(", true));
  assert.equal(bad.code, "InvalidRegexPattern");
  assert.match(bad.message, /not a valid regular expression: .*Unterminated group.*isRegex to false/);
  assert.match(caught(() => checkPattern("x*", true)).message, /matches the empty text/);
  // The refused pattern really is catastrophic: (a+)+$ on 28 a's and a '!' takes seconds unguarded; the check runs in microseconds.
  const started = performance.now();
  caught(() => checkPattern("(a+)+$", true));
  assert.ok(performance.now() - started < 50);
  // Long patterns, whitespace-only patterns, bad isRegex.
  assert.match(caught(() => checkPattern("x".repeat(BLOCKLIST_LIMITS.pattern + 1), false)).message, /1001 characters long; a blocklist pattern may have at most 1000/);
  assert.match(caught(() => checkPattern("   ", false)).message, /only whitespace/);
  assert.equal(caught(() => checkPattern("a", "yes")).param, "properties.isRegex");
  // A PUT of a refused item stores nothing.
  const s = service();
  assert.equal(caught(() => s.putItem("acct", "words", "evil", { pattern: "(a+)+$", isRegex: true })).code, "InvalidRegexPattern");
  assert.deepEqual(s.listItems("acct", "words"), []);
  const batch = caught(() => s.addItems("acct", "words", [{ name: "ok", properties: { pattern: "fine" } }, { name: "evil", properties: { pattern: "(a|a)*b", isRegex: true } }]));
  assert.equal(batch.param, "[1].properties.pattern");
  assert.deepEqual(s.listItems("acct", "words"), [], "a batch is all or nothing");
});

test("regex matching is bounded: a long adversarial text takes linear time; matches anywhere (and across window edges) are found", { timeout: 30_000 }, () => {
  // a.*b is allowed (one unbounded quantifier) but quadratic on a text of a's with no b: windows keep it linear.
  const re = checkPattern("a.*b", true).re!;
  const long = "a".repeat(100_000);
  const started = performance.now();
  assert.equal(matchBounded(re, long), undefined);
  const elapsed = performance.now() - started;
  // Unbounded, the same search is ~n²/2 = 5e9 steps (tens of seconds); bounded it is ~n × window.
  assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
  // A match straddling a window edge, and one at the very end, are found with their offsets.
  const edge = REGEX_WINDOW - 3;
  const text = `${"x".repeat(edge)}SECRET-42${"y".repeat(3 * REGEX_WINDOW)}SECRET-7`;
  const secret = checkPattern("SECRET-\\d+", true).re!;
  assert.deepEqual(matchBounded(secret, text), { text: "SECRET-42", offset: edge });
  assert.deepEqual(matchBounded(secret, text.slice(edge + 9)), { text: "SECRET-7", offset: 3 * REGEX_WINDOW });
  assert.ok(REGEX_OVERLAP >= 64);
  // Through the service, on a long text.
  const s = service();
  s.putItem("acct", "words", "r", { pattern: "a.*b", isRegex: true });
  const t0 = performance.now();
  assert.deepEqual(s.match("acct", ["words"], long), []);
  assert.ok(performance.now() - t0 < 2_000);
  assert.deepEqual(s.match("acct", ["words"], `${long}b`).map((h) => h.itemId), ["r"]);
});

test("at most 10,000 items per list: the 10,001st, or a batch that would pass the cap, is a 400 saying how many fit", { timeout: 60_000 }, () => {
  const s = service();
  const batch = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ name: `i${from + k}`, properties: { pattern: `word${from + k}` } }));
  s.addItems("acct", "words", batch(0, 9_998));
  const over = caught(() => s.addItems("acct", "words", batch(9_998, 3)));
  assert.equal(over.code, "RaiBlocklistItemLimitExceeded");
  assert.match(over.message, /has 9998 items and may hold at most 10000; 3 new items would not fit\. Only 2 more fit/);
  s.addItems("acct", "words", batch(9_998, 2));
  // Replacing an existing item still works at the cap; a new one does not.
  s.putItem("acct", "words", "i5", { pattern: "changed" });
  const one = caught(() => s.putItem("acct", "words", "extra", { pattern: "x" }));
  assert.match(one.message, /has 10000 items .* None more fit/);
  assert.equal(s.listItems("acct", "words").length, 10_000);
  // Matching 10,000 plain items stays fast.
  const t0 = performance.now();
  assert.deepEqual(s.match("acct", ["words"], `a prompt that says changed and word9999 and word77x`).map((h) => h.itemId), ["i5", "i9999"]);
  assert.ok(performance.now() - t0 < 500);
});

test("bad names and bodies", { timeout: 10_000 }, () => {
  const s = service();
  assert.match(caught(() => s.createOrUpdate("acct", "-x", {})).message, /Blocklist name '-x' is invalid/);
  assert.match(caught(() => s.putItem("acct", "words", "a/b", { pattern: "x" })).message, /Blocklist item name 'a\/b' is invalid/);
  assert.equal(caught(() => s.putItem("acct", "nope", "a", { pattern: "x" })).kind, "not_found");
  assert.match(caught(() => s.addItems("acct", "words", { name: "x" })).message, /JSON array of items/);
  assert.match(caught(() => s.addItems("acct", "words", [{ properties: { pattern: "x" } }])).message, /\[0\]\.name is required/);
  assert.match(caught(() => s.deleteItems("acct", "words", [1, 2])).message, /JSON array of item names/);
  assert.match(caught(() => s.createOrUpdate("acct", "b", { description: 5 })).message, /description must be a string/);
});

test("a growing text is checked from where the last check ended: hits ending after `from`, with the context before it", { timeout: 10_000 }, () => {
  const s = service();
  s.addItems("acct", "words", [
    { name: "acme", properties: { pattern: "acme corp" } },
    { name: "cat", properties: { pattern: "cat" } },
    { name: "num", properties: { pattern: "ID-\\d+", isRegex: true } },
    { name: "cash", properties: { pattern: "$$$" } },
  ]);
  const first = "Talk to acme corp about ID-1 and $$$. ";
  const text = `${first}Then acme corp again, concat, ID-22, $$$.`;
  const all = s.match("acct", ["words"], text);
  assert.deepEqual(all.map((h) => [h.itemId, h.offset]), [["acme", 8], ["num", 24], ["cash", 33]]);
  // From the end of the first part: the second occurrences, not the first ones; "cat" inside "concat" is still no hit.
  const later = s.match("acct", ["words"], text, first.length);
  assert.deepEqual(later.map((h) => [h.itemId, h.text, h.offset]), [
    ["acme", "acme corp", text.indexOf("acme corp", first.length)],
    ["num", "ID-22", text.indexOf("ID-22")],
    ["cash", "$$$", text.lastIndexOf("$$$")],
  ]);
  // A hit that starts before `from` and ends after it is reported; one that ends at `from` is not.
  const cut = text.indexOf("corp again") + 2;
  assert.deepEqual(s.match("acct", ["words"], text, cut).map((h) => h.offset)[0], text.indexOf("acme corp", first.length));
  assert.equal(s.match("acct", ["words"], text, text.length).length, 0);
  // Far into a long text.
  assert.deepEqual(s.match("acct", ["words"], `${"x ".repeat(2_500)}cat`, 4_990).map((h) => h.itemId), ["cat"]);
});
