// store/postgres/database.ts without a server: a URL nothing answers on fails fast with a
// message that says what to check (the server-backed behaviour is in test/e2e/postgres*.test.ts).
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { DatabaseUnreachableError, describeUrl, PgDatabase } from "../../src/store/postgres/database.ts";
import { openPostgresStore } from "../../src/store/sql/open.ts";

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("a database that does not answer: DatabaseUnreachableError at once, naming the place without the password", { timeout: 20_000 }, async () => {
  const port = await closedPort();
  const started = Date.now();
  assert.throws(
    () => new PgDatabase(`postgres://ingot:s3cret@127.0.0.1:${port}/ingot`, { connectTimeoutMs: 2_000 }),
    (e: Error) => e instanceof DatabaseUnreachableError && e.message.includes(`127.0.0.1:${port}/ingot`) && /ECONNREFUSED/.test(e.message) && /--database/.test(e.message) && !e.message.includes("s3cret"),
  );
  assert.ok(Date.now() - started < 5_000);
  assert.equal(describeUrl("postgresql://u:p@db.example:5433/x?sslmode=require"), "db.example:5433/x");
});

test("only postgres:// URLs are taken", () => {
  assert.throws(() => openPostgresStore("mysql://u@h/db"), /must start with postgres:\/\/ or postgresql:\/\//);
});
