// Samples taken while nothing else runs on the machine: the CPU time of processes outside
// this process's tree is read from /proc around each sample, and a sample during which they
// used more than a small share of one core is thrown away and taken again. On a shared
// 2-core machine this turns "noise from whoever else is compiling" into retries.
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));

function busyMs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_MS;
}

function treeMs(root: number): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(d), Number(f[1]));
      // utime stime cutime cstime: children that exited count through their parent
      cpu.set(Number(d), (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS);
    } catch {
      // gone
    }
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) {
      if (p === root) {
        total += ms;
        break;
      }
    }
  }
  return total;
}

export interface QuietOptions {
  /** Foreign CPU allowed, as a share of one core over the sample's wall time (default 0.03). */
  maxForeign?: number;
  /** Tries before giving up and keeping the least disturbed sample (default 12). */
  tries?: number;
  log?: (m: string) => void;
}

/**
 * Runs `sample` until one run had (almost) the machine to itself; returns its value and the
 * foreign share seen. Exited children are counted through cutime/cstime of their parents,
 * which are in the tree; processes of this tree that exited during the sample are missed
 * (their CPU looks foreign), so the check errs on the strict side.
 */
export async function quietly<T>(sample: () => Promise<T>, o: QuietOptions = {}): Promise<{ value: T; foreign: number; tries: number }> {
  const maxForeign = o.maxForeign ?? 0.03;
  const tries = o.tries ?? 12;
  let best: { value: T; foreign: number } | undefined;
  for (let i = 1; i <= tries; i++) {
    const b0 = busyMs();
    const m0 = treeMs(process.pid);
    const t0 = performance.now();
    const value = await sample();
    const wall = performance.now() - t0;
    const foreign = Math.max(0, busyMs() - b0 - (treeMs(process.pid) - m0)) / wall;
    if (!best || foreign < best.foreign) best = { value, foreign };
    if (foreign <= maxForeign) return { value, foreign, tries: i };
    o.log?.(`  disturbed sample (foreign CPU ${(foreign * 100).toFixed(0)}% of a core), again`);
    // Let whatever it was finish.
    await new Promise((r) => setTimeout(r, 2000));
  }
  return { ...best!, tries };
}
