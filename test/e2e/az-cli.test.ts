// Debian's azure-cli (2.45) against Ingot, unchanged, over TLS, as an Azure Stack Hub user
// points it at a private cloud: `az cloud register --endpoint-resource-manager` reads ARM's
// /metadata/endpoints, `az login --service-principal` signs in at the ADFS-style authority
// ({base}/adfs, so MSAL skips instance discovery on the internet), lists the subscriptions,
// then drives accounts, keys and deployments (2.45 sends properties.scaleSettings).
// az trusts the test certificate through REQUESTS_CA_BUNDLE and keeps its state in a temp
// AZURE_CONFIG_DIR, so nothing of the user's own ~/.azure is read or written.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const SUB = "00000000-0000-0000-0000-000000000000";
const CA_BUNDLE = fileURLToPath(new URL("../fixtures/tls/cert.pem", import.meta.url));
const AZ = process.env.AZ_BIN ?? "az";

const azVersion = spawnSync(AZ, ["--version"], { encoding: "utf8", env: { ...process.env, AZURE_CORE_COLLECT_TELEMETRY: "false" } });
const azMissing = azVersion.error !== undefined || azVersion.status !== 0;
if (azMissing && process.env.CI)
  throw new Error(`The az CLI ('${AZ}') is not installed: install Debian's azure-cli (apt-get install azure-cli, as .ci/run does) to run test/e2e/az-cli.test.ts.`);
const skip = azMissing ? "the az CLI is not installed (apt-get install azure-cli); CI fails here instead of skipping" : false;

let server: TestServer;
let base: string;
const configDirs: string[] = [];

