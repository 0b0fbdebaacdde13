// The SQL access the stores use: the subset of node:sqlite's DatabaseSync they call. SQLite's
// DatabaseSync satisfies it as it is; store/postgres/database.ts implements it on PostgreSQL,
// synchronously (the ports are synchronous by design), translating the stores' SQL with
// store/sql/dialect.ts. Write SQL both engines accept: `?` parameters, ON CONFLICT(...) DO
// UPDATE/NOTHING upserts, no SQLite-only functions, no INSERT OR REPLACE (dialect.ts refuses it).
import type { SQLInputValue, SQLOutputValue, StatementResultingChanges } from "node:sqlite";

export type SqlValue = SQLInputValue;
export type SqlRow = Record<string, SQLOutputValue>;

export interface SqlStatement {
  /** The first row, or undefined. */
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
  /** On PostgreSQL `lastInsertRowid` is always 0: use RETURNING (both engines accept it) to read generated ids. */
  run(...params: SqlValue[]): StatementResultingChanges;
}

export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  /** One or more statements without parameters (DDL, BEGIN/COMMIT/ROLLBACK). */
  exec(sql: string): void;
  close(): void;
}
