// Ingot composed as src/app.ts composes it, plus one catalog model whose weights are a
// local GGUF file (Ingot's catalog only deploys built-in models so far) and one
// deployment of it. Same store, engine, generation service, HTTP server and reconciler.
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { AccountService } from "../src/core/accounts/keys.ts";
import { Catalog } from "../src/core/catalog/catalog.ts";
import type { CatalogModel } from "../src/core/catalog/catalog.ts";
import { Reconciler } from "../src/core/deployments/reconciler.ts";
import { DeploymentService } from "../src/core/deployments/service.ts";
import { GenerationService } from "../src/core/generation/service.ts";
import type { ModelFiles, ModelRef } from "../src/core/ports.ts";
import { LlamaCppEngine } from "../src/engines/llamacpp/engine.ts";
import type { AppContext } from "../src/http/context.ts";
import { IngotMetrics } from "../src/http/ops/metrics.ts";
import { buildServer } from "../src/http/server.ts";
import { SqliteStore } from "../src/store/sqlite/store.ts";

export const BENCH_FORMAT = "IngotBench";
const LOCAL_PREFIX = "file:";

export interface BenchIngotOptions {
  dataDir: string;
  apiKey: string;
  threads: number;
  sequences: number;
  logLevel: string;
  /** The deployment (and catalog model) name requests use as `model`. */
  deployment: string;
  modelPath: string;
  /** Context window per sequence. */
  contextLength: number;
}

/** ModelFiles for `file:<absolute path>` weights: the file is used where it lies. */
export class LocalPathModelFiles implements ModelFiles {
  #catalog: Catalog;
  #hashes = new Map<string, Promise<string>>();

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  async ensure(ref: ModelRef): Promise<{ path: string; sha256: string }> {
    const { weights } = this.#catalog.find(ref);
    if (!weights.startsWith(LOCAL_PREFIX)) throw new Error(`bench harness only serves ${LOCAL_PREFIX} weights, not '${weights}'`);
    const path = weights.slice(LOCAL_PREFIX.length);
    let hash = this.#hashes.get(path);
    if (!hash) this.#hashes.set(path, (hash = sha256File(path)));
    return { path, sha256: await hash };
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

export function benchCatalogModel(name: string, modelPath: string, contextLength: number): CatalogModel {
  return {
    format: BENCH_FORMAT,
    name,
    version: "1",
    capabilities: ["chatCompletion", "completion"],
    contextLength,
    weights: `${LOCAL_PREFIX}${modelPath}`,
    skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 10000, defaultCapacity: 1000 }],
    lifecycleStatus: "GenerallyAvailable",
    license: "MIT",
  };
}

export function createBenchIngot(options: BenchIngotOptions): { app: FastifyInstance; ready: Promise<void>; close(): Promise<void> } {
  mkdirSync(options.dataDir, { recursive: true });
  const store = new SqliteStore(join(options.dataDir, "ingot.db"));
  const catalog = new Catalog([benchCatalogModel(options.deployment, options.modelPath, options.contextLength)]);
  const accounts = new AccountService(store);
  const { account } = accounts.ensureDefaultAccount(options.apiKey);
  const deployments = new DeploymentService(store, catalog);
  // Only the bench deployment: the built-in defaults would start runners of their own.
  const now = Date.now();
  store.putDeployment({
    account: account.name,
    name: options.deployment,
    model: { format: BENCH_FORMAT, name: options.deployment, version: "1" },
    sku: { name: "GlobalStandard", capacity: 1000 },
    state: "Creating",
    error: null,
    createdAt: now,
    updatedAt: now,
  });

  let app: FastifyInstance | undefined;
  const log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => app?.log[level](fields ?? {}, msg);
  const engine = new LlamaCppEngine({ threads: options.threads, sequences: options.sequences, log });
  const metrics = new IngotMetrics(engine);
  const generation = new GenerationService(engine, deployments, metrics);
  let reconciled = false;
  const ctx: AppContext = {
    generation,
    accounts,
    deployments,
    catalog,
    engine,
    metrics,
    settings: { skipApiVersionCheck: false, bodyLimit: 4 * 1024 * 1024 },
    isReady: () => reconciled,
  };
  app = buildServer(ctx, { level: options.logLevel });
  const reconciler = new Reconciler({ deployments, catalog, engine, files: new LocalPathModelFiles(catalog), log: (m, f) => log("info", m, f) });
  const ready = reconciler.reconcileAll().then(() => {
    reconciled = true;
    const d = store.getDeployment(account.name, options.deployment);
    if (d?.state !== "Succeeded") throw new Error(`bench deployment failed: ${d?.error ?? d?.state}`);
  });
  return {
    app,
    ready,
    async close() {
      await app.close();
      await engine.close();
      store.close();
    },
  };
}