interface AzResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** One az command, asynchronously (it calls this process's server), with its own config directory. */
function az(configDir: string, ...args: string[]): Promise<AzResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(AZ, [...args, "--only-show-errors"], {
      env: {
        ...process.env,
        AZURE_CONFIG_DIR: configDir,
        REQUESTS_CA_BUNDLE: CA_BUNDLE,
        AZURE_CORE_COLLECT_TELEMETRY: "false",
        AZURE_CORE_NO_COLOR: "true",
        // A proxy from the environment would take az's calls to 127.0.0.1 elsewhere.
        NO_PROXY: "127.0.0.1,localhost",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** An az command that must succeed; its JSON output. */
async function azJson(configDir: string, ...args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await az(configDir, ...args, "--output", "json");
  assert.equal(r.status, 0, `az ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
}

/** A config directory with the Ingot cloud registered and active, as a user sets it up once. */
async function registeredConfig(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "ingot-az-"));
  configDirs.push(dir);
  await azJson(dir, "cloud", "register", "--name", "Ingot", "--endpoint-resource-manager", `${base}/`);
  await azJson(dir, "cloud", "set", "--name", "Ingot");
  return dir;
}

// `-p=<secret>`: a generated secret may start with '-', which az's argument parser would take for an option.
const spArgs = (sp: { appId: string; password: string; tenant: string }) => ["login", "--service-principal", "-u", sp.appId, `-p=${sp.password}`, "--tenant", sp.tenant];

before(async () => {
  if (skip) return;
  server = await startServer({ https: true });
  base = server.url;
});
after(async () => {
  await server?.stop();
  for (const d of configDirs) rmSync(d, { recursive: true, force: true });
});

let admin: string;
const contributor = () => server.ingot.identity.createServicePrincipal({ displayName: "az-contributor", role: "Contributor", scope: `/subscriptions/${SUB}` });

test("ARM's cloud metadata names Ingot's ADFS-style login endpoint, and az cloud register reads it", { skip, timeout: 120_000 }, async () => {
  // The 2015-01-01 object az reads, also when asked with the double slash a trailing '/' gives.
  for (const path of ["/metadata/endpoints", "//metadata/endpoints"]) {
    const res = await fetch(`${base}${path}?api-version=2015-01-01`);
    assert.equal(res.status, 200);
    const m = await json(res);
    assert.equal(m.authentication.loginEndpoint, `${base}/adfs`);
    assert.equal(m.authentication.audiences[0], `${base}/`);
  }
  const list = await json(await fetch(`${base}/metadata/endpoints?api-version=2022-09-01`));
  assert.equal(list[0].resourceManager, `${base}/`);
  assert.equal((await fetch(`${base}/metadata/endpoints`)).status, 400);
  const openid = await json(await fetch(`${base}/adfs/.well-known/openid-configuration`));
  assert.equal(openid.token_endpoint, `${base}/adfs/oauth2/token`);
  assert.equal(openid.issuer, `${base}/adfs`);

  admin = await registeredConfig();
  const cloud = await azJson(admin, "cloud", "show", "--name", "Ingot");
  assert.equal(cloud.isActive, true);
  assert.equal(cloud.endpoints.resourceManager, `${base}/`);
  assert.equal(cloud.endpoints.activeDirectory, `${base}/adfs`);
  assert.equal(cloud.endpoints.activeDirectoryResourceId, `${base}/`);
});

test("az login --service-principal signs in at Ingot's authority and lists the subscription", { skip, timeout: 120_000 }, async () => {
  const sp = contributor();
  const wrong = await az(admin, ...spArgs({ ...sp, password: "-not-the-secret" }));
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /AADSTS7000215/, wrong.stderr);

  const accounts = await azJson(admin, ...spArgs(sp));
  assert.equal(accounts.length, 1);
  assert.equal(accounts[0].id, SUB);
  assert.equal(accounts[0].tenantId, sp.tenant);
  assert.equal(accounts[0].cloudName, "Ingot");
  assert.equal(accounts[0].isDefault, true);
  assert.deepEqual(accounts[0].user, { name: sp.appId, type: "servicePrincipal" });
  const shown = await azJson(admin, "account", "show");
  assert.equal(shown.id, SUB);
  assert.equal(shown.state, "Enabled");
});

test("az cognitiveservices account list, show and keys list", { skip, timeout: 120_000 }, async () => {
  const accounts = await azJson(admin, "cognitiveservices", "account", "list");
  assert.ok(accounts.some((a: { name: string }) => a.name === "ingot"), JSON.stringify(accounts.map((a: { name: string }) => a.name)));
  const shown = await azJson(admin, "cognitiveservices", "account", "show", "--name", "ingot", "--resource-group", "ingot");
  assert.equal(shown.id, `/subscriptions/${SUB}/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot`);
  assert.equal(shown.properties.provisioningState, "Succeeded");
  const keys = await azJson(admin, "cognitiveservices", "account", "keys", "list", "--name", "ingot", "--resource-group", "ingot");
  assert.match(keys.key1, /^[0-9a-f]{32}$/);
  assert.match(keys.key2, /^[0-9a-f]{32}$/);
  // The key az printed is the account's data-plane key.
  const models = await new OpenAI({ baseURL: `${base}/openai/v1`, apiKey: keys.key2, maxRetries: 0 }).models.list();
  assert.ok(models.data.length > 0);
});

test("az cognitiveservices account deployment create (scaleSettings), show, list, chat, delete", { skip, timeout: 240_000 }, async () => {
  const common = ["--name", "ingot", "--resource-group", "ingot"];
  // 2.45's create does not wait for the asynchronous operation (polling=False): it prints the PUT's reply.
  const created = await azJson(admin, "cognitiveservices", "account", "deployment", "create", ...common, "--deployment-name", "az-chat",
    "--model-name", "tiny-chat", "--model-version", "1", "--model-format", "Ingot", "--scale-settings-scale-type", "Standard", "--scale-settings-capacity", "7");
  assert.equal(created.name, "az-chat");
  assert.equal(created.properties.provisioningState, "Accepted");
  assert.equal(created.sku.capacity, 7);
  assert.equal(created.properties.scaleSettings.capacity, 7);
  assert.equal(created.properties.scaleSettings.scaleType, "Standard");

  // ... so a user (and this test) watches it with show until it has succeeded.
  let shown = created;
  for (const deadline = Date.now() + 120_000; shown.properties.provisioningState !== "Succeeded"; ) {
    assert.ok(Date.now() < deadline, `az-chat still ${shown.properties.provisioningState} after 120 s`);
    assert.ok(["Accepted", "Creating"].includes(shown.properties.provisioningState), JSON.stringify(shown.properties));
    shown = await azJson(admin, "cognitiveservices", "account", "deployment", "show", ...common, "--deployment-name", "az-chat");
  }
  assert.equal(shown.properties.model.name, "tiny-chat");
  assert.equal(shown.properties.scaleSettings.capacity, 7);
  const listed = await azJson(admin, "cognitiveservices", "account", "deployment", "list", ...common);
  assert.ok(listed.some((d: { name: string }) => d.name === "az-chat"));

  const keys = await azJson(admin, "cognitiveservices", "account", "keys", "list", ...common);
  const reply = await new OpenAI({ baseURL: `${base}/openai/v1`, apiKey: keys.key1, maxRetries: 0 }).chat.completions.create({ model: "az-chat", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });
  assert.ok(reply.choices[0].message.content !== undefined);

  const unknown = await az(admin, "cognitiveservices", "account", "deployment", "create", ...common, "--deployment-name", "az-bad",
    "--model-name", "no-such-model", "--model-version", "1", "--model-format", "OpenAI", "--scale-settings-scale-type", "Standard", "--scale-settings-capacity", "1");
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /DeploymentModelNotSupported/);

  // delete does wait for its operation.
  await azJson(admin, "cognitiveservices", "account", "deployment", "delete", ...common, "--deployment-name", "az-chat");
  const gone = await az(admin, "cognitiveservices", "account", "deployment", "show", ...common, "--deployment-name", "az-chat");
  assert.notEqual(gone.status, 0);
  assert.match(gone.stderr, /\(NotFound\)/);
});

test("a Reader service principal signed in with az reads but cannot deploy", { skip, timeout: 120_000 }, async () => {
  const reader = server.ingot.identity.createServicePrincipal({ displayName: "az-reader", role: "Reader", scope: `/subscriptions/${SUB}` });
  const dir = await registeredConfig();
  await azJson(dir, ...spArgs(reader));
  const denied = await az(dir, "cognitiveservices", "account", "deployment", "create", "--name", "ingot", "--resource-group", "ingot", "--deployment-name", "az-denied",
    "--model-name", "tiny-chat", "--model-version", "1", "--model-format", "Ingot", "--scale-settings-scale-type", "Standard", "--scale-settings-capacity", "1");
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /AuthorizationFailed/);
  assert.match(denied.stderr, new RegExp(reader.objectId));
});
