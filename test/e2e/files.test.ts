// Files API through the official openai SDK: AzureOpenAI on the dated API and OpenAI on
// /openai/v1 — upload, list, retrieve, content, delete, waitForProcessing, validation errors,
// the size cap (with nothing left on disk) and account isolation.
import assert from "node:assert/strict";
import { createReadStream, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import OpenAI, { toFile } from "openai";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const MAX = 64 * 1024;
let server: TestServer;
let scratch: string;

before(async () => {
  server = await startServer({ maxFileBytes: MAX });
  scratch = mkdtempSync(join(tmpdir(), "ingot-files-"));
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const chat = (i: number) =>
  JSON.stringify({ messages: [{ role: "system", content: "Answer in one word." }, { role: "user", content: `Capital number ${i}?` }, { role: "assistant", content: `City${i}` }] });
const pc = (i: number) => JSON.stringify({ prompt: `Say ${i}:`, completion: ` ${i}` });
const jsonl = (n: number, make = chat) => Array.from({ length: n }, (_, i) => make(i + 1)).join("\n") + "\n";
const withLine = (n: number, line: number, bad: string) => {
  const lines = jsonl(n).trimEnd().split("\n");
  lines[line - 1] = bad;
  return lines.join("\n") + "\n";
};

test("AzureOpenAI: upload answers 201 + Location, then retrieve, list, content, waitForProcessing and delete", async () => {
  const client = server.azure({ apiVersion: "2025-04-01-preview" });
  const text = jsonl(10);
  const { data: file, response } = await client.files.create({ file: await toFile(Buffer.from(text), "train.jsonl"), purpose: "fine-tune" }).withResponse();
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("location"), `${server.url}/openai/files/${file.id}?api-version=2025-04-01-preview`);
  assert.match(file.id, /^file-[0-9a-f]{32}$/);
  assert.deepEqual(
    { object: file.object, bytes: file.bytes, filename: file.filename, purpose: file.purpose, status: file.status, status_details: file.status_details },
    { object: "file", bytes: Buffer.byteLength(text), filename: "train.jsonl", purpose: "fine-tune", status: "processed", status_details: null },
  );
  assert.ok(Math.abs(file.created_at - Date.now() / 1000) < 60);

  assert.equal((await client.files.waitForProcessing(file.id, { pollInterval: 50 })).status, "processed");
  assert.deepEqual(await client.files.retrieve(file.id), file);
  const listed = [];
  for await (const f of client.files.list({ purpose: "fine-tune" })) listed.push(f.id);
  assert.ok(listed.includes(file.id));

  const content = await client.files.content(file.id);
  assert.equal(content.headers.get("content-type"), "application/octet-stream");
  assert.equal(await content.text(), text);

  assert.deepEqual(await client.files.delete(file.id), { object: "file", id: file.id, deleted: true });
  await assert.rejects(client.files.retrieve(file.id), (e: InstanceType<typeof OpenAI.NotFoundError>) => {
    assert.equal(e.status, 404);
    assert.equal(e.code, "notFound");
    return true;
  });
  await assert.rejects(client.files.content(file.id), { status: 404 });
});

test("OpenAI v1: a prompt/completion file streamed from disk is processed (200), paged list, project endpoint", async () => {
  const client = server.v1();
  const path = join(scratch, "pc.jsonl");
  writeFileSync(path, jsonl(11, pc));
  const { data: file, response } = await client.files.create({ file: createReadStream(path), purpose: "fine-tune" }).withResponse();
  assert.equal(response.status, 200);
  assert.deepEqual([file.status, file.filename], ["processed", "pc.jsonl"]);
  const record = server.ingot.files.get("ingot", file.id)!;
  assert.deepEqual([record.format, record.examples], ["prompt_completion", 11]);

  const second = await client.files.create({ file: await toFile(Buffer.from(jsonl(10)), "chat.jsonl"), purpose: "fine-tune" });
  const page = await client.files.list({ limit: 1 });
  assert.deepEqual([page.data.map((f) => f.id), page.has_more], [[second.id], true]);
  const all = [];
  for await (const f of client.files.list({ limit: 1 })) all.push(f.id);
  assert.deepEqual(all.slice(0, 2), [second.id, file.id]);

  const project = server.project("demo");
  assert.equal((await project.files.retrieve(file.id)).id, file.id);
  assert.equal(await (await project.files.content(file.id)).text(), jsonl(11, pc));
});

const malformed: [string, string, string][] = [
  ["bad JSON at line 3", withLine(12, 3, '{"messages": [{"role": "user", "content": "hi"}'), "line 3: invalid JSON ("],
  ["missing assistant turn", withLine(12, 5, JSON.stringify({ messages: [{ role: "user", content: "hi" }] })), "line 5: no assistant message; each example needs at least one assistant message to learn from"],
  [
    "unknown role",
    withLine(12, 7, JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "bot", content: "yo" }] })),
    "line 7: unknown role 'bot' in messages[1]; use system, user, assistant or tool",
  ],
  ["9 examples", jsonl(9), "9 examples: a training file needs at least 10"],
  ["weight 2", withLine(10, 2, JSON.stringify({ messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a", weight: 2 }] })), "line 2: messages[1].weight is 2; use 0"],
  ["mixed formats", withLine(10, 4, pc(1)), "line 4: a prompt/completion example in a file whose line 1 is a chat example; use one format per file"],
];

for (const [name, text, expected] of malformed) {
  test(`malformed: ${name} → status error with its own precise details`, async () => {
    const client = server.v1();
    const file = await client.files.create({ file: await toFile(Buffer.from(text), `${name}.jsonl`), purpose: "fine-tune" });
    const done = await client.files.waitForProcessing(file.id, { pollInterval: 50 });
    assert.equal(done.status, "error");
    assert.ok(done.status_details?.startsWith(expected), `${done.status_details} should start with ${expected}`);
    assert.equal(done.status_details?.split("\n").length, 1, "only the one problem");
  });
}

test("malformed: invalid UTF-8 names the line and byte offset", async () => {
  const head = Buffer.from(jsonl(3));
  const prefix = Buffer.from('{"messages": [{"role": "user", "content": "caf');
  const bad = Buffer.concat([prefix, Buffer.from([0xe9]), Buffer.from('"}, {"role": "assistant", "content": "x"}]}\n')]);
  const file = await server.azure().files.create({ file: await toFile(Buffer.concat([head, bad, Buffer.from(jsonl(8))]), "latin1.jsonl"), purpose: "fine-tune" });
  assert.equal(file.status, "error");
  assert.equal(file.status_details, `line 4: invalid UTF-8 at byte offset ${head.length + prefix.length} of the file (byte ${prefix.length + 1} of the line, 0xE9); save the file as UTF-8`);
});

test("many problems: the first 10 with line numbers, then a count", async () => {
  const lines = jsonl(30).trimEnd().split("\n").map((l, i) => (i % 2 ? "not json" : l));
  const file = await server.v1().files.create({ file: await toFile(Buffer.from(lines.join("\n")), "many.jsonl"), purpose: "fine-tune" });
  const details = file.status_details!.split("\n");
  assert.equal(details.length, 11);
  assert.match(details[0], /^line 2: invalid JSON/);
  assert.match(details[9], /^line 20: invalid JSON/);
  assert.equal(details[10], "and 5 more problems");
});

test("a UTF-8 BOM and CRLF line ends are fine; assistants files are not validated as datasets", async () => {
  const client = server.v1();
  const bom = await client.files.create({ file: await toFile(Buffer.from("\uFEFF" + jsonl(10).replaceAll("\n", "\r\n")), "bom.jsonl"), purpose: "fine-tune" });
  assert.equal(bom.status, "processed");
  // Assistants files are not datasets: any content is kept as sent (batch files are validated; see batch.test.ts).
  const other = await client.files.create({ file: await toFile(Buffer.from("anything"), "notes.txt"), purpose: "assistants" });
  assert.deepEqual([other.status, other.purpose], ["processed", "assistants"]);
});

test("an upload past the cap is refused with 413 and leaves nothing on disk", async () => {
  const client = server.v1();
  const before = (await client.files.list()).data.length;
  const big = Buffer.from(jsonl(2000));
  assert.ok(big.length > MAX);
  await assert.rejects(client.files.create({ file: await toFile(big, "big.jsonl"), purpose: "fine-tune" }), (e: InstanceType<typeof OpenAI.APIError>) => {
    assert.equal(e.status, 413);
    assert.match(e.message, /The file is larger than 65536 bytes, the most one file may hold\. Split the dataset/);
    return true;
  });
  assert.equal((await client.files.list()).data.length, before);
  const blobs = join(server.dataDir, "blobs", "files");
  assert.deepEqual(readdirSync(join(blobs, ".tmp")), []);
  const ids = new Set((await client.files.list()).data.map((f) => f.id));
  assert.deepEqual(readdirSync(blobs).filter((n) => n !== ".tmp" && !ids.has(n)), [], "no content without a file");
  // The server still answers on a fresh request.
  assert.equal((await client.files.list()).data.length, before);
});

test("request errors say what to send", async () => {
  const form = (fields: Record<string, string>, file?: string) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    if (file !== undefined) f.append("file", new Blob([file]), "t.jsonl");
    return f;
  };
  const post = (path: string, body: FormData | string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { "api-key": API_KEY, ...headers }, body });
  let r = await post("/openai/v1/files", form({ purpose: "fine-tune" }));
  assert.equal(r.status, 400);
  assert.match((await json(r)).error.message, /Missing required parameter: 'file'/);
  r = await post("/openai/v1/files", form({}, jsonl(10)));
  assert.match((await json(r)).error.message, /Missing required parameter: 'purpose'\. Use one of: fine-tune, assistants, batch/);
  r = await post("/openai/v1/files", form({ purpose: "vision" }, "x"));
  assert.equal((await json(r)).error.param, "purpose");
  r = await post("/openai/v1/files", '{"purpose":"fine-tune"}', { "content-type": "application/json" });
  assert.equal(r.status, 400);
  assert.match((await json(r)).error.message, /^Upload the file as multipart\/form-data with a 'file' part and a 'purpose' field/);
  r = await post("/openai/files", form({ purpose: "fine-tune" }, jsonl(10)));
  assert.equal(r.status, 400);
  assert.equal((await json(r)).error.code, "MissingApiVersionParameter");
  const files = await fetch(`${server.url}/openai/files?api-version=2024-10-21`, { headers: { "api-key": "wrong" } });
  assert.equal(files.status, 401);
});

test("another account's key sees none of this account's files", async () => {
  const mine = await server.v1().files.create({ file: await toFile(Buffer.from(jsonl(10)), "mine.jsonl"), purpose: "fine-tune" });
  server.ingot.accounts.createOrUpdate("00000000-0000-0000-0000-000000000000", "ingot", "other", { location: "local" });
  const other = new OpenAI({ baseURL: `${server.url}/openai/v1`, apiKey: server.ingot.accounts.listKeys("other").key1, maxRetries: 0 });
  await assert.rejects(other.files.retrieve(mine.id), { status: 404 });
  await assert.rejects(other.files.content(mine.id), { status: 404 });
  await assert.rejects(other.files.delete(mine.id), { status: 404 });
  assert.equal((await other.files.list()).data.length, 0);
  const theirs = await other.files.create({ file: await toFile(Buffer.from(jsonl(10)), "theirs.jsonl"), purpose: "fine-tune" });
  assert.equal((await other.files.list()).data.length, 1);
  await assert.rejects(server.v1().files.retrieve(theirs.id), { status: 404 });
  assert.equal((await server.v1().files.retrieve(mine.id)).id, mine.id);
});
