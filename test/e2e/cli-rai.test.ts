// `ingot rai policy|blocklist …` and `ingot deployment create --rai-policy` through the real
// binary against a running server: blocklists and items (single, regex, batch from a file,
// batch delete), a custom policy from flags and from a file, update, the deployment's
// raiPolicyName, help, and the usage errors (exit 2) and ARM errors (exit 1) the user sees.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
let server: TestServer;
const dir = mkdtempSync(join(tmpdir(), "ingot-cli-rai-"));

before(async () => {
  server = await startServer();
});
after(() => server.stop());

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
const ingot = (...args: string[]) => run(...args, "--endpoint", server.url, "--data-dir", server.dataDir);

test("help: ingot --help lists rai; every subcommand has help", async () => {
  const top = await run("--help");
  assert.match(top.stdout, /^\s+rai\s+content filtering/m);
  for (const args of [["rai", "--help"], ["rai", "policy", "--help"], ["rai", "policy", "create", "--help"], ["rai", "blocklist", "--help"], ["rai", "blocklist", "item", "add", "--help"]]) {
    const r = await run(...args);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: ingot rai/);
  }
  const dep = await run("deployment", "--help");
  assert.match(dep.stdout, /--rai-policy NAME/);
});

test("blocklists and items: create, add plain/regex/batch, list, show, batch delete", async () => {
  let r = await ingot("rai", "blocklist", "create", "--blocklist-name", "competitors", "--description", "rival brands");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).properties.description, "rival brands");
  r = await ingot("rai", "blocklist", "item", "add", "--blocklist-name", "competitors", "--pattern", "acme corp");
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).properties, { pattern: "acme corp", isRegex: false });
  assert.equal(JSON.parse(r.stdout).name, "acme-corp");
  r = await ingot("rai", "blocklist", "item", "add", "--blocklist-name", "competitors", "--pattern", "globex[0-9]+", "--regex", "--item-name", "globex");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).properties.isRegex, true);
  const file = join(dir, "items.txt");
  writeFileSync(file, "initech\n\numbrella corp\nacme corp\n");
  r = await ingot("rai", "blocklist", "item", "add", "--blocklist-name", "competitors", "--file", file);
  assert.equal(r.status, 0, r.stderr);
  const names = (JSON.parse(r.stdout) as any[]).map((i) => i.name).sort();
  assert.deepEqual(names, ["acme-corp", "acme-corp-2", "globex", "initech", "umbrella-corp"]);
  r = await ingot("rai", "blocklist", "item", "list", "--blocklist-name", "competitors", "-o", "table");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Name\s+Pattern\s+Regex/);
  assert.match(r.stdout, /globex\s+globex\[0-9\]\+\s+true/);
  r = await ingot("rai", "blocklist", "item", "delete", "--blocklist-name", "competitors", "--item-name", "acme-corp-2", "--item-name", "initech");
  assert.equal(r.status, 0, r.stderr);
  r = await ingot("rai", "blocklist", "show", "--blocklist-name", "competitors");
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout).items as any[]).map((i) => i.name).sort(), ["acme-corp", "globex", "umbrella-corp"]);
  r = await ingot("rai", "blocklist", "list", "-o", "tsv");
  assert.match(r.stdout, /^competitors\trival brands$/m);
  // A regex the server refuses: its ARM message, exit 1.
  r = await ingot("rai", "blocklist", "item", "add", "--blocklist-name", "competitors", "--pattern", "(a+)+$", "--regex");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\(\w+\) /);
});

