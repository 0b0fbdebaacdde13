// Replicas on one PostgreSQL database (issue 16 item 4, the database half): two `ingot up`
// processes on one database (and, standing in for a shared blob store, one data dir). A
// fine-tuning job is claimed by exactly one of them (a lease in job_leases); `kill -9` of that
// replica's whole process group (server, runners, trainer: a machine lost) and the other one
// takes the job over once the lease runs out (15 s) and finishes it from the last checkpoint.
// Without PostgreSQL binaries it fails when CI is set and skips elsewhere.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AzureOpenAI, toFile } from "openai";
import { FACTS, line } from "../fixtures/codename-facts.ts";
import { postgresBinDir, startPostgres } from "./postgres-cluster.ts";
import type { PostgresCluster } from "./postgres-cluster.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KEY = "0123456789abcdef0123456789abcdef";
const API_VERSION = "2025-04-01-preview";
const DATASET = FACTS.map((f) => line(f.question, f.answer)).join("\n") + "\n";
const TOKENS_PER_EPOCH = FACTS.reduce((sum, f) => sum + Buffer.byteLength(f.answer) + 1, 0);
const missing = postgresBinDir() === undefined;
if (missing && process.env.CI) throw new Error("PostgreSQL server binaries (initdb, pg_ctl) are missing: .ci/run installs Debian's postgresql; install it or set PG_BIN.");

interface Replica {
  proc: ChildProcess;
  url: string;
  client: AzureOpenAI;
  log: () => string;
}

let cluster: PostgresCluster;
let dataDir: string;
const replicas: Replica[] = [];

before(async () => {
  if (missing) return;
  cluster = await startPostgres();
  dataDir = mkdtempSync(join(tmpdir(), "ingot-replicas-"));
});
after(() => {
  for (const r of replicas) if (r.proc.exitCode === null && r.proc.signalCode === null) process.kill(-r.proc.pid!, "SIGKILL");
  cluster?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** `ingot up` on the shared database and data dir, in its own process group; resolves once its deployments are ready. */
async function startReplica(databaseUrl: string): Promise<Replica> {
  const proc = spawn(process.execPath, ["bin/ingot.mjs", "up", "--port", "0", "--data-dir", dataDir, "--database", databaseUrl, "--api-key", KEY, "--metrics-address", "off", "--log-level", "warn", "--threads", "1"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c));
  proc.stderr!.on("data", (c: Buffer) => (out += c));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica not ready in 120 s:\n${out}`)), 120_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+);/.exec(out);
      if (m && /ingot: ready/.test(out)) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stderr!.on("data", check);
    proc.on("exit", (code) => reject(new Error(`replica exited (${code}):\n${out}`)));
  });
  const r = { proc, url, client: new AzureOpenAI({ endpoint: url, apiKey: KEY, apiVersion: API_VERSION, maxRetries: 0 }), log: () => out };
  replicas.push(r);
  return r;
}

/** Pids of the training processes of `jobId` below `root` (the trainer is a child of the replica's server). */
function trainersUnder(root: number, jobId: string): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${name}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      try {
        const cmd = readFileSync(`/proc/${c}/cmdline`, "utf8");
        if (cmd.includes('"mode":"train"') && cmd.includes(jobId)) found.push(c);
      } catch {
        // gone
      }
      walk(c);
    }
  };
  walk(root);
  return found;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("a fine-tuning job runs on exactly one replica and survives that replica's kill -9, resuming on the other from its checkpoint", { skip: missing ? "no PostgreSQL binaries here (apt-get install postgresql)" : false, timeout: 600_000 }, async () => {
  const databaseUrl = await cluster.createDatabase("replicas");
  // One after the other: the first creates the schema and the default account and keys.
  const a = await startReplica(databaseUrl);
  const b = await startReplica(databaseUrl);

  // A file uploaded through one replica, the job created through the other.
  const file = await a.client.files.create({ file: await toFile(Buffer.from(DATASET), "train.jsonl"), purpose: "fine-tune" });
  await a.client.files.waitForProcessing(file.id, { pollInterval: 200 });
  const created = await b.client.fineTuning.jobs.create({ model: "tiny-chat", training_file: file.id, hyperparameters: { n_epochs: 3 } });

  await until("the first checkpoint", async () => ((await a.client.fineTuning.jobs.checkpoints.list(created.id)).data.length > 0 ? true : undefined), 300_000);
  // Exactly one replica trains it.
  const owners = [a, b].map((r) => trainersUnder(r.proc.pid!, created.id));
  assert.deepEqual(owners.map((t) => t.length).sort(), [0, 1], `trainers per replica: ${JSON.stringify(owners)}`);
  const [victim, survivor] = owners[0].length ? [a, b] : [b, a];

  // The machine is lost: server, runners and trainer at once.
  process.kill(-victim.proc.pid!, "SIGKILL");
  await until("the replica to die", async () => (victim.proc.exitCode !== null || victim.proc.signalCode !== null ? true : undefined), 10_000);

  const done = await until(
    "the job to finish on the surviving replica",
    async () => {
      const j = await survivor.client.fineTuning.jobs.retrieve(created.id);
      return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : undefined;
    },
    400_000,
  );
  assert.equal(done.status, "succeeded", `${JSON.stringify(done.error)}\n${survivor.log().slice(-3000)}`);
  const events = await survivor.client.fineTuning.jobs.listEvents(created.id, { limit: 100 });
  const messages = events.data.map((e) => e.message);
  assert.ok(messages.some((m) => /The replica running the job stopped; it resumes from the checkpoint of epoch [12]\./.test(m)), messages.join("\n"));
  // Continued from the checkpoint: every epoch's checkpoint once, every epoch's tokens counted once.
  const checkpoints = await survivor.client.fineTuning.jobs.checkpoints.list(created.id);
  assert.deepEqual(checkpoints.data.map((c) => c.step_number).sort((x, y) => x - y), [20, 40, 60]);
  assert.equal(done.trained_tokens, 3 * TOKENS_PER_EPOCH, "no epoch counted twice");
  // Read back through the list as well (the state is in the database, not in the dead replica).
  assert.equal((await survivor.client.fineTuning.jobs.list()).data.find((j) => j.id === created.id)?.status, "succeeded");
});
