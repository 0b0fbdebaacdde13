// The SQLite → PostgreSQL translation (store/sql/dialect.ts) the PostgreSQL store runs every
// statement and migration through.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { toPostgres } from "../../src/store/sql/dialect.ts";
import { MIGRATIONS } from "../../src/store/sqlite/migrations.ts";

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

test("parameters become $n in order; ? inside literals, quoted names and comments stays", () => {
  const t = toPostgres("SELECT * FROM t WHERE a = ? AND b = '?' AND \"c?\" = ? -- ?\n AND d > ?");
  assert.equal(t.params, 3);
  assert.equal(squash(t.text), squash("SELECT * FROM t WHERE a = $1 AND b = '?' AND \"c?\" = $2 AND d > $3"));
});

test("a parameter only tested for NULL gets a type; IS ? is null-safe equality", () => {
  assert.equal(
    toPostgres("SELECT * FROM files WHERE account = ? AND (? IS NULL OR purpose = ?)").text,
    "SELECT * FROM files WHERE account = $1 AND ($2::text IS NULL OR purpose = $3)",
  );
  assert.equal(toPostgres("SELECT 1 WHERE ? IS NOT NULL").text, "SELECT 1 WHERE $1::text IS NOT NULL");
  assert.equal(toPostgres("SELECT * FROM t WHERE a IS ? AND b IS NOT ?").text, "SELECT * FROM t WHERE a IS NOT DISTINCT FROM $1 AND b IS DISTINCT FROM $2");
});

test("CREATE TABLE: BIGINT, BIGSERIAL keys, byte-order TEXT unless NOCASE, and a rowid column", () => {
  const t = squash(
    toPostgres(`CREATE TABLE job_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL COLLATE NOCASE,
      score REAL,
      data BLOB,
      created_at INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (id, name)
    );`).text,
  );
  assert.equal(
    t,
    squash(`CREATE TABLE job_events ( seq BIGSERIAL PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE, name TEXT NOT NULL COLLATE nocase,
      score DOUBLE PRECISION, data BYTEA, created_at BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (id, name) , rowid BIGSERIAL);`),
  );
  assert.equal(squash(toPostgres("ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'AI;Services';").text), `ALTER TABLE accounts ADD COLUMN kind TEXT COLLATE "C" NOT NULL DEFAULT 'AI;Services';`);
  assert.equal(squash(toPostgres("CREATE UNIQUE INDEX x ON d (account, name COLLATE NOCASE) WHERE case_duplicate = 0").text), "CREATE UNIQUE INDEX x ON d (account, name COLLATE nocase) WHERE case_duplicate = 0");
});

test("PRAGMAs vanish, BEGIN IMMEDIATE is BEGIN, INSERT OR IGNORE is ON CONFLICT DO NOTHING, LIKE ignores case", () => {
  assert.equal(toPostgres("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;").text.trim(), "");
  assert.equal(toPostgres("BEGIN IMMEDIATE").text, "BEGIN");
  assert.equal(toPostgres("INSERT OR IGNORE INTO t (a) VALUES (?)").text, "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING");
  assert.equal(toPostgres("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING a").text, "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING a");
  assert.equal(toPostgres("SELECT * FROM t WHERE name LIKE ? AND x NOT LIKE 'a%'").text, `SELECT * FROM t WHERE name COLLATE "C" ILIKE $1 AND x COLLATE "C" NOT ILIKE 'a%'`);
  assert.equal(toPostgres("SELECT ifnull(a, 0) FROM t").text, "SELECT coalesce(a, 0) FROM t");
});

test("what has no PostgreSQL equivalent is refused with what to write instead", () => {
  assert.throws(() => toPostgres("INSERT OR REPLACE INTO t (a) VALUES (?)"), /ON CONFLICT/);
  assert.throws(() => toPostgres("REPLACE INTO t (a) VALUES (?)"), /ON CONFLICT/);
  assert.throws(() => toPostgres("SELECT strftime('%s', 'now')"), /strftime\(\) is SQLite-only/);
  assert.throws(() => toPostgres("SELECT * FROM t WHERE a GLOB ?"), /GLOB/);
});

test("every SQLite migration translates (one migration list serves both engines)", () => {
  for (const m of MIGRATIONS) {
    const t = toPostgres(m.sql);
    assert.equal(t.params, 0, `migration ${m.version}`);
    assert.doesNotMatch(t.text, /\bINTEGER\b|AUTOINCREMENT/i, `migration ${m.version}`);
  }
});

/** The SQL string literals in the stores: prepare(...), exec(...), #get/#all/#run helpers. */
function storeStatements(): { file: string; sql: string }[] {
  const dir = new URL("../../src/store/sqlite/", import.meta.url).pathname;
  const out: { file: string; sql: string }[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts") && n !== "migrations.ts")) {
    const src = readFileSync(join(dir, f), "utf8");
    for (const m of src.matchAll(/(?:prepare|exec|#get|#all|#run)\(\s*(["`])((?:(?!\1)[\s\S])*)\1/g)) {
      const sql = m[2].replace(/\$\{[^}]*\}/g, "x"); // interpolated table or column names
      if (/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|PRAGMA|BEGIN|COMMIT|ROLLBACK)\b/i.test(sql)) out.push({ file: f, sql });
    }
  }
  return out;
}

test("every statement in the stores translates", () => {
  const all = storeStatements();
  assert.ok(all.length > 100, `found only ${all.length} statements`);
  for (const { file, sql } of all) assert.doesNotThrow(() => toPostgres(sql), `${file}: ${sql}`);
});
