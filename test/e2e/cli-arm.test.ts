// `ingot deployment …` and `ingot keys …` through the real binary against a running server,
// with az's flag names, JSON and table output, progress on stderr and exit codes; how the CLI
// signs in (the credential file the server writes, the token endpoint) and what a wrong data
// dir or a stopped server does (an error, nothing created).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  return run(...args, "--endpoint", server.url, "--data-dir", server.dataDir);
}

/** The CLI with exactly these arguments and no INGOT_* settings from the environment. */
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of ["AZURE_OPENAI_API_KEY", "INGOT_API_KEY", "INGOT_ENDPOINT", "INGOT_TOKEN"]) delete env[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
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

test("the server writes the local admin credential 0600; ingot token gets a token from its token endpoint that the server accepts", async () => {
  const file = join(server.dataDir, "local-admin.json");
  assert.equal(statSync(file).mode & 0o777, 0o600, "only the owner may read the credential");
  const credential = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(credential.endpoint, server.url);
  assert.match(credential.clientId, /^[0-9a-f-]{36}$/);

  // Only --data-dir: the endpoint comes from the credential file.
  const r = await run("token", "--data-dir", server.dataDir);
  assert.equal(r.status, 0, r.stderr);
  const token = r.stdout.trim();
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  assert.equal(claims.appid, credential.clientId, "issued by the token endpoint to the credential's service principal");
  const accounts = await fetch(`${server.url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts?api-version=2024-10-01`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(accounts.status, 200, await accounts.clone().text());
  assert.ok(((await accounts.json()) as { value: { name: string }[] }).value.some((a: { name: string }) => a.name === "ingot"));
  const keys = await run("keys", "list", "--data-dir", server.dataDir);
  assert.equal(keys.status, 0, keys.stderr);
  assert.match(JSON.parse(keys.stdout).key1, /^[0-9a-f]{32}$/);
});

test("a wrong or empty data dir is an error (exit 1) that creates nothing; so is a server that is not running", async () => {
  const root = mkdtempSync(join(tmpdir(), "ingot-cli-nodata-"));
  try {
    const missing = join(root, "typo");
    for (const args of [["token"], ["keys", "list"], ["deployment", "list"], ["models", "list"], ["files", "list"], ["sp", "list"]]) {
      const r = await run(...args, "--data-dir", missing);
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /No Ingot data dir at|No Ingot data in/, args.join(" "));
      assert.match(r.stderr, /ingot up --data-dir/, args.join(" "));
      assert.equal(existsSync(missing), false, `${args.join(" ")} created ${missing}`);
    }
    const empty = join(root, "empty");
    mkdirSync(empty);
    for (const args of [["token"], ["models", "list"], ["sp", "list"]]) {
      const r = await run(...args, "--data-dir", empty);
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.deepEqual(readdirSync(empty), [], `${args.join(" ")} wrote into the data dir`);
    }
    assert.match((await run("token", "--data-dir", empty)).stderr, /No running Ingot on data dir .* 'ingot up --data-dir/);

    // A credential left by a server that is no longer running.
    const stale = join(root, "stale");
    mkdirSync(stale);
    writeFileSync(join(stale, "local-admin.json"), JSON.stringify({ endpoint: "http://127.0.0.1:9", tenant: "t", clientId: "c", clientSecret: "s", pid: 1 }), { mode: 0o600 });
    const down = await run("token", "--data-dir", stale);
    assert.equal(down.status, 1);
    assert.match(down.stderr, /Cannot reach Ingot at http:\/\/127\.0\.0\.1:9 .*is not running\. Start it with 'ingot up --data-dir/);
    assert.deepEqual(readdirSync(stale), ["local-admin.json"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("ingot sp goes through the server; its and the catalog's write routes need a role at '/'", async () => {
  const created = await run("sp", "create", "--name", "cli-sub-contributor", "--role", "Contributor", "--scopes", "/subscriptions/00000000-0000-0000-0000-000000000000", "--data-dir", server.dataDir);
  assert.equal(created.status, 0, created.stderr);
  const sp = JSON.parse(created.stdout) as { appId: string; password: string; tenant: string };
  const listed = await run("sp", "list", "--data-dir", server.dataDir);
  assert.equal(listed.status, 0, listed.stderr);
  const names = (JSON.parse(listed.stdout) as { displayName: string }[]).map((p) => p.displayName);
  assert.ok(names.includes("cli-sub-contributor") && names.includes("ingot-local-admin"), names.join(", "));

  // Contributor of a subscription, not of "/": refused on the Ingot.* routes.
  const issued = await fetch(`${server.url}/${sp.tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: sp.appId, client_secret: sp.password, scope: "https://management.azure.com/.default" }),
  });
  const { access_token } = (await issued.json()) as { access_token: string };
  const headers = { authorization: `Bearer ${access_token}`, "content-type": "application/json" };
  const put = await fetch(`${server.url}/providers/Ingot.Catalog/publishers/Custom/models/x/versions/1?api-version=2024-10-01`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ properties: { path: "/etc/hostname" } }),
  });
  assert.equal(put.status, 403);
  assert.equal(((await put.json()) as { error: { code: string } }).error.code, "AuthorizationFailed");
  const create = await fetch(`${server.url}/providers/Ingot.Identity/servicePrincipals?api-version=2024-10-01`, { method: "POST", headers, body: JSON.stringify({ role: "Owner", scope: "/" }) });
  assert.equal(create.status, 403, "no escalation to Owner of everything");

  const deleted = await run("sp", "delete", "--id", sp.appId, "--data-dir", server.dataDir);
  assert.equal(deleted.status, 0, deleted.stderr);
  const again = await run("sp", "delete", "--id", sp.appId, "--data-dir", server.dataDir);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /no service principal with appId or object id/);
});
