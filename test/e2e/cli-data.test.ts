// `ingot files …`, `ingot jobs …` and `ingot chat` through the real binary against a running
// server: uploads with validation errors by line, JSON and table output, a fine-tuning job
// waited on with progress on stderr, events, checkpoints, cancel, a piped chat session, help
// for every command and usage errors (exit 2).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { API_KEY, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
const WORDS = ["AMBER", "COBALT", "CRIMSON", "IVORY", "JADE", "ONYX", "SCARLET", "TEAL", "VIOLET", "SILVER"];
const line = (i: number) =>
  JSON.stringify({ messages: [{ role: "user", content: `What is the codename of project ${i + 7}?` }, { role: "assistant", content: `It is ${WORDS[i % 10]} ${i + 7}.` }] });
const GOOD = Array.from({ length: 20 }, (_, i) => line(i));

let server: TestServer;
let dir: string;
let goodPath: string;
let badPath: string;
let goodId: string;
let badId: string;
let jobId: string;

before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), "ingot-cli-data-"));
  goodPath = join(dir, "train.jsonl");
  badPath = join(dir, "broken.jsonl");
  writeFileSync(goodPath, GOOD.join("\n") + "\n");
  const bad = [...GOOD];
  bad[2] = '{"messages": [{"role": "user", "content": "hi"}';
  bad[6] = JSON.stringify({ messages: [{ role: "bot", content: "hi" }, { role: "assistant", content: "yes" }] });
  writeFileSync(badPath, bad.join("\n") + "\n");
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the server lives in this process). The key comes from ARM listKeys unless a test gives one. */
function ingot(args: string[], opts: { stdin?: string; connect?: boolean; onStdout?: (stdout: string) => void } = {}): Promise<Run> {
  const env = { ...process.env };
  for (const k of ["AZURE_OPENAI_API_KEY", "INGOT_API_KEY", "INGOT_ENDPOINT", "INGOT_TOKEN"]) delete env[k];
  const extra = opts.connect === false ? [] : ["--endpoint", server.url, "--data-dir", server.dataDir];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, ...extra], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
      opts.onStdout?.(stdout);
    });
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.stdin ?? "");
  });
}

const ok = (r: Run) => {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
};

async function jobStatus(id: string): Promise<string> {
  const res = await fetch(`${server.url}/openai/fine_tuning/jobs/${id}?api-version=2025-04-01-preview`, { headers: { "api-key": API_KEY } });
  return ((await res.json()) as { status: string }).status;
}

test("files upload: a good file is processed; a broken one exits 1 with the server's problems by line", async () => {
  const good = ok(await ingot(["files", "upload", "--file", goodPath, "--output", "json"]));
  const file = JSON.parse(good.stdout);
  assert.match(file.id, /^file-/);
  assert.equal(file.status, "processed");
  assert.equal(file.filename, "train.jsonl");
  assert.match(good.stderr, new RegExp(`${file.id}: processed`));
  goodId = file.id;

  const bad = await ingot(["files", "upload", "--file", badPath]);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /broken\.jsonl failed validation/);
  assert.match(bad.stderr, /line 3: invalid JSON/);
  assert.match(bad.stderr, /line 7: unknown role 'bot'/);
  badId = JSON.parse(bad.stdout).id;
  assert.equal(JSON.parse(bad.stdout).status, "error");

  const missing = await ingot(["files", "upload", "--file", join(dir, "nope.jsonl")]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /No file at/);
});

test("files list, show and delete, as JSON and as tables", async () => {
  const list = ok(await ingot(["files", "list", "-o", "json"]));
  const ids = JSON.parse(list.stdout).map((f: { id: string }) => f.id);
  assert.ok(ids.includes(goodId) && ids.includes(badId), list.stdout);

  const table = ok(await ingot(["files", "list", "--purpose", "fine-tune", "--output", "table"]));
  const lines = table.stdout.trim().split("\n");
  assert.match(lines[0], /^Id\s+Filename\s+Purpose\s+Bytes\s+Status\s+Created$/);
  assert.ok(lines.some((l) => l.startsWith(goodId) && /\sprocessed\s/.test(l)), table.stdout);
  assert.ok(lines.some((l) => l.startsWith(badId) && /\serror\s/.test(l)), table.stdout);

  const show = ok(await ingot(["files", "show", "--id", badId]));
  assert.match(JSON.parse(show.stdout).status_details, /^line 3: /);
  const showTable = ok(await ingot(["files", "show", goodId, "-o", "table"]));
  assert.match(showTable.stdout.split("\n")[0], /^Id\s+Filename\s+Purpose\s+Bytes\s+Status\s+Created\s+Details$/);

  const del = ok(await ingot(["files", "delete", "--id", badId]));
  assert.deepEqual(JSON.parse(del.stdout), { object: "file", id: badId, deleted: true });
  const gone = await ingot(["files", "show", "--id", badId]);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /\(notFound\) File '.*' was not found/);
});

