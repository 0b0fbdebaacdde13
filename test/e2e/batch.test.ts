// The Batch API end to end (issue 15 item 2): openai's OpenAI (v1) and AzureOpenAI (dated; with
// a deployment it posts to /openai/deployments/{d}/batches) upload purpose-batch files, create,
// retrieve, list (paged) and cancel batches and download the output and error files; plain
// HTTP for the errors (bad lines with their line numbers, sync calls to a batch deployment,
// the enqueued-token quota). Last, a restart mid-batch: the next server on the same data dir
// finishes the batch, and lines finished before the stop are not run again.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BadRequestError, toFile } from "openai";
import { API_KEY, API_VERSION, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const EMBED = { format: "Ingot", name: "tiny-embed", version: "1" };
const NO_EOS = { "256": -100, "257": -100, "258": -100 };
// Azure's docs send endpoints without /v1 (openai-node types only the /v1 forms): both are accepted.
const AZ_CHAT = "/chat/completions" as "/v1/chat/completions";
const deployments = [
  { name: "tiny-batch", model: TINY, sku: { name: "GlobalBatch", capacity: 1000 } },
  { name: "tiny-batch-small", model: TINY, sku: { name: "DataZoneBatch", capacity: 1 } },
  { name: "embed-batch", model: EMBED, sku: { name: "GlobalBatch", capacity: 1000 } },
];

const dataDir = mkdtempSync(join(tmpdir(), "ingot-batch-"));
let server: TestServer;
before(async () => {
  server = await startServer({ dataDir, extraDeployments: deployments });
});
after(async () => {
  // A keep-alive connection of the clients sometimes holds the second server's close for the
  // whole keep-alive timeout (72 s); the test is over, so every connection goes.
  server?.ingot.app.server.closeAllConnections();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const chatLine = (id: string, model = "tiny-batch", extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: `Say something about ${id}` }], max_tokens: 4, ...extra } });
const jsonl = (lines: string[]) => lines.join("\n") + "\n";

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const parseLines = (text: string) => text.split("\n").filter(Boolean).map((l) => JSON.parse(l));

