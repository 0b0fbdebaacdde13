// Starts the bench Ingot (ingot-server.ts) as a child process and waits for READY.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOGS_DIR } from "./cache.ts";
import { start } from "./children.ts";
import { BENCH_DEPLOYMENT } from "./catalog-entry.ts";
import type { IngotServerOptions } from "./ingot-server.ts";

const ENTRY = fileURLToPath(new URL("./ingot-server.ts", import.meta.url));

export interface IngotProcess {
  url: string;
  apiKey: string;
  deployment: string;
  stop(): Promise<void>;
}

export async function startIngot(opts: { modelPath: string; threads: number; sequences: number; contextLength: number; engine?: "src"; env?: Record<string, string> }): Promise<IngotProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "ingot-bench-"));
  // The experiments start Ingot without bench/run.ts having made the cache's folders.
  mkdirSync(LOGS_DIR, { recursive: true });
  const options: IngotServerOptions = {
    dataDir,
    apiKey: randomBytes(16).toString("hex"),
    threads: opts.threads,
    sequences: opts.sequences,
    logLevel: "warn",
    modelPath: opts.modelPath,
    contextLength: opts.contextLength,
    engine: opts.engine ?? "src",
  };
  const server = start(process.execPath, ["--no-warnings", ENTRY, JSON.stringify(options)], {
    stdio: ["pipe", "pipe", "pipe"],
    logFile: join(LOGS_DIR, "ingot-server.log"),
    env: { ...process.env, ...opts.env },
  });
  const cleanup = async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("Ingot did not become ready within 180 s")), 180_000);
      server.child.stdout?.on("data", (d: Buffer) => {
        out += d.toString("utf8");
        const m = /READY (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void server.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`Ingot exited before ready (${code}); see ${join(LOGS_DIR, "ingot-server.log")}`));
      });
    });
    return { url, apiKey: options.apiKey, deployment: BENCH_DEPLOYMENT, stop: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
