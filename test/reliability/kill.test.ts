// kill -9 at random moments: the server (`ingot up` as a child process), its llama.cpp runners
// and its trainers, while ARM deployment PUTs and DELETEs, file uploads and fine-tuning job
// creations are in flight. What the server acknowledged (a 2xx) must survive; after each
// server kill no runner or trainer may outlive it; in the end every deployment is back to its
// desired state (Succeeded, or gone when its DELETE was acknowledged), every acknowledged file
// is there, and every job is queued, running or succeeded (resumed, never failed by a kill).
// Along the way: the data dir the server creates is private (0700, database 0600), and no key
// or token reaches its log (info level), even one sent in a query string.
// RELIABILITY_SEED picks the same writes, targets and delays again (the kills' exact timing
// still varies); RELIABILITY_KILL_CYCLES changes the cycle count (default 24).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FACTS, line } from "../fixtures/codename-facts.ts";
import { ACCOUNT_PATH, adminToken, ARM_VERSION, freePort, isAlive, multipart, prng, runnersOf, runSeed, send, startChildServer, stopChildServer, trainersOf, until } from "./lib.ts";
import type { ChildServer, RawReply } from "./lib.ts";

const SEED = runSeed();
const CYCLES = Number(process.env.RELIABILITY_KILL_CYCLES ?? 24);
const API_KEY = "fedcba9876543210fedcba9876543210";
const FT_VERSION = "2025-04-01-preview";
const TERMINAL_OK = new Set(["validating_files", "queued", "running", "succeeded", "paused"]);

const parentDir = mkdtempSync(join(tmpdir(), "ingot-kill-"));
/** Created by the server itself, so its permissions are the server's doing. */
const dataDir = join(parentDir, "data");
let server: ChildServer | undefined;
after(async () => {
  if (server) {
    // Stop the training this test started before the server goes.
    await cancelAll(server).catch(() => undefined);
    await stopChildServer(server);
  }
  rmSync(parentDir, { recursive: true, force: true });
});

let token = "";
const rng = prng(SEED);

const armPath = (p: string) => `${ACCOUNT_PATH}${p}?api-version=${ARM_VERSION}`;
const arm = (s: ChildServer, method: string, p: string, body?: unknown, timeoutMs = 15_000) =>
  send(s.url, { method, path: armPath(p), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) }, timeoutMs);
const data = (s: ChildServer, method: string, path: string, body?: unknown, timeoutMs = 15_000) =>
  send(s.url, { method, path, headers: { "api-key": API_KEY, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) }, timeoutMs);
const parse = (r: RawReply) => JSON.parse(r.body.toString()) as Record<string, unknown>;
const dataset = FACTS.map((f) => line(f.question, f.answer)).join("\n") + "\n";

async function upload(s: ChildServer, name: string): Promise<RawReply> {
  const mp = multipart([{ name: "purpose", value: "fine-tune" }, { name: "file", value: dataset, filename: name }], "----ingotkillboundary");
  return send(s.url, { method: "POST", path: "/openai/v1/files", headers: { "api-key": API_KEY, "content-type": mp.contentType }, body: mp.body }, 15_000);
}

async function cancelAll(s: ChildServer): Promise<void> {
  const list = parse(await data(s, "GET", "/openai/v1/fine_tuning/jobs?limit=100")) as { data: { id: string; status: string }[] };
  for (const j of list.data) if (!["succeeded", "failed", "cancelled"].includes(j.status)) await data(s, "POST", `/openai/v1/fine_tuning/jobs/${j.id}/cancel`);
}

