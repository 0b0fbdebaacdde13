// The processes of a bench Ingot started by this process (ingot-process.ts): its server and
// the runner of the bench model (the server's child that has used the most CPU, after a
// warm-up stream). For the experiments that read their CPU time from /proc.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const children = (pid: number) => execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);

export function benchProcesses(cpu: (pid: number) => number): { client: number; server: number; runner: number } {
  const server = children(process.pid).find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes("ingot-server.ts"))!;
  const runner = children(server).sort((a, b) => cpu(b) - cpu(a))[0];
  return { client: process.pid, server, runner };
}