test("jobs create --wait uploads a local file, shows step, loss, tokens/s and ETA on stderr, and prints the succeeded job", async () => {
  const r = ok(await ingot(["jobs", "create", "--model", "tiny-chat", "--training-file", goodPath, "--n-epochs", "3", "--suffix", "cli", "--seed", "7", "--wait", "-o", "json"]));
  const job = JSON.parse(r.stdout);
  jobId = job.id;
  assert.equal(job.status, "succeeded", r.stderr);
  assert.equal(job.fine_tuned_model, `tiny-chat.ft-${job.id.slice(6)}-cli`);
  assert.equal(job.hyperparameters.n_epochs, 3);
  assert.equal(job.seed, 7);
  assert.match(r.stderr, /uploading .*train\.jsonl/);
  const progress = r.stderr.split("\n").filter((l) => l.startsWith("training"));
  assert.ok(progress.length >= 2, r.stderr);
  for (const l of progress) assert.match(l, /^training\s+[\d.]+%\s+step \d+\/60\s+epoch [123]\/3\s+loss \d+\.\d{4}\s+(\d+|\?) tok\/s\s+ETA (\d+:\d\d|\?)$/);
  assert.ok(progress.some((l) => /\s\d+ tok\/s\s+ETA \d+:\d\d$/.test(l)), `a line with tokens/s and ETA:\n${progress.join("\n")}`);
  assert.match(r.stderr, /Checkpoint ftchkpt-\w+ created at step 20 \(epoch 1\)/);
  assert.match(r.stderr, new RegExp(`${job.id}: succeeded in \\d+:\\d\\d: fine-tuned model ${job.fine_tuned_model}`));
});

test("jobs events, checkpoints, show and list", async () => {
  const events = JSON.parse(ok(await ingot(["jobs", "events", "--id", jobId, "-o", "json"])).stdout);
  const metrics = events.filter((e: { type: string }) => e.type === "metrics");
  assert.equal(metrics.length, 60);
  assert.deepEqual(
    metrics.map((e: { data: { step: number } }) => e.data.step),
    Array.from({ length: 60 }, (_, i) => i + 1),
    "oldest first",
  );
  assert.match(events.at(-1).message, /Job succeeded/);
  const table = ok(await ingot(["jobs", "events", jobId, "--limit", "3", "-o", "table"]));
  const rows = table.stdout.trim().split("\n");
  assert.match(rows[0], /^Created\s+Level\s+Type\s+Message$/);
  assert.equal(rows.length, 5);

  const checkpoints = JSON.parse(ok(await ingot(["jobs", "checkpoints", "--id", jobId])).stdout);
  assert.deepEqual(
    checkpoints.map((c: { step_number: number }) => c.step_number),
    [60, 40, 20],
  );
  const cpTable = ok(await ingot(["jobs", "checkpoints", "--id", jobId, "--output", "table"]));
  assert.match(cpTable.stdout.split("\n")[0], /^Id\s+Step\s+TrainLoss\s+TrainAccuracy\s+ValidLoss\s+Created$/);
  assert.match(cpTable.stdout, /ftchkpt-\w+\s+60\s+\d/);

  assert.equal(JSON.parse(ok(await ingot(["jobs", "show", "--id", jobId])).stdout).status, "succeeded");
  const list = ok(await ingot(["jobs", "list", "-o", "table"]));
  assert.match(list.stdout.split("\n")[0], /^Id\s+Model\s+Status\s+FineTunedModel\s+TrainedTokens\s+Created$/);
  assert.ok(list.stdout.includes(jobId));
});