test(`kill -9 of server, runners and trainers at random moments loses no acknowledged write (seed ${SEED})`, { timeout: 420_000 }, async () => {
  const started = Date.now();
  const port = await freePort();
  const instances: ChildServer[] = [];
  const start = async () => {
    const s = await startChildServer({ dataDir, port, apiKey: API_KEY, logLevel: "info", secrets: () => [API_KEY, token] });
    instances.push(s);
    return s;
  };
  server = await start();
  token = adminToken(dataDir, server.url);
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  assert.equal(mode(dataDir), "700", "the data dir holds keys: only its owner may enter");
  assert.equal(mode(join(dataDir, "ingot.db")), "600", "the database holds the signing key and account keys");
  // Keys and tokens in a query string are refused, and must not be logged either.
  for (const q of [`api-key=${API_KEY}`, `access_token=${token}`]) {
    const r = await send(server.url, { method: "POST", path: `/openai/v1/chat/completions?${q}`, headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 1 }) }, 15_000);
    assert.ok(r.status >= 400 && r.status < 500, `a credential in the query string: ${r.status}`);
  }

  // What the server acknowledged, and so must keep.
  const deployments = new Map<string, "present" | "absent" | "unknown">();
  const files = new Set<string>();
  const jobs = new Set<string>();
  const attempted = { put: 0, delete: 0, upload: 0, job: 0 };
  const acknowledged = { put: 0, delete: 0, upload: 0, job: 0 };
  const kills = { server: 0, runner: 0, trainer: 0, skipped: 0 };
  const problems: string[] = [];
  const restartMs: number[] = [];
  const trainerKills = new Map<string, number>();
  const jobOf = (cmdline: string) => /ftjob-[0-9a-f]+/.exec(cmdline)?.[0] ?? cmdline;

  const first = await upload(server, "train.jsonl");
  assert.equal(first.status, 200, first.body.toString());
  const trainingFile = parse(first).id as string;
  files.add(trainingFile);
  await until("the training file to be processed", async () => (parse(await data(server!, "GET", `/openai/v1/files/${trainingFile}`)).status === "processed" ? true : undefined), 60_000);

  const targets = ["server", "runner", "trainer"] as const;
  const offset = rng.int(0, 2);
  let serial = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const s = server!;
    const target = targets[(cycle + offset) % 3];
    // A job to kill the trainer of: at most two at a time, five in all.
    const activeJobs = [...jobs].length;
    const writes: Promise<void>[] = [];
    const ops = rng.int(2, 4);
    for (let k = 0; k < ops; k++) {
      const kind = target === "trainer" && k === 0 && activeJobs < 5 ? "job" : rng.pick(["put", "put", "delete", "upload"] as const);
      if (kind === "put") {
        const name = `kd-${serial++}`;
        attempted.put++;
        writes.push(
          arm(s, "PUT", `/deployments/${name}`, { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Ingot", name: rng.pick(["tiny-chat", "tiny-embed"]), version: "1" } } }).then((r) => {
            if (r.status === 200 || r.status === 201) {
              acknowledged.put++;
              deployments.set(name, "present");
            } else if (r.status >= 500) problems.push(`PUT ${name}: ${r.status} ${r.body.toString().slice(0, 200)}`);
          }, () => undefined),
        );
      } else if (kind === "delete") {
        const present = [...deployments].filter(([, v]) => v === "present").map(([n]) => n);
        if (!present.length) continue;
        const name = rng.pick(present);
        attempted.delete++;
        writes.push(
          arm(s, "DELETE", `/deployments/${name}`).then((r) => {
            if (r.status === 200 || r.status === 202 || r.status === 204) {
              acknowledged.delete++;
              deployments.set(name, "absent");
            } else if (r.status >= 500) problems.push(`DELETE ${name}: ${r.status} ${r.body.toString().slice(0, 200)}`);
          }, () => {
            // Cut off by a kill: the server may or may not have taken it.
            deployments.set(name, "unknown");
          }),
        );
      } else if (kind === "upload") {
        attempted.upload++;
        writes.push(
          upload(s, `u${serial++}.jsonl`).then((r) => {
            if (r.status === 200 || r.status === 201) {
              acknowledged.upload++;
              files.add(parse(r).id as string);
            } else if (r.status >= 500) problems.push(`upload: ${r.status} ${r.body.toString().slice(0, 200)}`);
          }, () => undefined),
        );
      } else {
        attempted.job++;
        writes.push(
          data(s, "POST", "/openai/v1/fine_tuning/jobs", { model: "tiny-chat", training_file: trainingFile, hyperparameters: { n_epochs: 2 }, suffix: `k${cycle}` }).then((r) => {
            if (r.status === 200 || r.status === 201) {
              acknowledged.job++;
              jobs.add(parse(r).id as string);
            } else if (r.status >= 500) problems.push(`job create: ${r.status} ${r.body.toString().slice(0, 200)}`);
          }, () => undefined),
        );
      }
    }
    // Kill at a random moment: while the writes are in flight, or just after.
    await new Promise((r) => setTimeout(r, rng.int(0, 120)));
    if (target === "server") {
      const children = [...runnersOf(s.pid), ...trainersOf(s.pid)];
      process.kill(s.pid, "SIGKILL");
      await s.exited;
      kills.server++;
      await Promise.all(writes);
      // A runner or trainer must not outlive its server (it would hold memory and the model,
      // and a trainer would race its own resumed job).
      for (const c of children) {
        const gone = await until(`pid ${c.pid} to exit`, () => (isAlive(c.pid) ? undefined : true), 15_000).catch(() => false);
        if (!gone) {
          problems.push(`an orphan outlived its killed server: ${c.cmdline.slice(0, 120)}`);
          process.kill(c.pid, "SIGKILL");
        }
      }
      const t0 = Date.now();
      server = await start();
      restartMs.push(Date.now() - t0);
    } else {
      const victims = target === "runner" ? runnersOf(s.pid) : trainersOf(s.pid);
      // A job fails by design after its trainer died three times: kill each job's trainer at most twice.
      const killable = (ps: typeof victims) => ps.filter((p) => target === "runner" || (trainerKills.get(jobOf(p.cmdline)) ?? 0) < 2);
      let victim = killable(victims).length ? rng.pick(killable(victims)) : undefined;
      if (!victim) {
        // Just after a restart the runners may still be starting, and a job may still be validating.
        victim = await until(`a ${target} to start`, () => killable(target === "runner" ? runnersOf(s.pid) : trainersOf(s.pid))[0], 20_000).catch(() => undefined);
      }
      if (victim) {
        process.kill(victim.pid, "SIGKILL");
        kills[target]++;
        if (target === "trainer") trainerKills.set(jobOf(victim.cmdline), (trainerKills.get(jobOf(victim.cmdline)) ?? 0) + 1);
      } else kills.skipped++;
      await Promise.all(writes);
    }
    // After every cycle: the server answers, and what it acknowledged is still there.
    const s2 = server!;
    const health = await send(s2.url, { method: "GET", path: "/healthz" }, 10_000).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }));
    if (health.status !== 200) problems.push(`cycle ${cycle}: /healthz ${health.status}`);
    for (const id of files) {
      const r = await data(s2, "GET", `/openai/v1/files/${id}`);
      if (r.status !== 200) problems.push(`cycle ${cycle} (${target} killed): acknowledged file ${id} is ${r.status}`);
    }
    for (const id of jobs) {
      const r = await data(s2, "GET", `/openai/v1/fine_tuning/jobs/${id}`);
      if (r.status !== 200) problems.push(`cycle ${cycle} (${target} killed): acknowledged job ${id} is ${r.status}`);
    }
    for (const [name, want] of deployments) {
      const r = await arm(s2, "GET", `/deployments/${name}`);
      if (want === "present" && r.status !== 200) problems.push(`cycle ${cycle} (${target} killed): acknowledged deployment ${name} is ${r.status}`);
    }
  }

  // Convergence: every deployment back to its desired state, every job alive.
  const s = server!;
  const t0 = Date.now();
  let left: string[] = [];
  const pending = await until(
    "deployments and jobs to reach their desired states",
    async () => {
      left = [];
      for (const [name, want] of deployments) {
        const r = await arm(s, "GET", `/deployments/${name}`);
        if (want === "absent" && r.status !== 404) left.push(`${name} should be gone: ${r.status} ${r.status === 200 ? (parse(r).properties as { provisioningState: string }).provisioningState : ""}`);
        if (want === "present") {
          const state = r.status === 200 ? (parse(r).properties as { provisioningState: string }).provisioningState : String(r.status);
          if (state !== "Succeeded") left.push(`${name} is ${state}`);
        }
      }
      // Deployments whose PUT or DELETE was cut off by a kill are in no known state, but whatever
      // exists must have settled: Succeeded (a cut-off DELETE either happened or did not).
      const listed = parse(await arm(s, "GET", "/deployments")) as { value: { name: string; properties: { provisioningState: string } }[] };
      for (const d of listed.value) if (d.properties.provisioningState !== "Succeeded" && !deployments.has(d.name)) left.push(`${d.name} (not acknowledged) is ${d.properties.provisioningState}`);
      for (const id of jobs) {
        const j = parse(await data(s, "GET", `/openai/v1/fine_tuning/jobs/${id}`)) as { status: string; error?: { message?: string } };
        if (!TERMINAL_OK.has(j.status)) left.push(`job ${id} is ${j.status}: ${j.error?.message ?? ""}`);
      }
      return left.length ? undefined : [];
    },
    90_000,
    500,
  ).catch((e: Error) => [`${e.message}: ${left.join("; ")}`]);
  const convergeMs = Date.now() - t0;
  problems.push(...pending);

  const statuses = await Promise.all([...jobs].map(async (id) => (parse(await data(s, "GET", `/openai/v1/fine_tuning/jobs/${id}`)) as { status: string }).status));
  if (statuses.length && !statuses.some((st) => st === "running" || st === "succeeded") && !statuses.every((st) => st === "queued" || st === "validating_files"))
    problems.push(`no job is running or succeeded after the kills: ${statuses.join(", ")}`);
  const chatOn = [...deployments].find(([n, v]) => v === "present" && n.startsWith("kd-"))?.[0];
  for (const model of ["tiny-chat", ...(chatOn ? [chatOn] : [])]) {
    const r = await data(s, "POST", "/openai/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }, 30_000);
    // A kd- deployment may serve embeddings only: 400 (wrong operation) is fine; a 5xx is not.
    if (r.status >= 500 || (model === "tiny-chat" && r.status !== 200)) problems.push(`chat on ${model} after the kills: ${r.status} ${r.body.toString().slice(0, 200)}`);
  }

  const leaked = new Set(instances.flatMap((x) => x.leaked()));
  if (leaked.size) problems.push(`the server log holds ${[...leaked].map((x) => (x === API_KEY ? "the api-key" : "the admin token")).join(" and ")}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `# kill: seed ${SEED}, ${CYCLES} cycles in ${seconds} s; kills server ${kills.server}, runner ${kills.runner}, trainer ${kills.trainer} (${kills.skipped} without a victim); writes acknowledged/attempted: PUT ${acknowledged.put}/${attempted.put}, DELETE ${acknowledged.delete}/${attempted.delete}, upload ${acknowledged.upload}/${attempted.upload}, job ${acknowledged.job}/${attempted.job}; server restart max ${Math.max(0, ...restartMs)} ms; converged in ${convergeMs} ms; jobs ${statuses.join(", ") || "none"}; ${problems.length} problems`,
  );
  for (const p of problems) console.log(`# kill problem: ${p}`);
  if (problems.length) console.log(`# server output (tail):\n${s.output().slice(-6000)}`);
  assert.ok(kills.server >= 3 && kills.runner >= 3, `server and runner kills: ${JSON.stringify(kills)}`);
  assert.deepEqual(problems, [], `rerun with RELIABILITY_SEED=${SEED}`);
});
