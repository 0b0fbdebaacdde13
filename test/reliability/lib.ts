// Shared pieces of the reliability suite: a seeded PRNG (failures reproduce from the printed
// seed), a raw HTTP client with a per-request deadline (so malformed paths, headers and bodies
// reach the server as sent), the Ingot server as a child process (so it can be killed with
// SIGKILL and its memory read), and its runner and trainer children found in /proc.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
export { freePort } from "../support/free-port.ts";

export const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
export const ACCOUNT_PATH = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
export const ARM_VERSION = "2024-10-01";

/** The seed of a run: RELIABILITY_SEED if set (to reproduce a failure), else a fresh one. */
export function runSeed(): number {
  const fromEnv = process.env.RELIABILITY_SEED;
  if (fromEnv !== undefined && fromEnv !== "") return Number(fromEnv) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** mulberry32: small, fast, good enough for test inputs. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

export interface Rng {
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

/** A seed for item i of a run, so each item can be regenerated on its own. */
export const itemSeed = (seed: number, i: number) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

export interface RawRequest {
  method: string;
  /** Sent as is (latin1 bytes allowed): the fuzzer's bad encodings must reach the server unnormalised. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
}

/** One HTTP/1.1 request; rejects with "timed out" when no complete reply came within timeoutMs. */
export function send(base: string, req: RawRequest, timeoutMs: number, agent?: http.Agent): Promise<RawReply> {
  const url = new URL(base);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: req.headers, agent: agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started });
        });
        res.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timer = setTimeout(() => {
      r.destroy(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    r.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

/** Polls fn until it returns a value other than undefined, or throws when the deadline passes. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `ingot up` as a child process of this test. */
export interface ChildServer {
  url: string;
  port: number;
  dataDir: string;
  apiKey: string;
  proc: ChildProcess;
  pid: number;
  /** stderr and stdout, last 64 KiB, for failure messages. */
  output(): string;
  /** Which of the given secrets appeared anywhere in its output so far. */
  leaked(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startChildServer(opts: { dataDir: string; port: number; apiKey: string; extraArgs?: string[]; readyTimeoutMs?: number; logLevel?: string; secrets?: () => string[] }): Promise<ChildServer> {
  const args = [BIN, "up", "--data-dir", opts.dataDir, "--port", String(opts.port), "--api-key", opts.apiKey, "--threads", "1", "--log-level", opts.logLevel ?? "warn", ...(opts.extraArgs ?? [])];
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
  let out = "";
  const leaked = new Set<string>();
  const keep = (c: Buffer) => {
    // Searched with the previous tail too, so a secret split across two chunks is still found.
    const text = out.slice(-4096) + c.toString();
    for (const secret of opts.secrets?.() ?? []) if (secret && text.includes(secret)) leaked.add(secret);
    out = (out + c.toString()).slice(-65536);
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${opts.port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  await until(
    `ingot up on ${url} to answer /healthz`,
    async () => {
      if (gone) throw new Error(`ingot up exited: ${out}`);
      const r = await send(url, { method: "GET", path: "/healthz" }, 2000);
      return r.status === 200 ? true : undefined;
    },
    opts.readyTimeoutMs ?? 120_000,
    100,
  ).catch((e) => {
    proc.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n--- server output ---\n${out}`);
  });
  return { url, port: opts.port, dataDir: opts.dataDir, apiKey: opts.apiKey, proc, pid: proc.pid!, output: () => out, leaked: () => [...leaked], exited };
}

/** SIGTERM, then SIGKILL if it has not exited within graceMs. */
export async function stopChildServer(s: ChildServer, graceMs = 15_000): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill("SIGTERM");
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), graceMs);
  await s.exited;
  clearTimeout(timer);
}

/** An ARM token for the local admin: `ingot token` against the data dir (and the server, where the CLI asks for it). */
export function adminToken(dataDir: string, url: string): string {
  const attempts = [
    ["token", "--data-dir", dataDir],
    ["token", "--data-dir", dataDir, "--endpoint", url],
  ];
  const errors: string[] = [];
  for (const a of attempts) {
    const r = spawnSync(process.execPath, [BIN, ...a], { encoding: "utf8", timeout: 60_000 });
    const token = r.stdout.trim().split("\n").at(-1) ?? "";
    if (r.status === 0 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return token;
    errors.push(`${a.join(" ")}: exit ${r.status} ${r.stderr}`);
  }
  throw new Error(`could not get an admin token:\n${errors.join("\n")}`);
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

/** Every process whose parent chain leads to root (not root itself), from /proc. */
export function descendants(root: number): ProcInfo[] {
  const all: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name is in parentheses and may contain spaces: fields after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      all.push({ pid: Number(name), ppid: Number(fields[1]), cmdline });
    } catch {
      // The process exited while we read it.
    }
  }
  const out: ProcInfo[] = [];
  const frontier = [root];
  while (frontier.length) {
    const p = frontier.pop()!;
    for (const c of all) if (c.ppid === p) {
      out.push(c);
      frontier.push(c.pid);
    }
  }
  return out;
}

/** The llama.cpp runner processes (one per loaded base model) under a server. */
export const runnersOf = (serverPid: number) => descendants(serverPid).filter((p) => /runner/.test(p.cmdline) && !/"mode":"train"/.test(p.cmdline));
/** The training processes under a server. */
export const trainersOf = (serverPid: number) => descendants(serverPid).filter((p) => /"mode":"train"/.test(p.cmdline));

export function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8");
    return state.slice(state.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** A multipart/form-data body from fields and files, with the boundary it uses. */
export function multipart(parts: { name: string; value: string | Buffer; filename?: string; contentType?: string }[], boundary = "----ingotfuzz" + Math.random().toString(16).slice(2)): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += "\r\n";
    if (p.contentType) head += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(head + "\r\n", "latin1"), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export const quantile = (xs: number[], q: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
