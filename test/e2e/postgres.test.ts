// Ingot on PostgreSQL (issue 16 item 1): a throwaway cluster (postgres-cluster.ts), then
//   - the ARM-plane, data-plane and fine-tuning e2e suites (arm-sdk, chat, fine-tuning) run
//     again with every server of theirs on a fresh PostgreSQL database (INGOT_TEST_DATABASE_URL);
//   - `ingot up --database` on a port nothing listens on: a clear message and exit, no hang;
//   - `ingot token --database` signs with the database's key: the token works on a server on it;
//   - the database stopped under a running Ingot: writes are 503 ServiceUnavailable with
//     retry-after in each surface's shape, reads it has seen are served (an ARM GET, a chat
//     completion with an api-key), and all comes back by itself once the database restarts.
// Without PostgreSQL binaries it fails when CI is set (the CI installs postgresql) and skips elsewhere.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { postgresBinDir, startPostgres } from "./postgres-cluster.ts";
import type { PostgresCluster } from "./postgres-cluster.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NODE = process.execPath;
const SUITES = ["test/e2e/arm-sdk.test.ts", "test/e2e/chat.test.ts", "test/e2e/fine-tuning.test.ts"];
const missing = postgresBinDir() === undefined;
if (missing && process.env.CI) throw new Error("PostgreSQL server binaries (initdb, pg_ctl) are missing: .ci/run installs Debian's postgresql; install it or set PG_BIN.");
const skip = missing ? "no PostgreSQL binaries here (apt-get install postgresql)" : false;

let cluster: PostgresCluster;
before(async () => {
  if (!missing) cluster = await startPostgres();
});
after(() => cluster?.close());

const SUB = "00000000-0000-0000-0000-000000000000";
const ARM = `/subscriptions/${SUB}/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts`;
const ARM_VERSION = "api-version=2024-10-01";

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("the ARM, data-plane and fine-tuning suites pass on PostgreSQL", { skip, timeout: 900_000 }, async () => {
  const started = Date.now();
  // NODE_TEST_CONTEXT would make the child report to this runner in its binary protocol instead of printing.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(NODE, ["--test", "--test-reporter=spec", "--test-concurrency=1", "--test-timeout=300000", ...SUITES], {
    cwd: ROOT,
    env: { ...env, INGOT_TEST_DATABASE_URL: cluster.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const summary = out.split("\n").filter((l) => /^ℹ (tests|pass|fail)/.test(l)).join(", ");
  assert.equal(code, 0, `the suites failed on PostgreSQL (${summary}):\n${out.split("\n").filter((l) => /✖|Error|not ok/.test(l)).slice(0, 40).join("\n")}`);
  assert.match(summary, /pass [1-9]/);
  process.stdout.write(`# suites on PostgreSQL: ${summary} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
});

test("ingot up --database to a server that does not answer: a clear message and exit", { skip, timeout: 60_000 }, async () => {
  const dead = `postgres://ingot@127.0.0.1:${cluster.port + 1}/nothing`;
  const started = Date.now();
  const dataDir = `${cluster.dir}-unused`;
  const r = spawnSync(NODE, ["bin/ingot.mjs", "up", "--port", "0", "--data-dir", dataDir, "--metrics-address", "off", "--database", dead], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 45_000,
  });
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(r.signal, null, "it hung");
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /Cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/nothing: .*ECONNREFUSED.*--database/);
  assert.ok(Date.now() - started < 30_000);
  const bad = spawnSync(NODE, ["bin/ingot.mjs", "up", "--database", "mysql://x"], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--database takes a postgres:\/\/ URL/);
});

