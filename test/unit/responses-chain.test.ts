import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { RESPONSE_RETENTION_MS, ResponseService } from "../../src/core/responses/service.ts";
import { MIGRATIONS } from "../../src/store/sqlite/migrations.ts";
import { SqliteResponseStore } from "../../src/store/sqlite/response-store.ts";
import { conversationFor, parseResponsesRequest } from "../../src/http/openai/responses-request.ts";

function service() {
  const db = new DatabaseSync(":memory:");
  db.exec(MIGRATIONS.find((m) => m.version === 17)!.sql);
  let now = 1_000_000;
  const s = new ResponseService(new SqliteResponseStore(db), { clock: () => now });
  return { s, advance: (ms: number) => (now += ms) };
}

const notFound = (param: string | null) => (e: unknown) => {
  assert.ok(e instanceof IngotError);
  assert.equal(e.status, 404);
  assert.equal(e.code, "not_found");
  assert.equal(e.param, param);
  return true;
};

const save = (s: ResponseService, id: string, account: string, conversation: { role: "user" | "assistant"; content: string }[]) =>
  s.save({ id, account, body: { id, status: "completed" }, inputItems: [{ id: "msg_1" }], conversation });

test("a chain continues the stored conversation; instructions are not carried along", () => {
  const { s } = service();
  save(s, "resp_a", "acct", [{ role: "user", content: "My name is Ada." }, { role: "assistant", content: "Hello Ada." }]);
  const req = parseResponsesRequest({ input: "What is my name?", instructions: "Answer briefly.", previous_response_id: "resp_a" }, "d");
  const messages = conversationFor(req, s.conversationBefore("acct", req.previousResponseId));
  assert.deepEqual(messages.map((m) => [m.role, m.content]), [
    ["system", "Answer briefly."],
    ["user", "My name is Ada."],
    ["assistant", "Hello Ada."],
    ["user", "What is my name?"],
  ]);
  assert.deepEqual(s.conversationBefore("acct", null), []);
});

test("unknown, deleted, another account's and expired ids are the same 404", () => {
  const { s, advance } = service();
  save(s, "resp_a", "acct", []);
  assert.throws(() => s.conversationBefore("acct", "resp_nope"), notFound("previous_response_id"));
  assert.throws(() => s.conversationBefore("other", "resp_a"), notFound("previous_response_id"));
  assert.throws(() => s.require("other", "resp_a"), notFound(null));
  assert.throws(() => s.delete("other", "resp_a"), notFound(null));
  s.delete("acct", "resp_a");
  assert.throws(() => s.require("acct", "resp_a"), notFound(null));
  save(s, "resp_b", "acct", []);
  advance(RESPONSE_RETENTION_MS - 1);
  assert.equal(s.require("acct", "resp_b").id, "resp_b");
  advance(1);
  assert.throws(() => s.require("acct", "resp_b"), notFound(null));
  assert.equal(s.sweepExpired(), 1);
});

test("deleting an account's responses leaves others'", () => {
  const { s } = service();
  save(s, "resp_a", "acct", []);
  save(s, "resp_b", "other", []);
  s.deleteAll("acct");
  assert.throws(() => s.require("acct", "resp_a"), notFound(null));
  assert.equal(s.require("other", "resp_b").id, "resp_b");
});