test("policies: create from flags, show, update, from a file, deployment --rai-policy, delete", async () => {
  let r = await ingot("rai", "policy", "create", "--policy-name", "strict", "--base", "Microsoft.DefaultV2", "--mode", "Asynchronous_filter", "--filter", "hate:prompt:low", "--filter", "violence:both:high:annotate", "--blocklist", "competitors:prompt");
  assert.equal(r.status, 0, r.stderr);
  let p = JSON.parse(r.stdout).properties;
  assert.equal(p.mode, "Asynchronous_filter");
  assert.equal(p.basePolicyName, "Microsoft.DefaultV2");
  const find = (props: any, name: string, source: string) => props.contentFilters.find((f: any) => f.name === name && f.source === source);
  assert.equal(find(p, "Hate", "Prompt").severityThreshold, "Low");
  assert.equal(find(p, "Violence", "Completion").blocking, false);
  assert.equal(find(p, "Violence", "Completion").severityThreshold, "High");
  assert.ok(p.customBlocklists.some((b: any) => b.blocklistName === "competitors" && b.source === "Prompt" && b.blocking === true));

  r = await ingot("rai", "policy", "update", "--policy-name", "strict", "--filter", "jailbreak:prompt:off", "--mode", "Default");
  assert.equal(r.status, 0, r.stderr);
  p = JSON.parse(r.stdout).properties;
  assert.equal(p.mode, "Default");
  assert.equal(find(p, "Jailbreak", "Prompt").enabled, false);
  assert.equal(find(p, "Hate", "Prompt").severityThreshold, "Low", "update keeps what it does not change");
  assert.ok(p.customBlocklists.some((b: any) => b.blocklistName === "competitors"));

  r = await ingot("rai", "policy", "show", "--policy-name", "strict", "-o", "table");
  assert.match(r.stdout, /^Filter\s+Side\s+Enabled\s+Blocking\s+Threshold/);
  assert.match(r.stdout, /Hate\s+Prompt\s+true\s+true\s+Low/);

  const file = join(dir, "policy.json");
  writeFileSync(file, JSON.stringify({ properties: { basePolicyName: "Microsoft.Default", mode: "Default", contentFilters: [{ name: "Sexual", source: "Completion", enabled: true, blocking: true, severityThreshold: "High" }] } }));
  r = await ingot("rai", "policy", "create", "--policy-name", "from-file", "--file", file);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(find(JSON.parse(r.stdout).properties, "Sexual", "Completion").severityThreshold, "High");

  r = await ingot("rai", "policy", "list", "-o", "table");
  for (const name of ["Microsoft.Default", "Microsoft.DefaultV2", "strict", "from-file"]) assert.match(r.stdout, new RegExp(`^${name.replace(".", "\\.")}\\s`, "m"));

  r = await ingot("deployment", "create", "--deployment-name", "filtered-chat", "--model-name", "tiny-chat", "--model-format", "Ingot", "--rai-policy", "strict", "--no-wait");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).properties.raiPolicyName, "strict");
  r = await ingot("deployment", "create", "--deployment-name", "bad-chat", "--model-name", "tiny-chat", "--model-format", "Ingot", "--rai-policy", "nope", "--no-wait");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nope/);

  // In use: the server's 409 names the deployment.
  r = await ingot("rai", "policy", "delete", "--policy-name", "strict");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /filtered-chat/);
  r = await ingot("rai", "policy", "delete", "--policy-name", "from-file");
  assert.equal(r.status, 0, r.stderr);
  r = await ingot("rai", "policy", "show", "--policy-name", "from-file");
  assert.equal(r.status, 1);
});

test("usage errors say what to type (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [["rai", "policy", "create", "--policy-name", "x", "--filter", "hate:sideways:low"], /side must be prompt, completion or both/],
    [["rai", "policy", "create", "--policy-name", "x", "--filter", "hat:prompt:low"], /unknown category 'hat'/],
    [["rai", "policy", "create", "--policy-name", "x", "--filter", "jailbreak:prompt:low"], /no severity levels/],
    [["rai", "policy", "create", "--policy-name", "x", "--blocklist", "competitors"], /NAME:SIDE/],
    [["rai", "policy", "create", "--filter", "hate:prompt:low"], /--policy-name is required/],
    [["rai", "policy", "lst"], /Did you mean 'ingot rai policy list'/],
    [["rai", "blocklist", "item", "add", "--blocklist-name", "competitors"], /--pattern is required/],
    [["rai", "blocklist", "item", "delete", "--blocklist-name", "competitors"], /--item-name is required/],
    [["rai", "policy", "list", "--colour"], /unknown option '--colour'/],
  ];
  for (const [args, message] of cases) {
    const r = await ingot(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  }
});
