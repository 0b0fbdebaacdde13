// The Batch API's rules (core/batch): input-line validation, the status machine, low-priority
// scheduling (room, preemption), and the service over the real SQLite store with fakes for the
// files, deployments, runner load and line execution (restart resume, cancel, expiry, quota).
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { describe, test } from "node:test";
import { batchRoom, canTransition } from "../../src/core/batch/scheduling.ts";
import { BatchService, type BatchFiles, type LineExecutor } from "../../src/core/batch/service.ts";
import type { BatchEndpoint, LineOutcome } from "../../src/core/batch/types.ts";
import { checkBatchFile } from "../../src/core/batch/validate.ts";
import type { FileRecord } from "../../src/core/files/types.ts";
import type { ResolvedDeployment } from "../../src/core/ports/index.ts";
import { quotaLabel } from "../../src/core/deployments/rules.ts";
import { MIGRATIONS } from "../../src/store/sqlite/migrations.ts";
import { SqliteBatchStore } from "../../src/store/sqlite/batch-store.ts";
import { rejection } from "./caught.ts";

const enc = new TextEncoder();
async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield enc.encode(text);
}
const line = (id: string, extra: Record<string, unknown> = {}, body: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "batchy", messages: [{ role: "user", content: `hello ${id}` }], ...body }, ...extra });

describe("input validation", () => {
  test("a good file: lines kept, tokens estimated, blank lines and CRLF accepted", async () => {
    const c = await checkBatchFile(bytes(`${line("a")}\r\n\n${line("b")}\n`), { keepLines: true });
    assert.equal(c.errorCount, 0);
    assert.equal(c.requests, 2);
    assert.deepEqual(c.lines.map((l) => [l.line, l.customId]), [[1, "a"], [3, "b"]]);
    assert.equal(c.model, "batchy");
    assert.ok(c.tokens > 0);
  });

  test("every bad line is named with Azure's code and its line number", async () => {
    const text = [
      line("a"),
      "{not json",
      line("a"),
      line("c", {}, { model: "other" }),
      line("d", { url: "/v1/embeddings" }),
      line("e", { url: "/v1/images/generations" }),
      line("f", { method: "GET" }),
      JSON.stringify({ custom_id: "g", method: "POST", url: "/chat/completions", body: "hi" }),
      line("h", {}, { stream: true }),
      JSON.stringify({ method: "POST", url: "/chat/completions", body: { model: "batchy" } }),
      "[1,2]",
    ].join("\n");
    const c = await checkBatchFile(bytes(text));
    const got = c.errors.map((e) => [e.line, e.code]);
    assert.deepEqual(got, [
      [2, "invalid_json_line"],
      [3, "duplicate_custom_id"],
      [4, "model_mismatch"],
      [5, "url_mismatch"],
      [6, "invalid_url"],
      [7, "invalid_request"],
      [8, "invalid_request"],
      [9, "invalid_request"],
      [10, "invalid_request"],
      [11, "invalid_json_line"],
    ]);
    assert.match(c.errors[1].message, /Line 3: custom_id 'a' was already used on line 1/);
    assert.match(c.errors[2].message, /Every line of a batch must name the same batch deployment/);
    assert.equal(c.errors[8].param, "custom_id");
  });

  test("file-level problems: BOM, empty file, too many tasks, a deployment the route names", async () => {
    assert.equal((await checkBatchFile(bytes(`\ufeff${line("a")}`))).errors[0].code, "invalid_json_line");
    const empty = await checkBatchFile(bytes("\n\n"));
    assert.deepEqual(empty.errors.map((e) => [e.code, e.line]), [["empty_file", null]]);
    const many = await checkBatchFile(bytes([line("a"), line("b"), line("c")].join("\n")), { maxLines: 2 });
    assert.deepEqual(many.errors.map((e) => [e.code, e.line]), [["too_many_tasks", 3]]);
    const routed = await checkBatchFile(bytes(line("a")), { deployment: "elsewhere" });
    assert.equal(routed.errors[0].code, "model_mismatch");
  });
});