test("the database stopped under a running Ingot: 503 with retry-after on writes, seen reads served, back by itself", { skip, timeout: 180_000 }, async () => {
  const databaseUrl = await cluster.createDatabase("fault");
  const server: TestServer = await startServer({ databaseUrl });
  try {
    // ingot token --database: the admin token from the database's signing key.
    const tok = spawnSync(NODE, ["bin/ingot.mjs", "token", "--database", databaseUrl], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    assert.equal(tok.status, 0, tok.stderr);
    const bearer = { authorization: `Bearer ${tok.stdout.trim()}`, "content-type": "application/json" };
    // Any ARM-calling command takes --database the same way (here: the keys of the default account).
    // (Not spawnSync: the server runs in this process and must answer meanwhile.)
    const keys = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(NODE, ["bin/ingot.mjs", "keys", "list", "--database", databaseUrl, "--endpoint", server.url, "-o", "json"], { cwd: ROOT, timeout: 30_000 });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (c: Buffer) => (stdout += c));
      p.stderr.on("data", (c: Buffer) => (stderr += c));
      p.on("exit", (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(keys.status, 0, keys.stderr);
    assert.equal(JSON.parse(keys.stdout).key1, API_KEY);
    const arm = (method: string, path: string, body?: unknown) => fetch(`${server.url}${ARM}${path}?${ARM_VERSION}`, { method, headers: bearer, body: body === undefined ? undefined : JSON.stringify(body) });
    const account = { location: "westeurope", kind: "AIServices", sku: { name: "S0" }, properties: {} };
    assert.equal((await arm("GET", "/ingot")).status, 200);
    assert.ok([200, 201].includes((await arm("PUT", "/before-outage", account)).status));
    const chat = () => server.azure({ deployment: "tiny-chat" }).chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
    assert.ok((await chat()).choices.length);
    const timespan = `${new Date(Date.now() - 86_400_000).toISOString()}/${new Date(Date.now() + 86_400_000).toISOString()}`;
    const promptTokens = async () => {
      const r = await fetch(`${server.url}${ARM}/ingot/providers/Microsoft.Insights/metrics?api-version=2023-10-01&metricnames=ProcessedPromptTokens&aggregation=Total&interval=P1D&timespan=${timespan}`, { headers: bearer });
      assert.equal(r.status, 200);
      const body = await json(r);
      return (body.value[0].timeseries as { data: { total?: number }[] }[]).flatMap((t) => t.data).reduce((sum, d) => sum + (d.total ?? 0), 0);
    };
    const admin = { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` };
    assert.equal((await json(await fetch(`${server.url}/readyz`, { headers: admin }))).database.state, "up");
    const t1 = await promptTokens();
    assert.ok(t1 > 0);

    cluster.stop();

    // Writes: Azure's 503 in the ARM shape, with retry-after.
    const put = await arm("PUT", "/during-outage", account);
    assert.equal(put.status, 503);
    assert.ok(Number(put.headers.get("retry-after")) >= 1);
    const armBody = await json(put);
    assert.equal(armBody.error.code, "ServiceUnavailable");
    assert.match(armBody.error.message, /database cannot be reached/);
    assert.equal(armBody.error.type, undefined, "ARM's shape, not OpenAI's");
    // ... and in the OpenAI shape on the data plane (a file upload writes its metadata row).
    const form = new FormData();
    form.append("purpose", "fine-tune");
    form.append("file", new Blob(['{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}\n']), "t.jsonl");
    const upload = await fetch(`${server.url}/openai/files?api-version=2024-10-21`, { method: "POST", headers: { "api-key": API_KEY }, body: form });
    assert.equal(upload.status, 503);
    assert.ok(Number(upload.headers.get("retry-after")) >= 1);
    const dataBody = await json(upload);
    assert.equal(dataBody.error.code, "ServiceUnavailable");
    assert.equal(dataBody.error.type, "server_error");

    // Reads this replica has seen are served from its last results; inference goes on.
    assert.equal((await arm("GET", "/ingot")).status, 200);
    const p2 = (await chat()).usage?.prompt_tokens ?? 0;
    assert.ok(p2 > 0);
    // The server is still alive and answers; /readyz stays ready and says the database is away.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const ready = await fetch(`${server.url}/readyz`, { headers: admin });
    assert.equal(ready.status, 200);
    const readyBody = await json(ready);
    assert.equal(readyBody.database.state, "down");
    assert.equal(readyBody.database.engine, "postgresql");
    assert.match(readyBody.database.error, /ECONNREFUSED|terminat/);

    cluster.start();
    const back = await until("writes to work again", async () => {
      const r = await arm("PUT", "/after-outage", account);
      return r.status === 503 ? undefined : r.status;
    });
    assert.ok([200, 201].includes(back));
    assert.equal((await arm("GET", "/after-outage")).status, 200);
    assert.equal((await json(await fetch(`${server.url}/readyz`, { headers: admin }))).database.state, "up");
    assert.equal((await arm("GET", "/during-outage")).status, 404, "the write refused during the outage did not happen");
    // Usage counted while the database was away was kept and written with the next one.
    const p3 = (await chat()).usage?.prompt_tokens ?? 0;
    assert.equal(await promptTokens(), t1 + p2 + p3);
  } finally {
    await server.stop();
  }
});