describe("Batch API", { timeout: 240_000 }, () => {
  test("OpenAI v1: upload, create, poll to completed, download output and error files", async () => {
    const client = server.v1();
    const lines = [chatLine("a"), chatLine("b"), chatLine("c"), JSON.stringify({ custom_id: "bad", method: "POST", url: "/v1/chat/completions", body: { model: "tiny-batch", messages: "hi" } })];
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), "batch.jsonl"), purpose: "batch" });
    assert.equal(file.purpose, "batch");
    assert.equal(file.status, "processed");
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { run: "1" } });
    assert.match(batch.id, /^batch_/);
    assert.equal(batch.object, "batch");
    assert.ok(["validating", "in_progress"].includes(batch.status));
    assert.equal(typeof batch.created_at, "number");
    assert.equal(batch.expires_at, batch.created_at + 24 * 3600);
    const done = await until("completed", async () => {
      const b = await client.batches.retrieve(batch.id);
      return b.status === "completed" && b;
    });
    assert.deepEqual(done.request_counts, { total: 4, completed: 3, failed: 1 });
    assert.ok(done.in_progress_at && done.finalizing_at && done.completed_at);
    assert.deepEqual(done.metadata, { run: "1" });
    const out = parseLines(await (await client.files.content(done.output_file_id!)).text());
    assert.deepEqual(out.map((o) => o.custom_id).sort(), ["a", "b", "c"]);
    for (const o of out) {
      assert.equal(o.error, null);
      assert.equal(o.response.status_code, 200);
      assert.equal(o.response.body.object, "chat.completion");
      assert.equal(o.response.body.model, "tiny-chat");
      assert.ok(o.response.body.usage.completion_tokens > 0);
      assert.ok(Array.isArray(o.response.body.prompt_filter_results), "content filtering ran on the line");
    }
    const errs = parseLines(await (await client.files.content(done.error_file_id!)).text());
    assert.equal(errs.length, 1);
    assert.equal(errs[0].custom_id, "bad");
    assert.equal(errs[0].response.status_code, 400);
    assert.match(errs[0].response.body.error.message, /^Line 4: .*messages/);
    assert.ok(done.usage && done.usage.output_tokens > 0);
    const outFile = await client.files.retrieve(done.output_file_id!);
    assert.equal(outFile.purpose, "batch_output");
  });

  test("AzureOpenAI: a deployment client posts to /openai/deployments/{d}/batches; embeddings and responses lines; list pages; cancel keeps results", async () => {
    const azure = server.azure({ deployment: "tiny-batch" });
    const file = await azure.files.create({ file: await toFile(Buffer.from(jsonl([chatLine("x"), chatLine("y")])), "d.jsonl"), purpose: "batch" });
    const viaDeployment = await azure.batches.create({ input_file_id: file.id, endpoint: AZ_CHAT, completion_window: "24h" });
    assert.equal(viaDeployment.endpoint, "/chat/completions");

    const plain = server.azure();
    const embedLines = ["one", "two"].map((t) => JSON.stringify({ custom_id: t, method: "POST", url: "/embeddings", body: { model: "embed-batch", input: t } }));
    const ef = await plain.files.create({ file: await toFile(Buffer.from(jsonl(embedLines)), "e.jsonl"), purpose: "batch" });
    const embed = await plain.batches.create({ input_file_id: ef.id, endpoint: "/embeddings" as "/v1/embeddings", completion_window: "24h" });
    const respLines = ["r1", "r2"].map((t) => JSON.stringify({ custom_id: t, method: "POST", url: "/v1/responses", body: { model: "tiny-batch", input: `hello ${t}`, max_output_tokens: 4 } }));
    const rf = await plain.files.create({ file: await toFile(Buffer.from(jsonl(respLines)), "r.jsonl"), purpose: "batch" });
    const resp = await plain.batches.create({ input_file_id: rf.id, endpoint: "/v1/responses", completion_window: "24h" });

    // A long batch to cancel: lines that run to max_tokens.
    const longLines = Array.from({ length: 40 }, (_, i) => chatLine(`long-${i}`, "tiny-batch", { max_tokens: 200, logit_bias: NO_EOS }));
    const lf = await plain.files.create({ file: await toFile(Buffer.from(jsonl(longLines)), "l.jsonl"), purpose: "batch" });
    const long = await plain.batches.create({ input_file_id: lf.id, endpoint: AZ_CHAT, completion_window: "24h" });

    for (const b of [viaDeployment, embed, resp]) {
      const done = await until(`${b.id} completed`, async () => {
        const x = await plain.batches.retrieve(b.id);
        return x.status === "completed" && x;
      });
      assert.equal(done.request_counts!.failed, 0, JSON.stringify(done));
      const out = parseLines(await (await plain.files.content(done.output_file_id!)).text());
      assert.equal(out.length, 2);
      if (b === embed) assert.equal(out[0].response.body.object, "list");
      if (b === resp) {
        assert.equal(out[0].response.body.object, "response");
        assert.equal(out[0].response.body.status === "completed" || out[0].response.body.status === "incomplete", true);
      }
    }

    await until("some long lines finished", async () => ((await plain.batches.retrieve(long.id)).request_counts?.completed ?? 0) >= 1);
    const cancelling = await plain.batches.cancel(long.id);
    assert.ok(["cancelling", "cancelled"].includes(cancelling.status));
    const cancelled = await until("cancelled", async () => {
      const x = await plain.batches.retrieve(long.id);
      return x.status === "cancelled" && x;
    });
    assert.ok(cancelled.cancelled_at && cancelled.cancelling_at);
    const kept = parseLines(await (await plain.files.content(cancelled.output_file_id!)).text());
    assert.equal(kept.length, cancelled.request_counts!.completed);
    assert.ok(kept.length >= 1 && kept.length < 40, `${kept.length} finished lines kept`);

    // Paged list: newest first, one a page, the SDK following has_more/after.
    const seen: string[] = [];
    for await (const b of plain.batches.list({ limit: 1 })) seen.push(b.id);
    assert.ok(seen.length >= 4);
    assert.deepEqual(seen.slice(0, 4), [long.id, resp.id, embed.id, viaDeployment.id]);
  });

  test("plain HTTP: bad lines with line numbers, a sync call to a batch deployment, the token quota, bad parameters", async () => {
    const upload = async (text: string) => {
      const form = new FormData();
      form.append("purpose", "batch");
      form.append("file", new Blob([text]), "in.jsonl");
      const res = await fetch(`${server.url}/openai/files?api-version=${API_VERSION}`, { method: "POST", headers: { "api-key": API_KEY }, body: form });
      assert.equal(res.status, 201);
      return json(res);
    };
    const bad = await upload(jsonl([chatLine("a"), "{broken", chatLine("a"), chatLine("d", "other-deployment")]));
    assert.equal(bad.status, "error");
    assert.match(bad.status_details, /Line 2: .*not valid JSON/);
    assert.match(bad.status_details, /duplicate_custom_id: Line 3/);
    assert.match(bad.status_details, /model_mismatch: Line 4/);

    const create = (body: unknown) => server.post(`/openai/batches?api-version=${API_VERSION}`, body);
    const failed = await json(await create({ input_file_id: bad.id, endpoint: AZ_CHAT, completion_window: "24h" }));
    assert.equal(failed.status, "failed");
    assert.deepEqual(failed.errors.data.map((e: { code: string; line: number }) => [e.code, e.line]), [["invalid_json_line", 2], ["duplicate_custom_id", 3], ["model_mismatch", 4]]);
    assert.equal(typeof failed.failed_at, "number");

    const sync = await server.post(`/openai/deployments/tiny-batch/chat/completions?api-version=${API_VERSION}`, { messages: [{ role: "user", content: "hi" }] });
    assert.equal(sync.status, 400);
    assert.match((await json(sync)).error.message, /GlobalBatch SKU.*POST \/openai\/batches/);

    const good = await upload(jsonl([chatLine("q", "tiny-batch-small", { messages: [{ role: "user", content: "x".repeat(5000) }] })]));
    const quota = await create({ input_file_id: good.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    assert.equal(quota.status, 400);
    const qbody = await json(quota);
    assert.equal(qbody.error.code, "token_limit_exceeded");
    assert.match(qbody.error.message, /token_limit_exceeded/);
    // openai-node raises it as BadRequestError.
    await assert.rejects(server.azure().batches.create({ input_file_id: good.id, endpoint: AZ_CHAT, completion_window: "24h" }), (e) => e instanceof BadRequestError && /token_limit_exceeded/.test(e.message));

    const window = await create({ input_file_id: good.id, endpoint: "/chat/completions", completion_window: "48h" });
    assert.equal(window.status, 400);
    assert.equal((await json(window)).error.param, "completion_window");
    const endpoint = await create({ input_file_id: good.id, endpoint: "/v1/images/generations", completion_window: "24h" });
    assert.equal((await json(endpoint)).error.param, "endpoint");
    const missing = await create({ endpoint: AZ_CHAT, completion_window: "24h" });
    assert.equal((await json(missing)).error.code, "missing_required_parameter");
    const standard = await server.post(`/openai/deployments/tiny-chat/batches?api-version=${API_VERSION}`, { input_file_id: good.id, endpoint: AZ_CHAT, completion_window: "24h" });
    assert.equal(standard.status, 400);
    assert.match((await json(standard)).error.message, /GlobalBatch or DataZoneBatch/);
    const unknown = await fetch(`${server.url}/openai/v1/batches/batch_nope`, { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(unknown.status, 404);
    const done = await fetch(`${server.url}/openai/v1/batches/${failed.id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(done.status, 409);
  });

  test("ingot batch create --wait shows progress and saves the output; list and download", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ingot-batch-cli-"));
    try {
      const input = join(dir, "requests.jsonl");
      writeFileSync(input, jsonl([chatLine("cli-1"), chatLine("cli-2"), chatLine("cli-3")]));
      const bin = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
      const run = (...args: string[]) => promisify(execFile)(process.execPath, [bin, "batch", ...args, "--endpoint", server.url, "--api-key", API_KEY], { encoding: "utf8", timeout: 60_000 });
      const created = await run("create", "--input-file", input, "--metadata", "via=cli", "--wait", "--dir", dir);
      const batch = JSON.parse(created.stdout);
      assert.equal(batch.status, "completed");
      assert.deepEqual(batch.metadata, { via: "cli" });
      assert.match(created.stderr, /uploading .*requests\.jsonl/);
      assert.match(created.stderr, /batch batch_.*100\.0%.*3\/3 lines/, "the progress line reaches 100%");
      const out = parseLines(readFileSync(join(dir, `${batch.id}_output.jsonl`), "utf8"));
      assert.deepEqual(out.map((o) => o.custom_id).sort(), ["cli-1", "cli-2", "cli-3"]);
      assert.equal(readFileSync(join(dir, `${batch.id}_error.jsonl`), "utf8"), "");
      const table = await run("list", "--limit", "2", "-o", "table");
      assert.match(table.stdout, new RegExp(`${batch.id}\\s+completed`));
      const again = await run("download", "--id", batch.id, "--dir", dir);
      assert.match(again.stdout, /_output\.jsonl/);
      // A bad file: the upload's problems are printed with their line numbers, exit status 1.
      writeFileSync(input, jsonl([chatLine("x"), "{nope"]));
      await assert.rejects(run("create", "--input-file", input), (e: { code?: number; stderr?: string }) => e.code === 1 && /Line 2: not valid JSON/.test(e.stderr ?? ""));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a restart mid-batch resumes: lines finished before the stop are kept and not run again", async () => {
    const client = server.v1();
    const n = 24;
    const lines = Array.from({ length: n }, (_, i) => chatLine(`r-${i}`, "tiny-batch", { max_tokens: 120, logit_bias: NO_EOS }));
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), "restart.jsonl"), purpose: "batch" });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await until("a few lines finished", async () => ((await client.batches.retrieve(batch.id)).request_counts?.completed ?? 0) >= 2, 120_000);
    await server.ingot.close();
    // What finished before the stop, as stored.
    const db = new DatabaseSync(join(dataDir, "ingot.db"));
    const before = db.prepare("SELECT custom_id, result FROM batch_lines WHERE batch_id = ? AND status = 'succeeded'").all(batch.id) as { custom_id: string; result: string }[];
    const status = (db.prepare("SELECT status FROM batches WHERE id = ?").get(batch.id) as { status: string }).status;
    db.close();
    assert.ok(before.length >= 2 && before.length < n, `${before.length} of ${n} finished before the stop`);
    assert.equal(status, "in_progress");

    server = await startServer({ dataDir, extraDeployments: deployments });
    const client2 = server.v1();
    const done = await until("completed after the restart", async () => {
      const b = await client2.batches.retrieve(batch.id);
      return b.status === "completed" && b;
    }, 180_000);
    assert.deepEqual(done.request_counts, { total: n, completed: n, failed: 0 });
    const out = parseLines(await (await client2.files.content(done.output_file_id!)).text());
    assert.equal(out.length, n);
    assert.equal(new Set(out.map((o) => o.custom_id)).size, n, "every line answered once");
    const byId = new Map(out.map((o) => [o.custom_id, JSON.stringify(o)]));
    for (const b of before) assert.equal(byId.get(b.custom_id), b.result, `${b.custom_id} kept as it was answered before the stop`);
  });
});
