// Protected material (issue 14 item 3c): long verbatim copies of operator-registered texts are
// detected through normalisation, short quotes are not, the answer names the text, the scan is
// linear, and the directory loader reads .txt files.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ProtectedMaterial, loadProtectedMaterialDir, protectedWords } from "../../src/core/safety/protected-material.ts";

// Deterministic pseudo-words so texts share no phrases by accident.
function words(n: number, seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push("w" + (x % 5000).toString(36));
  }
  return out;
}

const song = words(300, 1);
const article = words(300, 2);
const pm = new ProtectedMaterial([
  { id: "song-lyrics", text: song.join(" ") },
  { id: "news-article", text: article.join(" ") },
]);

describe("protected material", { timeout: 30_000 }, () => {
  test("a 45-word verbatim copy inside other text is detected and named", () => {
    const copy = song.slice(100, 145).join(" ");
    const r = pm.detect(`Here is the text you asked for: ${copy} Hope that helps!`);
    assert.equal(r.detected, true);
    assert.equal(r.id, "song-lyrics");
  });

  test("case, punctuation, line breaks and Unicode forms do not hide a copy", () => {
    const copy = article.slice(10, 60).map((w, i) => (i % 3 === 0 ? w.toUpperCase() + "," : i % 7 === 0 ? w + ".\n" : w)).join("  ");
    const r = pm.detect(copy.replace(/W/g, "Ｗ")); // fullwidth W, folded by NFKC
    assert.deepEqual([r.detected, r.id], [true, "news-article"]);
  });

  test("a short quote (30 words, under 200 characters) is not a copy", () => {
    const quote = song.slice(0, 30).join(" ");
    assert.ok(quote.length < 200);
    assert.equal(pm.detect(`As the song says, ${quote}.`).detected, false);
  });

  test("200 characters of long words are a copy even under 40 words", () => {
    const longWords = words(100, 9).map((w) => w + "abcdefghij");
    const local = new ProtectedMaterial([{ id: "long", text: longWords.join(" ") }]);
    const copy = longWords.slice(0, 15); // ~15 × 14 chars ≈ 210
    assert.ok(copy.join(" ").length >= 200);
    assert.equal(local.detect(copy.join(" ")).detected, true);
    assert.equal(local.detect(longWords.slice(0, 9).join(" ")).detected, false);
  });

  test("a copy stitched from two places of a text is not one long overlap", () => {
    const stitched = [...song.slice(0, 25), ...song.slice(200, 225)].join(" ");
    assert.equal(pm.detect(stitched).detected, false);
  });

  test("unrelated text and an empty registry detect nothing", () => {
    assert.equal(pm.detect(words(2000, 3).join(" ")).detected, false);
    assert.equal(new ProtectedMaterial([]).detect(song.join(" ")).detected, false);
    assert.equal(pm.detect("").detected, false);
  });

  test("linear time: 1,000,000 words of mostly-matching shingles are scanned quickly", () => {
    // Repeating the registered text's first 39 words: every shingle is found, no chain reaches 40.
    const near = song.slice(0, 39);
    const big: string[] = [];
    while (big.length < 1_000_000) big.push(...near, "break");
    const t0 = performance.now();
    assert.equal(pm.detect(big.join(" ")).detected, false);
    const ms = performance.now() - t0;
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });

  test("the loader reads the .txt files of a directory; a missing directory is empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "ingot-pm-"));
    try {
      writeFileSync(join(dir, "poem.txt"), "Roses are red");
      writeFileSync(join(dir, "notes.md"), "not a text");
      mkdirSync(join(dir, "sub.txt"));
      assert.deepEqual(loadProtectedMaterialDir(dir), [{ id: "poem", text: "Roses are red" }]);
      assert.deepEqual(loadProtectedMaterialDir(join(dir, "missing")), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(protectedWords("Ｈello,  WORLD!\nIt's"), ["hello", "world", "it", "s"]);
  });
});
