// `ingot models` through the real binary against a running server (its Ingot.Catalog
// routes): register a local GGUF (copied or linked), list and show the catalog with cache
// state, pull weights from a local mirror (the server's modelsBaseUrl; progress on stderr,
// sha256 recorded on first use), the server's rules (no removal while deployed), and usage
// errors with exit code 2.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { buildModel } from "../../src/models/builtin/builder.ts";
import { Mirror } from "../unit/download-mirror.ts";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "ingot-models-cli-"));
const dataDir = join(root, "data");
const chatFile = join(root, "my-tiny.gguf");
const embedFile = join(root, "my-embed.gguf");
let mirror: Mirror;
let server: TestServer;
let chatSha = "";

before(async () => {
  chatSha = (await buildModel({ shape: "tiny", seed: 21, type: "f32", out: chatFile })).sha256;
  await buildModel({ shape: "tiny-embed", seed: 22, type: "f32", out: embedFile });
  mirror = await Mirror.start();
  server = await startServer({ dataDir, modelsBaseUrl: mirror.url });
});
after(async () => {
  await server?.stop();
  await mirror?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Asynchronous on purpose: the server and the mirror answer from this process's event loop.
function ingot(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "models", ...args], { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const json = (r: Run) => {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test("--help everywhere, and usage errors exit 2 with what to fix", async () => {
  for (const sub of [[], ["list"], ["show"], ["add"], ["pull"], ["remove"]]) {
    const r = await ingot([...sub, "--help"]);
    assert.equal(r.code, 0, `${sub.join(" ")} --help`);
    assert.match(r.stdout, /Usage: ingot models/);
  }
  assert.match((await ingot(["add", "--help"])).stdout, /COPIED into the data dir's models\/.*--link/s);

  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["add", "--data-dir", dataDir], /FILE\.gguf is required/],
    [["add", chatFile, "--format", "Custom", "--data-dir", dataDir], /--name is required/],
    [["add", chatFile, "--name", "x", "--data-dir", dataDir], /--format is required/],
    [["add", join(root, "nope.gguf"), "--name", "x", "--format", "Custom", "--data-dir", dataDir], /nope\.gguf does not exist/],
    [["add", chatFile, "--name", "x", "--format", "Custom", "--capabilities", "chat", "--data-dir", dataDir], /--capabilities: 'chat' is not a capability/],
    [["add", chatFile, "--name", "x", "--format", "Custom", "--context-length", "99999", "--data-dir", dataDir], /exceeds the 2048 tokens this model was trained for/],
    [["add", chatFile, "--name", "bad name", "--format", "Custom", "--data-dir", dataDir], /--name: 'bad name' is not valid/],
    [["list", "--output", "yaml", "--data-dir", dataDir], /--output must be table or json/],
    [["list", "--bogus"], /Unknown option '--bogus'/],
    [["show", "gpt-4.1-mimi", "--data-dir", dataDir], /Close matches: 'gpt-4.1-mini'/],
    [["pull", "Ministral-3B", "--format", "mistral", "--data-dir", dataDir], /Format strings are case-sensitive: use 'Mistral AI'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await ingot(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.match(r.stderr, /--help" for usage/);
  }
  const notGguf = join(root, "notes.txt");
  writeFileSync(notGguf, "hello, not a model");
  const r = await ingot(["add", notGguf, "--name", "x", "--format", "Custom", "--data-dir", dataDir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is not a usable GGUF model \(not a GGUF file \(bad magic\)\)/);
});

test("models add copies a local GGUF into the cache and registers it; --link references it in place", async () => {
  const added = await ingot(["add", chatFile, "--name", "my-tiny", "--format", "Custom", "--data-dir", dataDir]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /registered Custom\/my-tiny version 1/);
  assert.match(added.stdout, /architecture {2}llama/);
  assert.match(added.stdout, /capabilities {2}chatCompletion, completion/);
  assert.match(added.stdout, /\(copied\)/);
  const copied = join(dataDir, "models", `${chatSha}.gguf`);
  assert.ok(existsSync(copied));
  assert.ok(readFileSync(copied).equals(readFileSync(chatFile)));

  const linked = json(await ingot(["add", embedFile, "--name", "my-embed", "--format", "Custom", "--link", "--output", "json", "--data-dir", dataDir]));
  assert.deepEqual(linked.capabilities, ["embeddings"], "detected as an embeddings model");
  assert.equal(linked.weights, `file:${embedFile}`);
  assert.match(linked.sha256, /^[0-9a-f]{64}$/);
  assert.equal(linked.skus[0].usageName, "AIServices.GlobalStandard.my-embed");

  const again = await ingot(["add", chatFile, "--name", "my-tiny", "--format", "Custom", "--data-dir", dataDir]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /Custom\/my-tiny version 1 already exists \(registered; remove it first/);
  const shippedName = await ingot(["add", chatFile, "--name", "tiny-chat", "--format", "Ingot", "--data-dir", dataDir]);
  assert.equal(shippedName.code, 2);
  assert.match(shippedName.stderr, /already exists in the shipped catalog/);
});

test("models list and show report catalog and registered models with their cache state", async () => {
  const rows = json(await ingot(["list", "--output", "json", "--data-dir", dataDir])) as { format: string; name: string; registered: boolean; cache: { state: string }; isDefaultVersion: boolean }[];
  const byName = (n: string) => rows.find((r) => r.name === n)!;
  assert.equal(byName("my-tiny").registered, true);
  assert.equal(byName("my-tiny").cache.state, "cached");
  assert.equal(byName("tiny-chat").registered, false);
  assert.equal(byName("gpt-4.1-mini").cache.state, "upstream");
  assert.equal(byName("Qwen2.5-0.5B-Instruct").cache.state, "missing");
  assert.equal(byName("Ministral-3B").format, "Mistral AI");

  const table = await ingot(["list", "--data-dir", dataDir]);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^FORMAT\s+NAME\s+VERSION\s+CAPABILITIES\s+WEIGHTS\s+SIZE\s+SOURCE/);
  assert.match(table.stdout, /Custom\s+my-tiny\s+1\*\s+chatCompletion,completion\s+cached\s+[\d.]+ MB\s+registered/);
  assert.match(table.stdout, /OpenAI\s+gpt-4\.1-mini\s+2025-04-14\*.*upstream/);

  const shown = json(await ingot(["show", "gpt-4o", "--output", "json", "--data-dir", dataDir]));
  assert.equal(shown.version, "2024-11-20", "the default version");
  const older = await ingot(["show", "gpt-4o", "--version", "2024-08-06", "--data-dir", dataDir]);
  assert.match(older.stdout, /versions: 2024-05-13, 2024-08-06, 2024-11-20/);
  assert.match(older.stdout, /OpenAI\.GlobalStandard\.gpt-4o/);

  const removed = await ingot(["remove", "my-embed", "--format", "Custom", "--data-dir", dataDir]);
  assert.equal(removed.code, 0, removed.stderr);
  const cannot = await ingot(["remove", "tiny-chat", "--data-dir", dataDir]);
  assert.equal(cannot.code, 2);
  assert.match(cannot.stderr, /part of the shipped catalog/);
});

test("models remove goes through the server's rules: a deployed model is refused (409 ModelInUse) and kept", async () => {
  const deployment = `${server.url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot/deployments/my-tiny-dep?api-version=2024-10-01`;
  const headers = { authorization: `Bearer ${server.ingot.identity.adminToken()}`, "content-type": "application/json" };
  const put = await fetch(deployment, {
    method: "PUT",
    headers,
    body: JSON.stringify({ sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Custom", name: "my-tiny", version: "1" } } }),
  });
  assert.ok(put.status === 200 || put.status === 201, `deployment PUT: ${put.status} ${await put.text()}`);

  const refused = await ingot(["remove", "my-tiny", "--format", "Custom", "--data-dir", dataDir]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /\(ModelInUse\) Custom\/my-tiny version 1 cannot be removed while it is deployed \('my-tiny-dep' in account 'ingot'\)\. Delete the deployments first\./);
  const rows = json(await ingot(["list", "--output", "json", "--data-dir", dataDir])) as { name: string; registered: boolean }[];
  assert.ok(rows.some((r) => r.name === "my-tiny" && r.registered), "still registered");

  assert.equal((await fetch(deployment, { method: "DELETE", headers })).status < 300, true);
  const removed = await ingot(["remove", "my-tiny", "--format", "Custom", "--data-dir", dataDir]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /removed Custom\/my-tiny version 1/);
});

test("models pull downloads from a mirror (the server's modelsBaseUrl) with progress, and records the sha256 on first use", async () => {
  const served = readFileSync(chatFile);
  mirror.put("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "main", "smollm2-135m-instruct-q8_0.gguf", served);
  const pulled = await ingot(["pull", "SmolLM2-135M-Instruct", "--output", "json", "--data-dir", dataDir]);
  const record = json(pulled);
  assert.equal(record.sha256, chatSha);
  assert.equal(record.path, join(dataDir, "models", `${chatSha}.gguf`));
  assert.equal(record.sizeBytes, served.length);
  assert.match(pulled.stderr, /downloading\s+SmolLM2-135M-Instruct\s+[\d.]+%\s+[\d.]+\/[\d.]+ MB/);
  assert.match(pulled.stderr, /verifying/);
  assert.equal(mirror.requests.at(-1)!.path, "/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/resolve/main/smollm2-135m-instruct-q8_0.gguf");

  const shown = await ingot(["show", "SmolLM2-135M-Instruct", "--data-dir", dataDir]);
  assert.match(shown.stdout, new RegExp(`sha256 +${chatSha} \\(recorded at first download\\)`));
  assert.match(shown.stdout, /cache +cached/);

  // Pulling again is a no-op; a changed upstream file is refused until --repin.
  const requests = mirror.requests.length;
  assert.equal((await ingot(["pull", "SmolLM2-135M-Instruct", "--data-dir", dataDir])).code, 0);
  assert.equal(mirror.requests.length, requests);
  rmSync(record.path);
  mirror.put("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "main", "smollm2-135m-instruct-q8_0.gguf", readFileSync(embedFile));
  const changed = await ingot(["pull", "SmolLM2-135M-Instruct", "--data-dir", dataDir]);
  assert.equal(changed.code, 1);
  // The new file differs in size here, which is caught before its sha256 is even computed.
  assert.match(changed.stderr, new RegExp(`expected sha256 ${chatSha}, got [0-9a-f]{64}|are \\d+ bytes, but ${readFileSync(chatFile).length} were expected`));
  assert.match(changed.stderr, /trust on first use/);
  const repinned = await ingot(["pull", "SmolLM2-135M-Instruct", "--repin", "--data-dir", dataDir]);
  assert.equal(repinned.code, 0, repinned.stderr);
});

test("models pull refuses wrong bytes against a catalog sha256, a 404, and a model without open weights", async () => {
  mirror.put("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "9217f5db79a29953eb74d5343926648285ec7e67", "qwen2.5-0.5b-instruct-q8_0.gguf", readFileSync(chatFile));
  const wrong = await ingot(["pull", "Qwen2.5-0.5B-Instruct", "--data-dir", dataDir]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /are \d+ bytes, but 675710816 were expected/);
  assert.match(wrong.stderr, /the modelsBaseUrl option/);

  const missing = await ingot(["pull", "Llama-3.2-1B-Instruct", "--data-dir", dataDir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /answered HTTP 404/);
  assert.match(missing.stderr, /modelsBaseUrl option|Make sure the mirror serves/);

  const none = await ingot(["pull", "gpt-4.1-mini", "--data-dir", dataDir]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /gpt-4\.1-mini has no open weights; it can be deployed only when an upstream is configured for it\./);
});
