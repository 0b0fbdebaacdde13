// Translates the stores' SQL (written for SQLite) into PostgreSQL's dialect, mechanically, so
// one set of stores and ONE migration list serve both engines:
//   - parameters: `?` → `$1, $2, …`; `? IS [NOT] NULL` gets `::text` (PostgreSQL cannot infer the
//     type of a parameter that is only tested for NULL; the test does not depend on it);
//     `IS ?` / `IS NOT ?` (SQLite's null-safe equality) → `IS [NOT] DISTINCT FROM`;
//   - DDL: INTEGER → BIGINT (ms timestamps overflow int4), INTEGER PRIMARY KEY [AUTOINCREMENT] →
//     BIGSERIAL PRIMARY KEY (SQLite assigns those), REAL → DOUBLE PRECISION, BLOB → BYTEA;
//     TEXT columns without a collation compare byte for byte, as SQLite's BINARY does, whatever
//     the database's locale (COLLATE "C"); COLLATE NOCASE is the `nocase` ICU collation that
//     store/postgres/database.ts creates (case-insensitive, as ARM names are);
//     every table gets a `rowid BIGSERIAL` column, so `ORDER BY created_at, rowid` (insertion
//     order) and `WHERE rowid = ?` mean what they mean on SQLite;
//   - PRAGMA statements vanish, BEGIN IMMEDIATE/DEFERRED/EXCLUSIVE → BEGIN, INSERT OR IGNORE →
//     INSERT … ON CONFLICT DO NOTHING, ifnull → coalesce, LIKE → ILIKE (SQLite's LIKE ignores case);
//   - refused with a message saying what to write instead: INSERT OR REPLACE / REPLACE INTO
//     (write ON CONFLICT(key) DO UPDATE) and SQLite-only functions.
// String literals, quoted identifiers and comments are left alone.

export class SqlDialectError extends Error {
  constructor(message: string, sql: string) {
    super(`${message} (in: ${sql.replace(/\s+/g, " ").trim().slice(0, 200)})`);
    this.name = "SqlDialectError";
  }
}

export interface PgStatementText {
  text: string;
  /** How many `$n` parameters the text has (the `?`s of the original). */
  params: number;
}

const SQLITE_ONLY_FUNCTIONS = ["datetime", "strftime", "julianday", "json_extract", "json_each", "printf", "instr", "group_concat", "total", "randomblob", "last_insert_rowid", "changes", "typeof", "glob"];

/** Replaces literals, quoted identifiers and comments with markers (\u0000n\u0000); `restore` puts them back. */
function mask(sql: string): { code: string; restore: (s: string) => string } {
  const saved: string[] = [];
  let code = "";
  for (let i = 0; i < sql.length; ) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      let lit = sql.slice(i, j + 1);
      if (c === "`") lit = `"${lit.slice(1, -1)}"`;
      code += `\u0000${saved.push(lit) - 1}\u0000`;
      i = j + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const j = sql.indexOf("\n", i);
      i = j < 0 ? sql.length : j;
    } else if (c === "/" && sql[i + 1] === "*") {
      const j = sql.indexOf("*/", i + 2);
      i = j < 0 ? sql.length : j + 2;
      code += " ";
    } else {
      code += c;
      i++;
    }
  }
  return { code, restore: (s) => s.replace(/\u0000(\d+)\u0000/g, (_, n: string) => saved[Number(n)]) };
}

/** Splits `s` at commas outside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")") depth--;
    else if (s[i] === "," && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

const TABLE_CONSTRAINT = /^\s*(PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY|CONSTRAINT)\b/i;

/** One column definition: TEXT without a collation compares byte for byte (COLLATE "C"). */
function columnDef(def: string): string {
  if (TABLE_CONSTRAINT.test(def)) return def;
  const m = /^(\s*\S+\s+)TEXT\b/i.exec(def);
  if (!m || /\bCOLLATE\b/i.test(def)) return def;
  return `${m[1]}TEXT COLLATE "C"${def.slice(m[0].length)}`;
}

