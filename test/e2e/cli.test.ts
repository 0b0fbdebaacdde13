// The real `ingot` binary: started the way README says (through the bin shim, which re-execs
// on the bundled Node 24 when launched by an older node), answering, and shutting down
// gracefully: SIGTERM lets an in-flight stream finish before the process exits.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { waitForOutput } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
const KEY = "fedcba9876543210fedcba9876543210";

/** The machine's own node (e.g. Node 20), not the project's Node 24, to exercise the shim. */
function systemNode(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (spawnSync(candidate, ["--version"]).status === 0) return candidate;
  }
  return process.execPath;
}

const dataDir = mkdtempSync(join(tmpdir(), "ingot-cli-"));
let child: ChildProcess | undefined;
after(() => {
  child?.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

test("--help and usage errors", () => {
  const help = spawnSync(systemNode(), [BIN, "up", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--data-dir/);
  const bad = spawnSync(systemNode(), [BIN, "frobnicate"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'frobnicate'/);
  assert.match(help.stdout, /--load-timeout-s/);
  const cwd = mkdtempSync(join(tmpdir(), "ingot-cli-cwd-"));
  const zero = spawnSync(systemNode(), [BIN, "up", "--load-timeout-s", "0"], { encoding: "utf8", cwd });
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /--load-timeout-s must be at least 1/);
  assert.equal(existsSync(join(cwd, ".ingot")), false, "a usage error creates no data dir");
  rmSync(cwd, { recursive: true, force: true });
});

test("ingot up serves, prints the generated key, and drains streams on SIGTERM", async () => {
  child = spawn(systemNode(), [BIN, "up", "--port", "0", "--data-dir", dataDir, "--threads", "1", "--log-level", "warn"], { stdio: ["ignore", "pipe", "pipe"] });
  const ready = waitForOutput(child.stderr!, /ready — try: curl (http:\/\/[\d.:]+)/, 60_000);
  const keyLine = await waitForOutput(child.stderr!, /generated key1 for account 'ingot': ([0-9a-f]{32})/, 60_000);
  const key = keyLine[1];
  const url = (await ready)[1];

  const chat = await fetch(`${url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "api-key": key },
    body: JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
  });
  assert.equal(chat.status, 200);
  assert.equal((await fetch(`${url}/openai/v1/models`, { headers: { "api-key": KEY } })).status, 401, "another key is refused");

  // The running server left its address and the local admin credential for the CLI: only --data-dir is needed.
  const credentialFile = join(dataDir, "local-admin.json");
  assert.equal(statSync(credentialFile).mode & 0o777, 0o600);
  const token = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [BIN, "token", "--data-dir", dataDir]);
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (status) => resolve({ status, stdout, stderr }));
  });
  assert.equal(token.status, 0, token.stderr);
  const accounts = await fetch(`${url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.CognitiveServices/accounts?api-version=2024-10-01`, {
    headers: { authorization: `Bearer ${token.stdout.trim()}` },
  });
  assert.equal(accounts.status, 200, "the server accepts the CLI's token");

  const stream = await fetch(`${url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "api-key": key },
    body: JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 400, stream: true, logit_bias: { "256": -100, "257": -100, "258": -100 }, seed: 1 }),
  });
  const reader = stream.body!.getReader();
  let text = new TextDecoder().decode((await reader.read()).value);
  const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  // The pre-trained tiny-chat may end its answer before max_tokens; either way the stream must finish normally.
  assert.match(text, /"finish_reason":"(length|stop)"/, `the in-flight stream ran to its end: ${text.slice(-400)}`);
  assert.match(text, /data: \[DONE\]/);
  assert.doesNotMatch(text, /"error"/);
  assert.match(text, /data: \[DONE\]\n\n$/);
  assert.equal(await exited, 0);
  assert.equal(existsSync(credentialFile), false, "the credential goes with the server");
});