describe("status machine and scheduling", () => {
  test("a batch deployment's capacity is an enqueued-token quota, and its usage says so", () => {
    assert.equal(quotaLabel("AIServices.GlobalBatch.tiny-chat", "GlobalBatch", "tiny-chat"), "Enqueued Tokens (thousands) - tiny-chat - GlobalBatch");
    assert.equal(quotaLabel("AIServices.GlobalStandard.tiny-chat", "GlobalStandard", "tiny-chat"), "Tokens Per Minute (thousands) - tiny-chat - GlobalStandard");
  });

  test("allowed transitions", () => {
    assert.ok(canTransition("validating", "in_progress"));
    assert.ok(canTransition("in_progress", "cancelling"));
    assert.ok(canTransition("cancelling", "cancelled"));
    assert.ok(canTransition("in_progress", "expired"));
    assert.ok(!canTransition("completed", "cancelling"));
    assert.ok(!canTransition("failed", "in_progress"));
    assert.ok(!canTransition("cancelled", "in_progress"));
  });

  test("batch work fills idle sequences, keeps one free, and gives way to queued online requests", () => {
    assert.deepEqual(batchRoom({ sequences: 8, active: 0, queued: 0, batchRunning: 0 }), { start: 7, preempt: 0 });
    // Online requests running: batch lines start only up to an eighth of the sequences (at least one).
    assert.deepEqual(batchRoom({ sequences: 8, active: 3, queued: 0, batchRunning: 0 }), { start: 1, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 16, active: 3, queued: 0, batchRunning: 1 }), { start: 1, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 8, active: 6, queued: 0, batchRunning: 5 }), { start: 0, preempt: 0 }, "running lines are not stopped");
    assert.deepEqual(batchRoom({ sequences: 8, active: 0, queued: 0, batchRunning: 0, onlineRecently: true }), { start: 1, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 8, active: 7, queued: 0, batchRunning: 0 }), { start: 0, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 8, active: 7, queued: 0, batchRunning: 7 }), { start: 0, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 8, active: 8, queued: 2, batchRunning: 7 }), { start: 0, preempt: 2 });
    assert.deepEqual(batchRoom({ sequences: 8, active: 8, queued: 3, batchRunning: 0 }), { start: 0, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 1, active: 0, queued: 0, batchRunning: 0 }), { start: 1, preempt: 0 });
    assert.deepEqual(batchRoom({ sequences: 1, active: 1, queued: 1, batchRunning: 1 }), { start: 0, preempt: 1 });
  });
});

// --- the service over SQLite, with fakes ---

function db() {
  const d = new DatabaseSync(":memory:");
  d.exec(MIGRATIONS.find((m) => m.version === 19)!.sql);
  return d;
}

class FakeFiles implements BatchFiles {
  files = new Map<string, { record: FileRecord; text: string }>();
  add(account: string, text: string, purpose: FileRecord["purpose"] = "batch"): string {
    const id = `file-${this.files.size}`;
    this.files.set(id, { record: { id, account, purpose, filename: "in.jsonl", bytes: text.length, status: "processed", statusDetails: null, format: null, examples: null, createdAt: 0 }, text });
    return id;
  }
  get(account: string, id: string) {
    const f = this.files.get(id);
    return f && f.record.account === account ? f.record : undefined;
  }
  content(_account: string, id: string) {
    return { body: bytes(this.files.get(id)!.text) };
  }
  async putResult(account: string, filename: string, content: string) {
    const id = this.add(account, content, "batch_output");
    this.files.get(id)!.record.filename = filename;
    return this.files.get(id)!.record;
  }
  text(id: string | null) {
    return this.files.get(id!)!.text;
  }
}

const deployment = (name: string, sku = "GlobalBatch", capacity = 1000): ResolvedDeployment => ({
  account: "acct",
  name,
  sku: { name: sku, capacity },
  modelName: "tiny-chat",
  engineKey: "tiny-chat",
  capabilities: ["chatCompletion", "completion"],
});

interface Bed {
  service: BatchService;
  files: FakeFiles;
  calls: string[];
  load: { active: number; queued: number };
  release: (customIdPrefix?: string) => void;
  now: { t: number };
  preempted: { n: number };
}

