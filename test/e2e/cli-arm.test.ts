// `ingot deployment …` and `ingot keys …` through the real binary against a running server,
// with az's flag names, JSON and table output, progress on stderr and exit codes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
let server: TestServer;

before(async () => {
  server = await startServer();
});
after(() => server.stop());

/** Runs the CLI asynchronously (the server lives in this process, so a blocking spawn would deadlock it). */
function ingot(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, "--endpoint", server.url, "--data-dir", server.dataDir]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

test("deployment create waits with progress and prints the deployment as JSON", async () => {
  const r = await ingot("deployment", "create", "-n", "ingot", "-g", "ingot", "--deployment-name", "cli-chat", "--model-name", "tiny-chat", "--model-version", "1", "--model-format", "Ingot", "--sku-name", "GlobalStandard", "--sku-capacity", "3");
  assert.equal(r.status, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.name, "cli-chat");
  assert.equal(d.properties.provisioningState, "Succeeded");
  assert.equal(d.sku.capacity, 3);
  assert.match(r.stderr, /cli-chat: Succeeded/);
});

test("OpenAI-OSS, as az sends for open models, is accepted", async () => {
  const r = await ingot("deployment", "create", "--deployment-name", "cli-oss", "--model-name", "tiny-embed", "--model-format", "OpenAI-OSS", "--sku-capacity", "1", "--no-wait");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).properties.model.format, "Ingot");
});

test("list as a table, show, delete", async () => {
  const list = await ingot("deployment", "list", "--output", "table");
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split("\n");
  assert.match(lines[0], /^Name\s+Model\s+Sku\s+State$/);
  assert.ok(lines.some((l) => /^cli-chat\s+Ingot\/tiny-chat@1\s+GlobalStandard 3\s+Succeeded$/.test(l)), list.stdout);
  const show = await ingot("deployment", "show", "--deployment-name", "cli-chat");
  assert.equal(JSON.parse(show.stdout).name, "cli-chat");
  assert.equal((await ingot("deployment", "delete", "--deployment-name", "cli-chat")).status, 0);
  const gone = await ingot("deployment", "show", "--deployment-name", "cli-chat");
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /\(NotFound\)/);
});

test("errors say what to fix, with exit codes 1 (service) and 2 (usage)", async () => {
  const wrongFormat = await ingot("deployment", "create", "--deployment-name", "bad", "--model-name", "tiny-chat", "--model-format", "ingot");
  assert.equal(wrongFormat.status, 1);
  assert.match(wrongFormat.stderr, /DeploymentModelNotSupported.*'Ingot'/);
  const missing = await ingot("deployment", "create", "--model-name", "tiny-chat", "--model-format", "Ingot");
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--deployment-name is required/);
  const help = await ingot("deployment", "--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--sku-capacity/);
});

test("keys list and regenerate", async () => {
  const before = JSON.parse((await ingot("keys", "list")).stdout);
  assert.match(before.key1, /^[0-9a-f]{32}$/);
  const r = await ingot("keys", "regenerate", "--key-name", "Key2");
  assert.equal(r.status, 0, r.stderr);
  const after = JSON.parse(r.stdout);
  assert.equal(after.key1, before.key1);
  assert.notEqual(after.key2, before.key2);
});