function createTable(code: string): string {
  const re = /\bCREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[^\s(]+\s*\(/gi;
  let out = "";
  let last = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const open = m.index + m[0].length;
    let depth = 1;
    let close = open;
    for (; close < code.length && depth > 0; close++) {
      if (code[close] === "(") depth++;
      else if (code[close] === ")") depth--;
    }
    close--; // the matching ")"
    const items = splitTopLevel(code.slice(open, close)).map(columnDef);
    const hasRowid = items.some((d) => /^\s*rowid\s/i.test(d));
    out += code.slice(last, open) + items.join(",") + (hasRowid ? "" : ",\n  rowid BIGSERIAL") + ")";
    last = close + 1;
    re.lastIndex = last;
  }
  return out + code.slice(last);
}

function translate(sql: string): PgStatementText {
  const { code: masked, restore } = mask(sql);
  let code = masked;
  if (/\bINSERT\s+OR\s+REPLACE\b|\bREPLACE\s+INTO\b/i.test(code))
    throw new SqlDialectError("INSERT OR REPLACE / REPLACE INTO has no PostgreSQL equivalent: write INSERT … ON CONFLICT(key columns) DO UPDATE SET col = excluded.col, which both engines accept", sql);
  for (const f of SQLITE_ONLY_FUNCTIONS)
    if (new RegExp(`\\b${f}\\s*\\(`, "i").test(code)) throw new SqlDialectError(`${f}() is SQLite-only: compute the value in TypeScript or use a function both engines have`, sql);
  if (/\bGLOB\b/i.test(code)) throw new SqlDialectError("GLOB is SQLite-only: use LIKE", sql);

  // Statements that mean nothing on PostgreSQL.
  code = code.replace(/\bPRAGMA\b[^;]*;?/gi, "");
  code = code.replace(/\bBEGIN\s+(?:IMMEDIATE|DEFERRED|EXCLUSIVE)\b(\s+TRANSACTION\b)?/gi, "BEGIN");
  code = code.replace(/\)\s*WITHOUT\s+ROWID\b/gi, ")").replace(/\)\s*STRICT\b/gi, ")");

  // DDL types.
  code = code.replace(/\bINTEGER\s+PRIMARY\s+KEY(?:\s+AUTOINCREMENT)?\b/gi, "BIGSERIAL PRIMARY KEY");
  code = code.replace(/\bAUTOINCREMENT\b/gi, "");
  code = code.replace(/\bINTEGER\b/gi, "BIGINT").replace(/\bREAL\b/gi, "DOUBLE PRECISION").replace(/\bBLOB\b/gi, "BYTEA");
  code = code.replace(/\bCOLLATE\s+NOCASE\b/gi, "COLLATE nocase").replace(/\bCOLLATE\s+BINARY\b/gi, 'COLLATE "C"');
  code = createTable(code);
  code = code.replace(/(\bALTER\s+TABLE\s+\S+\s+ADD\s+(?:COLUMN\s+)?)([^;]*)/gi, (_, head: string, def: string) => head + columnDef(def));

  // DML.
  code = code.replace(/\bifnull\s*\(/gi, "coalesce(");
  code = code.replace(/\s+(NOT\s+)?LIKE\b/gi, (_, not: string | undefined) => ` COLLATE "C" ${not ? "NOT " : ""}ILIKE`);
  if (/\bINSERT\s+OR\s+IGNORE\b/i.test(code)) {
    code = code.replace(/\bINSERT\s+OR\s+IGNORE\b/gi, "INSERT");
    const returning = /\bRETURNING\b/i.exec(code);
    code = returning ? `${code.slice(0, returning.index)}ON CONFLICT DO NOTHING ${code.slice(returning.index)}` : `${code.replace(/[\s;]*$/, "")} ON CONFLICT DO NOTHING`;
  }
  code = code.replace(/\bIS\s+(NOT\s+)?\?/gi, (_, not: string | undefined) => `IS ${not ? "" : "NOT "}DISTINCT FROM ?`);
  let n = 0;
  code = code.replace(/\?(\s+IS\s+(?:NOT\s+)?NULL\b)?/gi, (_, isNull: string | undefined) => `$${++n}${isNull ? `::text${isNull}` : ""}`);
  return { text: restore(code), params: n };
}

const cache = new Map<string, PgStatementText>();

/** The PostgreSQL text of one SQLite statement (or script, for exec); cached per text. */
export function toPostgres(sql: string): PgStatementText {
  let t = cache.get(sql);
  if (!t) {
    t = translate(sql);
    if (cache.size > 5000) cache.clear();
    cache.set(sql, t);
  }
  return t;
}