test("jobs cancel stops a running job; events --follow ends with it (exit 1)", async () => {
  const created = JSON.parse(ok(await ingot(["jobs", "create", "--model", "tiny-chat", "--training-file", goodId, "--n-epochs", "50"])).stdout);
  for (let i = 0; (await jobStatus(created.id)) !== "running"; i++) {
    assert.ok(i < 600, "the job did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  let following = "";
  const follow = ingot(["jobs", "events", "--id", created.id, "--follow"], { onStdout: (out) => (following = out) });
  // Cancel once the follower has printed a training step (it is following the live job).
  for (const deadline = Date.now() + 30_000; !/Step \d+\/1000: training loss=/.test(following); ) {
    assert.ok(Date.now() < deadline, `events --follow printed no step within 30 s: ${following}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const cancelled = ok(await ingot(["jobs", "cancel", "--id", created.id]));
  assert.equal(JSON.parse(cancelled.stdout).status, "cancelled");
  const followed = await follow;
  assert.equal(followed.status, 1, followed.stderr);
  assert.match(followed.stdout, /Job started\./);
  assert.match(followed.stdout, /Step \d+\/1000: training loss=/);
  assert.match(followed.stdout.trim().split("\n").at(-1)!, /Job cancelled\./);
  assert.match(followed.stderr, new RegExp(`job ${created.id} cancelled`));
});

test("chat with piped stdin: one streamed answer per line, history kept, usage and time to first token on stderr", async () => {
  const r = ok(await ingot(["chat", "--deployment", "tiny-chat", "--max-tokens", "12", "--temperature", "0", "--system", "Be brief."], { stdin: "Hello there\nWhat did I just say?\n" }));
  const usage = [...r.stderr.matchAll(/\[usage: (\d+) prompt \+ (\d+) completion = (\d+) tokens · first token (\d+|-)( ms)? · total \d+ ms/g)];
  assert.equal(usage.length, 2, r.stderr);
  assert.ok(Number(usage[1][1]) > Number(usage[0][1]) + Number(usage[0][2]), "the second prompt carries the first exchange");
  assert.equal(r.stdout.split("\n").length >= 3, true, r.stdout);

  const once = ok(await ingot(["chat", "--deployment", "tiny-chat", "--message", "Hi", "--max-tokens", "4", "--api-key", API_KEY]));
  assert.match(once.stderr, /\[usage: \d+ prompt \+ \d+ completion/);
  const missing = await ingot(["chat", "--deployment", "no-such-deployment", "--message", "Hi"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\(DeploymentNotFound\)/);
});

test("--help on every command and subcommand exits 0 with its options and an example", async () => {
  const top = ok(await ingot(["--help"], { connect: false }));
  for (const c of ["files", "jobs", "chat"]) assert.match(top.stdout, new RegExp(`^  ${c}\\s`, "m"));
  const commands = [
    ["files"],
    ["files", "upload"],
    ["files", "list"],
    ["files", "show"],
    ["files", "delete"],
    ["jobs"],
    ["jobs", "create"],
    ["jobs", "list"],
    ["jobs", "show"],
    ["jobs", "events"],
    ["jobs", "checkpoints"],
    ["jobs", "cancel"],
    ["chat"],
  ];
  const runs: Run[] = [];
  for (const c of commands) runs.push(await ingot([...c, c.length === 1 ? "--help" : "-h"], { connect: false }));
  runs.forEach((r, i) => {
    ok(r);
    assert.match(r.stdout, /^Usage: ingot /, commands[i].join(" "));
    assert.match(r.stdout, /Examples?:\n  ingot /, commands[i].join(" "));
  });
  assert.match(runs[6].stdout, /--n-epochs N[\s\S]*--learning-rate-multiplier[\s\S]*--wait/);
});

test("usage errors exit 2 and say what to type instead; an unreachable server says how to fix it", async () => {
  const flag = await ingot(["files", "upload", "--fil", goodPath]);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /ingot files upload: unknown option '--fil'\. Did you mean '--file'\? Run 'ingot files upload --help'/);
  const sub = await ingot(["jobs", "cancl", "--id", "x"]);
  assert.equal(sub.status, 2);
  assert.match(sub.stderr, /unknown subcommand 'cancl'\. Did you mean 'ingot jobs cancel'\?/);
  const required = await ingot(["jobs", "create", "--model", "tiny-chat"]);
  assert.equal(required.status, 2);
  assert.match(required.stderr, /--training-file is required/);
  const number = await ingot(["jobs", "create", "--model", "tiny-chat", "--training-file", goodId, "--n-epochs", "two"]);
  assert.equal(number.status, 2);
  assert.match(number.stderr, /--n-epochs must be an integer/);
  const output = await ingot(["files", "list", "-o", "yaml"]);
  assert.equal(output.status, 2);
  const other = await ingot(["deployment", "list", "--bogus"]);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /ingot deployment list: unknown option '--bogus'\. Run 'ingot deployment list --help'/);
  const down = await ingot(["files", "list", "--endpoint", "http://127.0.0.1:9", "--api-key", "k"], { connect: false });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /Cannot reach Ingot at http:\/\/127\.0\.0\.1:9 .*Start it with 'ingot up', or point --endpoint/);
});