/** `hold`: executions wait until release() (else they answer at once). */
function bed(store: SqliteBatchStore, opts: { hold?: boolean; files?: FakeFiles; outcome?: (body: Record<string, unknown>) => LineOutcome; sequences?: number; now?: { t: number } } = {}): Bed {
  const files = opts.files ?? new FakeFiles();
  const calls: string[] = [];
  const waiting: { content: string; go: () => void }[] = [];
  const load = { active: 0, queued: 0 };
  const preempted = { n: 0 };
  const now = opts.now ?? { t: 1_000_000 };
  const execute: LineExecutor = async (_account, _deployment, _endpoint: BatchEndpoint, body, signal) => {
    const content = (body.messages as { content: string }[])[0].content;
    calls.push(content);
    load.active++;
    try {
      if (opts.hold)
        await new Promise<void>((resolve, reject) => {
          waiting.push({ content, go: resolve });
          signal.addEventListener(
            "abort",
            () => {
              preempted.n++;
              // As the runner does: a queued request takes the sequence the stopped line frees.
              if (load.queued > 0) {
                load.queued--;
                load.active++;
              }
              reject(new Error("stopped"));
            },
            { once: true },
          );
        });
      if (signal.aborted) throw new Error("stopped");
      return opts.outcome?.(body) ?? { statusCode: 200, body: { object: "chat.completion", echo: content }, usage: { promptTokens: 3, completionTokens: 2, cachedTokens: 0 } };
    } finally {
      load.active--;
    }
  };
  const service = new BatchService({
    store,
    files,
    deployments: {
      resolve: (_account, name) => {
        if (name === "batchy") return deployment("batchy");
        if (name === "small") return deployment("small", "GlobalBatch", 1);
        if (name === "online") return deployment("online", "GlobalStandard");
        throw Object.assign(new Error("DeploymentNotFound"), { status: 404 });
      },
    },
    execute,
    load: () => ({ ...load }),
    sequences: opts.sequences ?? 4,
    clock: () => now.t,
    tickMs: 2,
    retryDelayMs: 5,
  });
  const release = (prefix = "") => {
    for (const w of waiting.splice(0)) if (w.content.startsWith(`hello ${prefix}`)) w.go();
    else waiting.push(w);
  };
  return { service, files, calls, load, release, now, preempted };
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const input = (ids: string[], body: Record<string, unknown> = {}) => ids.map((id) => line(id, {}, body)).join("\n") + "\n";

describe("batch service", () => {
  test("validating → in_progress → completed; output and error files in Azure's line shape", async () => {
    const b = bed(new SqliteBatchStore(db()), { outcome: (body) => ((body.messages as { content: string }[])[0].content === "hello bad" ? { statusCode: 400, body: { error: { code: "invalid_value", message: "no" } } } : { statusCode: 200, body: { ok: true } }) });
    b.service.start();
    const file = b.files.add("acct", input(["a", "b", "bad"]));
    const created = await b.service.create("acct", { inputFileId: file, endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: { k: "v" } });
    assert.equal(created.status, "validating");
    assert.equal(created.counts.total, 3);
    const done = await until("completed", () => {
      const x = b.service.get("acct", created.id)!;
      return x.status === "completed" && x;
    });
    assert.deepEqual([done.counts.completed, done.counts.failed], [2, 1]);
    assert.ok(done.inProgressAt && done.finalizingAt && done.completedAt);
    const out = b.files.text(done.outputFileId).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(out.map((o) => [o.custom_id, o.response.status_code, o.error]), [["a", 200, null], ["b", 200, null]]);
    assert.match(out[0].id, /^batch_req_/);
    const err = JSON.parse(b.files.text(done.errorFileId).trim());
    assert.equal(err.custom_id, "bad");
    assert.equal(err.response.status_code, 400);
    assert.equal(err.response.body.error.message, "Line 3: no", "a failed line's message names its line");
    assert.deepEqual(done.metadata, { k: "v" });
    await b.service.close();
  });

  test("a file with bad lines makes a failed batch whose errors name the lines; bad parameters are 4xx", async () => {
    const b = bed(new SqliteBatchStore(db()));
    b.service.start();
    const file = b.files.add("acct", `${line("a")}\n{oops\n${line("a")}\n`);
    const failed = await b.service.create("acct", { inputFileId: file, endpoint: "/v1/chat/completions", completionWindow: "24h" });
    assert.equal(failed.status, "failed");
    assert.deepEqual(failed.errors!.map((e) => [e.code, e.line]), [["invalid_json_line", 2], ["duplicate_custom_id", 3]]);
    assert.equal((await rejection(b.service.create("acct", { inputFileId: file, endpoint: "/v1/images", completionWindow: "24h" }))).param, "endpoint");
    assert.equal((await rejection(b.service.create("acct", { inputFileId: file, endpoint: "/v1/chat/completions", completionWindow: "48h" }))).param, "completion_window");
    assert.equal((await rejection(b.service.create("acct", { inputFileId: "file-nope", endpoint: "/v1/chat/completions", completionWindow: "24h" }))).status, 404);
    const ft = b.files.add("acct", input(["a"]), "fine-tune");
    assert.match((await rejection(b.service.create("acct", { inputFileId: ft, endpoint: "/v1/chat/completions", completionWindow: "24h" }))).message, /purpose 'batch'/);
    // A Standard deployment named by the route is a 400 naming the fix; named in the lines, a failed batch.
    assert.match((await rejection(b.service.create("acct", { inputFileId: b.files.add("acct", input(["a"], { model: "online" })), endpoint: "/chat/completions", completionWindow: "24h", deployment: "online" }))).message, /GlobalBatch or DataZoneBatch/);
    const std = await b.service.create("acct", { inputFileId: b.files.add("acct", input(["a"], { model: "online" })), endpoint: "/chat/completions", completionWindow: "24h" });
    assert.deepEqual(std.errors!.map((e) => [e.code, e.line]), [["invalid_request", 1]]);
    const unknown = await b.service.create("acct", { inputFileId: b.files.add("acct", input(["a"], { model: "ghost" })), endpoint: "/chat/completions", completionWindow: "24h" });
    assert.equal(unknown.errors![0].code, "model_not_found");
    await b.service.close();
  });

  test("the enqueued-token quota counts unfinished batches of the model (token_limit_exceeded)", async () => {
    const b = bed(new SqliteBatchStore(db()), { hold: true });
    b.service.start();
    // 'small' has capacity 1: 1,000 enqueued tokens.
    const long = "x".repeat(2400);
    const first = await b.service.create("acct", { inputFileId: b.files.add("acct", input(["a"], { model: "small", messages: [{ role: "user", content: `hello ${long}` }] })), endpoint: "/chat/completions", completionWindow: "24h" });
    assert.equal(first.status, "validating");
    const e = await rejection(b.service.create("acct", { inputFileId: b.files.add("acct", input(["b"], { model: "small", messages: [{ role: "user", content: `hello ${long}` }] })), endpoint: "/chat/completions", completionWindow: "24h" }));
    assert.equal(e.status, 400);
    assert.equal(e.code, "token_limit_exceeded");
    assert.match(e.message, /token_limit_exceeded.*enqueued-token limit is 1000/);
    b.service.cancel("acct", first.id);
    await until("cancelled", () => b.service.get("acct", first.id)!.status === "cancelled");
    await b.service.close();
  });

  test("a stop mid-batch resumes at the next start: finished lines are kept and not run again", async () => {
    const store = new SqliteBatchStore(db());
    const files = new FakeFiles();
    const one = bed(store, { hold: true, files });
    one.service.start();
    const created = await one.service.create("acct", { inputFileId: files.add("acct", input(["a", "b", "c", "d", "e"])), endpoint: "/v1/chat/completions", completionWindow: "24h" });
    await until("three lines running", () => one.calls.length === 3);
    one.release("a");
    one.release("b");
    await until("two finished", () => store.counts(created.id).completed === 2);
    await one.service.close();
    assert.equal(store.get(created.id)!.status, "in_progress");

    const two = bed(store, { files });
    two.service.start();
    const done = await until("completed", () => {
      const x = two.service.get("acct", created.id)!;
      return x.status === "completed" && x;
    });
    assert.deepEqual(two.calls.sort(), ["hello c", "hello d", "hello e"], "finished lines are not redone");
    assert.deepEqual(files.text(done.outputFileId).trim().split("\n").map((l) => JSON.parse(l).custom_id), ["a", "b", "c", "d", "e"]);
    await two.service.close();
  });

  test("online requests queued on the runner take sequences back from batch lines", async () => {
    const store = new SqliteBatchStore(db());
    const b = bed(store, { hold: true, sequences: 4 });
    b.service.start();
    const created = await b.service.create("acct", { inputFileId: b.files.add("acct", input(["a", "b", "c", "d", "e", "f"])), endpoint: "/v1/chat/completions", completionWindow: "24h" });
    await until("three lines running (one sequence kept free)", () => b.calls.length === 3);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(b.calls.length, 3, "no more than sequences - 1");
    // Two online requests arrive: one takes the free sequence, one queues.
    b.load.active += 1;
    b.load.queued += 1;
    await until("one batch line preempted", () => b.preempted.n === 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(b.preempted.n, 1, "only as many as were queued");
    assert.deepEqual(b.load, { active: 4, queued: 0 });
    assert.equal(b.calls.length, 3, "no new batch line while online traffic uses the room");
    b.load.active -= 2; // online traffic ends
    await until("the preempted line runs again", () => b.calls.length >= 4);
    const loop = setInterval(() => b.release(), 2);
    const done = await until("completed", () => b.service.get("acct", created.id)!.status === "completed" && b.service.get("acct", created.id)!);
    clearInterval(loop);
    assert.equal(done.counts.completed, 6);
    await b.service.close();
  });

  test("cancel keeps finished results", async () => {
    const b = bed(new SqliteBatchStore(db()), { hold: true, sequences: 2 });
    b.service.start();
    const c = await b.service.create("acct", { inputFileId: b.files.add("acct", input(["a", "b", "c"])), endpoint: "/v1/chat/completions", completionWindow: "24h" });
    await until("a running", () => b.calls.length === 1);
    b.release("a");
    await until("a finished", () => b.service.get("acct", c.id)!.counts.completed === 1);
    assert.equal(b.service.cancel("acct", c.id).status, "cancelling");
    const cancelled = await until("cancelled", () => b.service.get("acct", c.id)!.status === "cancelled" && b.service.get("acct", c.id)!);
    assert.deepEqual(b.files.text(cancelled.outputFileId).trim().split("\n").map((l) => JSON.parse(l).custom_id), ["a"]);
    assert.equal(cancelled.counts.completed, 1);
    assert.equal(b.service.cancel("acct", c.id).status, "cancelled", "cancelling again is a no-op");
    await b.service.close();
  });

  test("expiry: lines not run are failed with batch_expired", async () => {
    const now = { t: 1_000_000 };
    const b = bed(new SqliteBatchStore(db()), { hold: true, sequences: 2, now });
    b.service.start();
    const c = await b.service.create("acct", { inputFileId: b.files.add("acct", input(["a", "b", "c"])), endpoint: "/v1/chat/completions", completionWindow: "24h" });
    await until("a running", () => b.calls.length === 1);
    b.release("a");
    await until("a finished", () => b.service.get("acct", c.id)!.counts.completed === 1);
    now.t += 24 * 3600 * 1000;
    const expired = await until("expired", () => b.service.get("acct", c.id)!.status === "expired" && b.service.get("acct", c.id)!);
    const errs = b.files.text(expired.errorFileId).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(errs.map((e) => [e.custom_id, e.error.code]), [["b", "batch_expired"], ["c", "batch_expired"]]);
    assert.deepEqual([expired.counts.completed, expired.counts.failed], [1, 2]);
    await b.service.close();
  });

  test("list pages newest first with after/limit; transient 503s are retried, not recorded", async () => {
    let fails = 2;
    const b = bed(new SqliteBatchStore(db()), { outcome: () => (fails-- > 0 ? { statusCode: 503, body: { error: { code: "ServiceUnavailable", message: "loading" } } } : { statusCode: 200, body: {} }) });
    b.service.start();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      b.now.t += 1000;
      ids.push((await b.service.create("acct", { inputFileId: b.files.add("acct", input([`x${i}`])), endpoint: "/v1/chat/completions", completionWindow: "24h" })).id);
    }
    const p1 = b.service.list("acct", { limit: 2 });
    assert.deepEqual(p1.data.map((x) => x.id), [ids[2], ids[1]]);
    assert.ok(p1.hasMore);
    const p2 = b.service.list("acct", { limit: 2, after: ids[1] });
    assert.deepEqual(p2.data.map((x) => x.id), [ids[0]]);
    assert.ok(!p2.hasMore);
    for (const id of ids) await until(`completed ${id}`, () => b.service.get("acct", id)!.status === "completed");
    assert.ok(ids.every((id) => b.service.get("acct", id)!.counts.failed === 0), "the 503s were retried");
    assert.equal((await rejection(Promise.resolve().then(() => b.service.cancel("acct", ids[0])))).status, 409);
    await b.service.close();
  });
});
