// Every process the benchmark starts goes through here, in its own process group, so
// that all of them (and their children, e.g. Ingot's runners) are killed on exit,
// on an error and on Ctrl-C.
import { spawn } from "node:child_process";
import type { ChildProcess, SpawnOptions } from "node:child_process";
import { createWriteStream } from "node:fs";

const running = new Set<ChildProcess>();
let handlersInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

export function killAll(): void {
  for (const child of running) killGroup(child, "SIGKILL");
  running.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every process it started\n`);
      killAll();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

export interface Started {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a process in its own group; stdout/stderr go to `logFile` unless piped by `options.stdio`. */
export function start(command: string, args: string[], options: SpawnOptions & { logFile?: string } = {}): Started {
  installHandlers();
  const { logFile, ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...spawnOptions, detached: true });
  running.add(child);
  if (logFile) {
    const log = createWriteStream(logFile, { flags: "a" });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.on("error", () => resolve("spawn-error"));
    child.on("exit", (code, signal) => {
      running.delete(child);
      // The group may still hold grandchildren (e.g. runners); end them too.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // none left
        }
      }
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    child,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion with a time limit; returns its exit code and output tail. */
export async function runToEnd(
  command: string,
  args: string[],
  options: SpawnOptions & { logFile?: string; timeoutMs: number },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const { timeoutMs, ...rest } = options;
  const started = start(command, args, rest);
  let stdout = "";
  let stderr = "";
  started.child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString("utf8");
  });
  started.child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("utf8")).slice(-20_000);
  });
  const timer = setTimeout(() => killGroup(started.child, "SIGKILL"), timeoutMs);
  const code = await started.exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}
