// Starts a real Ingot server (real SQLite, real files, real llama.cpp runners) on a free
// loopback port for one test file, and hands out official clients pointed at it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import tls from "node:tls";
import { join } from "node:path";
import OpenAI, { AzureOpenAI } from "openai";
import { createIngot } from "../../src/app.ts";
import type { Ingot, IngotOptions } from "../../src/app.ts";

export const API_KEY = "0123456789abcdef0123456789abcdef";
export const API_VERSION = "2024-10-21";

export interface TestServer {
  ingot: Ingot;
  url: string;
  dataDir: string;
  azure(opts?: { deployment?: string; apiVersion?: string }): AzureOpenAI;
  v1(): OpenAI;
  project(name?: string): OpenAI;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

/** The test certificate (localhost, 127.0.0.1). */
export const TEST_TLS = {
  cert: readFileSync(new URL("../fixtures/tls/cert.pem", import.meta.url), "utf8"),
  key: readFileSync(new URL("../fixtures/tls/key.pem", import.meta.url), "utf8"),
};

/** Makes this process trust the test certificate, as a user would add Ingot's certificate to their trust store. */
export function trustTestCertificate(): void {
  const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s+/g, "");
  const current = tls.getCACertificates("default");
  if (!current.some((c) => body(c) === body(TEST_TLS.cert))) tls.setDefaultCACertificates([...current, TEST_TLS.cert]);
}

export async function startServer(
  opts: Pick<
    IngotOptions,
    "skipApiVersionCheck" | "streamIntervalMs" | "extraModels" | "extraDeployments" | "clock" | "deploymentPolicy" | "modelsBaseUrl" | "maxFileBytes" | "allowPrivateImportUrls" | "importLookup"
    | "loadTimeoutMs" | "reconcilerTiming" | "expirySweepIntervalMs" | "datasetInspectionTimeoutMs" | "otlpEndpoint"
    | "catalogDirs" | "databaseUrl"
  > & { dataDir?: string; https?: boolean } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "ingot-e2e-"));
  const { https, ...options } = opts;
  if (https) trustTestCertificate();
  // INGOT_TEST_DATABASE_URL (test/e2e/postgres.test.ts): each data dir gets its own PostgreSQL database, kept across restarts on that dir.
  const databaseUrl = options.databaseUrl ?? (await testDatabaseFor(dataDir));
  const ingot = createIngot({ ...options, ...(databaseUrl ? { databaseUrl } : {}), dataDir, apiKey: API_KEY, threads: 1, sequences: 8, logLevel: "warn", tls: https ? TEST_TLS : undefined });
  const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  await ingot.ready;
  return {
    ingot,
    url,
    dataDir,
    azure: (o = {}) => new AzureOpenAI({ endpoint: url, apiKey: API_KEY, apiVersion: o.apiVersion ?? API_VERSION, deployment: o.deployment, maxRetries: 0 }),
    v1: () => new OpenAI({ baseURL: `${url}/openai/v1`, apiKey: API_KEY, maxRetries: 0 }),
    project: (name = "demo") => new OpenAI({ baseURL: `${url}/api/projects/${name}/openai/v1`, apiKey: API_KEY, maxRetries: 0 }),
    post: (path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": API_KEY, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    async stop() {
      await ingot.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const testDatabases = new Map<string, string>();

/** With INGOT_TEST_DATABASE_URL set: a fresh database on that server for `dataDir` (the same one again for the same dir). */
async function testDatabaseFor(dataDir: string): Promise<string | undefined> {
  const server = process.env.INGOT_TEST_DATABASE_URL;
  if (!server) return undefined;
  let url = testDatabases.get(dataDir);
  if (!url) {
    const name = `e2e_${process.pid}_${testDatabases.size}_${Date.now().toString(36)}`;
    const { default: pg } = await import("pg");
    const c = new pg.Client({ connectionString: server });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    const u = new URL(server);
    u.pathname = `/${name}`;
    url = u.toString();
    testDatabases.set(dataDir, url);
  }
  return url;
}

/** Response body as loosely typed JSON, for assertions on raw HTTP replies. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = async (res: Response): Promise<any> => res.json();

/** Resolves with the first match of `pattern` in what `stream` writes. */
export function waitForOutput(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output: ${seen}`)), timeoutMs);
    stream.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const m = seen.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}
