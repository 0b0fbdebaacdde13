// Composition root: wires the store, catalog, engine and services, and runs startup
// reconciliation. `ingot up` and the end-to-end tests both start Ingot through here.
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { AccountService } from "./core/accounts/keys.ts";
import { Catalog } from "./core/catalog/catalog.ts";
import type { CatalogModel } from "./core/catalog/catalog.ts";
import type { ModelRef } from "./core/ports.ts";
import { Reconciler } from "./core/deployments/reconciler.ts";
import { DeploymentService } from "./core/deployments/service.ts";
import { GenerationService } from "./core/generation/service.ts";
import { LlamaCppEngine } from "./engines/llamacpp/engine.ts";
import type { AppContext } from "./http/context.ts";
import { IngotMetrics } from "./http/ops/metrics.ts";
import { buildServer } from "./http/server.ts";
import { LocalModelFiles } from "./models/model-files.ts";
import { SqliteStore } from "./store/sqlite/store.ts";

export interface IngotOptions {
  dataDir: string;
  apiKey?: string;
  skipApiVersionCheck?: boolean;
  /** llama.cpp compute threads per runner. Never more than free cores: spinning threads collapse throughput. */
  threads?: number;
  /** Parallel sequences per loaded model. */
  sequences?: number;
  logLevel?: string;
  bodyLimit?: number;
  /** Catalog entries beyond the shipped catalog/ (e.g. a local GGUF as `weights: "file:/path"`). */
  extraModels?: CatalogModel[];
  /** Deployments of the default account to create at startup, beyond tiny-chat and tiny-embed. */
  extraDeployments?: { name: string; model: ModelRef; sku?: { name: string; capacity: number } }[];
  /** Milliseconds since the epoch; tests inject a clock to step through rate-limit windows and expiry rules. */
  clock?: () => number;
}

export interface Ingot {
  app: FastifyInstance;
  /** Keys generated at this start (only on first start). */
  generatedKeys: Record<string, string>;
  /** Settles when every deployment has been reconciled. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const CATALOG_DIR = fileURLToPath(new URL("../catalog/", import.meta.url));

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export function createIngot(options: IngotOptions): Ingot {
  mkdirSync(join(options.dataDir, "models"), { recursive: true });
  const store = new SqliteStore(join(options.dataDir, "ingot.db"));
  const shipped = Catalog.fromDirectory(CATALOG_DIR);
  const catalog = new Catalog([...shipped.models, ...(options.extraModels ?? [])]);
  const accounts = new AccountService(store);
  const { account, generated } = accounts.ensureDefaultAccount(options.apiKey);
  const deployments = new DeploymentService(store, catalog);
  deployments.ensureDefaults(account.name, options.extraDeployments);

  let app: FastifyInstance | undefined;
  const log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => app?.log[level](fields ?? {}, msg);
  const engine = new LlamaCppEngine({ threads: options.threads ?? defaultThreads(), sequences: options.sequences ?? 8, log });
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
    settings: { skipApiVersionCheck: options.skipApiVersionCheck ?? false, bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024 },
    isReady: () => reconciled,
  };
  app = buildServer(ctx, { level: options.logLevel ?? "info" });
  const reconciler = new Reconciler({ deployments, catalog, engine, files: new LocalModelFiles(catalog, join(options.dataDir, "models")), log: (m, f) => log("info", m, f) });
  const ready = reconciler.reconcileAll().then(() => {
    reconciled = true;
  });

  return {
    app,
    generatedKeys: generated,
    ready,
    async close() {
      await app.close();
      await engine.close();
      store.close();
    },
  };
}
