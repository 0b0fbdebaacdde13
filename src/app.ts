// Composition root: wires the store, catalog, engine and services, and runs startup
// reconciliation. `ingot up` and the end-to-end tests both start Ingot through here.
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { AccountService } from "./core/accounts/service.ts";
import { AccountModels } from "./core/catalog/account-models.ts";
import { Catalog } from "./core/catalog/catalog.ts";
import type { CatalogModelInput } from "./core/catalog/catalog.ts";
import type { ModelRef } from "./core/ports/index.ts";
import { Reconciler } from "./core/deployments/reconciler.ts";
import type { ReconcilerTiming } from "./core/deployments/reconciler.ts";
import { DeploymentService } from "./core/deployments/service.ts";
import { FileService } from "./core/files/service.ts";
import { resolveHyperparameters } from "./core/finetuning/auto.ts";
import { JobService } from "./core/finetuning/jobs.ts";
import { SqliteJobStore } from "./store/sqlite/job-store.ts";
import { LlamaCppTrainer } from "./trainers/llamacpp/trainer.ts";
import type { DeploymentPolicy } from "./core/deployments/service.ts";
import { IdentityService } from "./core/identity/service.ts";
import { SignInCodes } from "./core/identity/signin-codes.ts";
import { SqliteIdentityStore } from "./store/sqlite/identity-store.ts";
import { usageSinks } from "./core/generation/service.ts";
import { ModelRouter } from "./core/router/router.ts";
import { TracedGenerationService } from "./core/generation/traced.ts";
import { noTracing } from "./core/ports/index.ts";
import type { Tracing } from "./core/ports/index.ts";
import { tracedEngine } from "./engines/traced-engine.ts";
import { OtlpTracing } from "./telemetry/otel.ts";
import { UsageService } from "./core/usage/service.ts";
import { ProjectService } from "./core/accounts/projects.ts";
import { SqliteProjectStore } from "./store/sqlite/project-store.ts";
import { SqliteProjectDataStore } from "./store/sqlite/project-data-store.ts";
import { ConnectionService } from "./core/projects/connections.ts";
import { DatasetService } from "./core/projects/datasets.ts";
import { projectStorage } from "./core/projects/storage.ts";
import { SqliteUsageStore } from "./store/sqlite/usage-store.ts";
import { deploymentChangeKey, openSharedState, wireChanges } from "./shared-state.ts";
import { LlamaCppEngine } from "./engines/llamacpp/engine.ts";
import { UpstreamEngine } from "./engines/upstream/engine.ts";
import { EngineSwitch } from "./engines/upstream/switch.ts";
import type { AppContext } from "./http/context.ts";
import { IngotMetrics } from "./http/ops/metrics.ts";
import { buildOpsServer, buildServer } from "./http/server.ts";
import type { ServerTimeouts } from "./http/server.ts";
import { ensurePrivateDir, ensurePrivateFile } from "./lib/private-files.ts";
import { publishLocalCredential, replicaLocalAdminName } from "./local-credential.ts";
import { CatalogAdmin } from "./models/catalog-admin.ts";
import { SharedModels } from "./core/catalog/shared-models.ts";
import { LocalModelFiles } from "./models/model-files.ts";
import { SqliteModelRegistry } from "./store/sqlite/model-registry-store.ts";
import { SqliteStore } from "./store/sqlite/store.ts";
import { databaseHealth, openPostgresStore, ResilientUsageStore, survivesDatabaseOutages } from "./store/sql/open.ts";
import { SqliteFileStore } from "./store/sqlite/file-store.ts";
import { FsBlobStore } from "./store/blobs/fs-blob-store.ts";
import { AzureBlobStore } from "./store/blobs/azure-blob-store.ts";
import { SharedJobFiles } from "./store/blobs/shared-job-files.ts";
import { checkUrl, openDownload } from "./lib/url-download.ts";
import type { ResolvedAddress } from "./lib/url-download.ts";
import { WorkspaceService } from "./core/ml/workspaces.ts";
import { SqliteWorkspaceStore } from "./store/sqlite/workspace-store.ts";
import { AccountBackedWorkspaceAccounts } from "./core/ml/workspace-accounts.ts";
import { MarketplaceService } from "./core/ml/marketplace.ts";
import { Registries } from "./core/ml/registries.ts";
import { SqliteMarketplaceSubscriptionStore } from "./store/sqlite/marketplace-store.ts";
import { OnlineEndpointService } from "./core/ml/online.ts";
import type { WorkspaceModelResolver } from "./core/ml/online.ts";
import { SqliteOnlineEndpointStore } from "./store/sqlite/online-store.ts";
import { MlJobService } from "./core/ml/jobs.ts";
import { MlModelService } from "./core/ml/models.ts";
import { SqliteMlJobStore } from "./store/sqlite/ml-job-store.ts";
import { ServerlessService } from "./core/ml/serverless.ts";
import { SqliteServerlessEndpointStore } from "./store/sqlite/serverless-store.ts";
import { accountId } from "./http/arm/shapes.ts";
import { RaiPolicyService } from "./core/safety/policies.ts";
import { RaiBlocklistService } from "./core/safety/blocklists.ts";
import { SqliteRaiStore } from "./store/sqlite/rai-store.ts";
import { ResponseService } from "./core/responses/service.ts";
import { SqliteResponseStore } from "./store/sqlite/response-store.ts";
import { BatchService } from "./core/batch/service.ts";
import { SqliteBatchStore } from "./store/sqlite/batch-store.ts";
import { batchLineExecutor } from "./http/openai/batches-exec.ts";
import { ContentFilter, serverlessContentSafetyOff } from "./core/safety/filter.ts";
import { GuardModelClassifier } from "./core/safety/guard-model.ts";
import { EmbeddedClassifier } from "./core/safety/classifier/index.ts";
import { loadProtectedMaterialDir, ProtectedMaterial } from "./core/safety/protected-material.ts";
import { ContentSafetyService } from "./core/safety/content-safety.ts";
import { MlDataService } from "./core/ml/data.ts";
import { DatastoreService } from "./core/ml/datastores.ts";
import { BlobService } from "./core/ml/blobs.ts";
import { SqliteMlDataStore } from "./store/sqlite/ml-data-store.ts";

export interface IngotOptions {
  dataDir: string;
  /** postgres://… : keep all state in that PostgreSQL database instead of DATA_DIR/ingot.db (issue 16). */
  databaseUrl?: string;
  /** redis://… : rate limits shared by all replicas and change notifications between them (issue 16); absent: in memory, this process only. */
  redisUrl?: string;
  /** An Azure Storage connection string: files' content (uploads, imports, results) and Azure ML data blobs in that account, shared by all replicas, cached under DATA_DIR/blobs/cache; absent: DATA_DIR/blobs. */
  blobStore?: string;
  /** Texts the content filter's protected-material check knows (.txt files); default DATA_DIR/protected-material. */
  protectedMaterialDir?: string;
  apiKey?: string;
  skipApiVersionCheck?: boolean;
  /** llama.cpp compute threads per runner. Never more than free cores: spinning threads collapse throughput. */
  threads?: number;
  /** Parallel sequences per loaded model. */
  sequences?: number;
  /** Streamed text leaves a runner at most this often, coalesced (default DEFAULT_STREAM_INTERVAL_MS; 0: every token at once). */
  streamIntervalMs?: number;
  logLevel?: string;
  /** Where log lines go (default stdout); tests capture them. */
  logStream?: { write(line: string): void };
  /** Header, request, keep-alive and upload-stall timeouts (http/server.ts DEFAULT_TIMEOUTS). */
  timeouts?: ServerTimeouts;
  /** Serve /metrics and detailed /readyz without credentials on this address (`listenMetrics()`); absent: no such listener. */
  metricsAddress?: { host: string; port: number };
  bodyLimit?: number;
  /** Catalog entries beyond the shipped catalog/ (e.g. a local GGUF as `weights: "file:/path"`). */
  extraModels?: CatalogModelInput[];
  /** More catalog directories (`ingot up --catalog-dir`, repeatable): `*.json` files in the shipped format, e.g. upstream models. */
  catalogDirs?: string[];
  /** How often upstream endpoints are health-checked (default 5 s). */
  upstreamHealthIntervalMs?: number;
  /** Deployments of the default account to create at startup, beyond tiny-chat and tiny-embed. */
  extraDeployments?: { name: string; model: ModelRef; sku?: { name: string; capacity: number } }[];
  /** Quota per usage name, idle-deletion period and DeveloperTier lifetime (defaults: 2,000 units, 15 days, 24 hours). */
  deploymentPolicy?: Partial<DeploymentPolicy>;
  /** HTTPS with this PEM certificate and key (Azure SDKs send bearer tokens only over https). */
  tls?: { cert: string; key: string };
  /** Where hf: weights download from (default: env HF_ENDPOINT, else https://huggingface.co). */
  modelsBaseUrl?: string;
  /** Compute threads of a training job (default 1: training spins its threads; never more than free cores). */
  trainingThreads?: number;
  /** Fine-tuning jobs running at once (default 1); the rest queue. */
  maxRunningJobs?: number;
  /** A runner that has not loaded its model after this long is killed and the deployment fails (default 5 minutes). */
  loadTimeoutMs?: number;
  /** Tokenizing a fine-tuning dataset against its base model may take this long (default 10 minutes); then the job fails. */
  datasetInspectionTimeoutMs?: number;
  /** How often expiry rules (idle fine-tuned deployments, DeveloperTier, expired files) run (default 60 s). Reads never expire anything. */
  expirySweepIntervalMs?: number;
  /** Retry backoff of failed deployments, the reconciler's loop interval and the readiness grace (core/deployments/reconciler.ts). */
  reconcilerTiming?: Partial<ReconcilerTiming>;
  /** Milliseconds since the epoch; tests inject a clock to step through rate-limit windows and expiry rules. */
  clock?: () => number;
  /** Largest file an upload or import may hold (default 512 MB, as Azure). */
  maxFileBytes?: number;
  /** File imports may fetch plain http and loopback, private, link-local and metadata addresses (off: SSRF protection). */
  allowPrivateImportUrls?: boolean;
  /** DNS for file imports (default: the system resolver); tests map names to addresses with it. */
  importLookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Send OpenTelemetry traces (OTLP/HTTP) to this collector (base URL, or its /v1/traces); absent: no tracing. */
  otlpEndpoint?: string;
}

export interface Ingot {
  app: FastifyInstance;
  /** Keys generated at this start (only on first start). */
  generatedKeys: Record<string, string>;
  /** Settles when every deployment has been reconciled. */
  ready: Promise<void>;
  /** The core services, for in-process callers (tests, the portal's server side). */
  identity: IdentityService;
  /** One-time portal sign-in codes: `ingot up` prints a link with one. */
  signInCodes: SignInCodes;
  accounts: AccountService;
  deployments: DeploymentService;
  files: FileService;
  jobs: JobService;
  catalog: Catalog;
  /** Azure ML services for in-process callers (tests): the workspaces and data resolution. */
  ml: Pick<AppContext, "workspaces" | "mlData" | "mlDatastores">;
  /** Content-filter policies and blocklists (issue 14), for in-process callers. */
  rai: AppContext["rai"];
  /** Starts the --metrics-address listener; its URL, or undefined when none is configured or the address is busy (logged). */
  listenMetrics(): Promise<string | undefined>;
  close(): Promise<void>;
}

const CATALOG_DIR = fileURLToPath(new URL("../catalog/", import.meta.url));

/**
 * Streamed text is coalesced over this many ms on its way from a runner (first token at
 * once) and leaves as one chunk: one wakeup of the server and the client per interval
 * instead of per token. Each such wakeup cost ~0.8 ms of CPU (server and client together)
 * taken from decoding when its threads fill the cores: at 20 ms, 2-thread SmolLM2-135M on 2
 * cores ran at 0.94 of llama-bench, at 50 ms 0.98 (bench/README.md). 20 updates a second still
 * read as a smooth stream; Azure's default streaming returns coarser buffered chunks.
 */
export const DEFAULT_STREAM_INTERVAL_MS = 50;

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export function createIngot(options: IngotOptions): Ingot {
  // The data dir holds account keys and the signing key: the owner's only (lib/private-files.ts).
  const permissionNotes = [ensurePrivateDir(options.dataDir)];
  mkdirSync(join(options.dataDir, "models"), { recursive: true });
  const dbPath = join(options.dataDir, "ingot.db");
  // PostgreSQL (issue 16): all state in that database; the data dir keeps files and models.
  const store = options.databaseUrl
    ? (survivesDatabaseOutages((msg, fields) => log("warn", msg, fields)),
      openPostgresStore(options.databaseUrl, { onAvailability: (up, detail) => log(up ? "info" : "error", up ? "database reachable again" : "database unreachable: writes answer 503 until it is back", { detail }) }))
    : (() => {
        // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database's mode.
        permissionNotes.push(ensurePrivateFile(dbPath, true));
        const sqlite = new SqliteStore(dbPath);
        permissionNotes.push(...["-wal", "-shm"].map((suffix) => ensurePrivateFile(dbPath + suffix)));
        return sqlite;
      })();
  // Shipped entries, in-code entries (validated like catalog files) and registered models (live, from the store).
  const catalog = new Catalog(
    [...Catalog.readDirectory(CATALOG_DIR), ...(options.catalogDirs ?? []).flatMap((dir) => Catalog.readDirectory(dir)), ...Catalog.validateEntries(options.extraModels ?? [], "extraModels")],
    new SqliteModelRegistry(store.database, options.clock),
  );
  const clock = options.clock ?? Date.now;
  const identity = new IdentityService(new SqliteIdentityStore(store.database), { clock });
  identity.ensureDefaults();
  const accounts = new AccountService(store, { clock });
  const { account, generated } = accounts.ensureDefaultAccount(options.apiKey);
  const deployments = new DeploymentService(store, catalog, { clock, policy: options.deploymentPolicy, ownerOf: (ref) => catalog.ownerOf(ref) });
  deployments.ensureDefaults(account.name, options.extraDeployments);
  const importPolicy = { allowPrivate: options.allowPrivateImportUrls ?? false, lookup: options.importLookup };
  const fileService = new FileService(
    new SqliteFileStore(store.database),
    options.blobStore
      ? new AzureBlobStore(options.blobStore, "files", join(options.dataDir, "blobs", "cache", "files"), { log: (m, f) => log("warn", m, f) })
      : new FsBlobStore(join(options.dataDir, "blobs", "files")),
    { check: async (url) => { const checked = await checkUrl(url, importPolicy); return () => openDownload(checked, importPolicy); } },
    { maxBytes: options.maxFileBytes, clock, log: (level, msg, fields) => log(level, msg, fields) },
  );
  fileService.resume();
  // Deleting an account takes its deployments with it (their models unload if unused), and its files.
  const projects = new ProjectService(new SqliteProjectStore(store.database), clock);
  // Content-filter policies and blocklists; a policy a deployment names cannot be deleted.
  const raiStore = new SqliteRaiStore(store.database);
  const rai = {
    policies: new RaiPolicyService(raiStore, {
      clock,
      deploymentsUsing: (acct: string, policy: string) =>
        deployments.list(acct).filter((d) => (d.options?.raiPolicyName ?? "Microsoft.DefaultV2").toLowerCase() === policy.toLowerCase()).map((d) => d.name),
    }),
    blocklists: new RaiBlocklistService(raiStore, { clock }),
  };
  const responses = new ResponseService(new SqliteResponseStore(store.database), { clock });
  accounts.setBeforeDelete((name) => {
    for (const d of deployments.list(name)) deployments.delete(name, d.name);
    fileService.deleteAll(name).catch((e: Error) => log("error", "deleting the files of a deleted account failed", { account: name, err: e.message }));
    projects.deleteAll(name);
    rai.blocklists.deleteAll(name); // the account's policies, blocklists and items
    rai.policies.forgetAccount(name);
    responses.deleteAll(name);
    ctx.batches?.deleteAll(name);
  });

  let app: FastifyInstance | undefined;
  const log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => app?.log[level](fields ?? {}, msg);
  const llamaEngine = new LlamaCppEngine({
    threads: options.threads ?? defaultThreads(),
    sequences: options.sequences ?? 8,
    streamIntervalMs: options.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS,
    loadTimeoutMs: options.loadTimeoutMs,
    log,
  });
  // Models with an upstream (catalog "engine": "upstream") run on their OpenAI-compatible server instead.
  const engine = new EngineSwitch(llamaEngine, new UpstreamEngine({ log, healthIntervalMs: options.upstreamHealthIntervalMs }));
  const metrics = new IngotMetrics(engine);
  const usage = new UsageService(new ResilientUsageStore(new SqliteUsageStore(store.database)), clock);
  // One request's choices take at most half of a model's sequences at once: others keep a turn.
  // Traces (off unless an OTLP endpoint is given): an HTTP server span, a generation span, an engine span.
  const tracing: Tracing = options.otlpEndpoint ? new OtlpTracing({ endpoint: options.otlpEndpoint }) : noTracing;
  // Model-router deployments pick among the account's chat deployments (core/router); it learns each model's speed from usage.
  const router = new ModelRouter({ deployments, catalog, metrics, log: (msg, fields) => log("warn", msg, fields) });
  // Rate limits and change notifications shared with other replicas (--redis), else this process's own.
  const shared = openSharedState({ redisUrl: options.redisUrl, clock: options.clock, log });
  const generation = new TracedGenerationService(tracing, options.otlpEndpoint ? tracedEngine(engine, tracing) : engine, deployments, usageSinks(metrics, usage, router), shared.limiter, {
    parallelPerRequest: Math.ceil((options.sequences ?? 8) / 2),
    router,
  });
  // Fine-tuning outputs (adapters, checkpoints) shared with the other replicas through --blob-store.
  const jobFiles = options.blobStore ? new SharedJobFiles(options.blobStore, options.dataDir, { log: (m, f) => log("warn", m, f) }) : undefined;
  const modelFiles = new LocalModelFiles(catalog, join(options.dataDir, "models"), { baseUrl: options.modelsBaseUrl, ...(jobFiles ? { resolveAdapter: (p: string) => jobFiles.resolve(p) } : {}) });
  const jobs = new JobService({
    store: new SqliteJobStore(store.database),
    files: fileService,
    catalog,
    modelFiles,
    trainer: new LlamaCppTrainer({ inspectTimeoutMs: options.datasetInspectionTimeoutMs }),
    resolveHyperparameters,
    jobDir: (id) => join(options.dataDir, "blobs", "jobs", id),
    ...(jobFiles ? { resolveOutput: (p: string) => jobFiles.resolve(p) } : {}),
    threads: options.trainingThreads ?? 1,
    maxRunning: options.maxRunningJobs,
    // On SQLite this process is the only one: a fixed id takes its jobs back at once after a restart.
    ...(options.databaseUrl ? {} : { replicaId: "local" }),
    clock,
    log: (m, f) => log("info", m, f),
  });
  const sequences = options.sequences ?? 8;
  const reconciler = new Reconciler({ deployments, catalog, engine, files: modelFiles, sequences, clock, timing: {
      // The reconciler's backstop for any load that never settles stays above the engine's own limit.
      ...(options.loadTimeoutMs ? { loadTimeoutMs: Math.max(600_000, 2 * options.loadTimeoutMs) } : {}),
      ...options.reconcilerTiming,
    }, log: (m, f) => log("info", m, f) });
  const signInCodes = new SignInCodes({ clock });
  // Azure ML's data plane: names and metadata in SQLite, blob content under DATA_DIR/blobs/ml.
  const mlDataStore = new SqliteMlDataStore(store.database);
  const projectData = new SqliteProjectDataStore(store.database);
  const mlBlobs = new BlobService(
    mlDataStore,
    options.blobStore ? new AzureBlobStore(options.blobStore, "ml", join(options.dataDir, "blobs", "cache", "ml"), { log: (m, f) => log("warn", m, f) }) : new FsBlobStore(join(options.dataDir, "blobs", "ml")),
    { clock },
  );
  const mlDatastores = new DatastoreService(mlDataStore, mlBlobs, { clock });
  // Azure ML FineTuning jobs and workspace models: views over the fine-tuning jobs and custom models of each workspace's backing account.
  const mlJobStore = new SqliteMlJobStore(store.database);
  const mlModels = new MlModelService({
    store: mlJobStore,
    catalogHas: (ref) => catalog.models.some((m) => m.format === ref.format && m.name === ref.name && m.version === ref.version),
    workspaceById: (id) => ctx.workspaces.getByWorkspaceId(id),
    workspaceByPath: (sub, rg, name) => ctx.workspaces.get(sub, rg, name),
    clock,
  });
  const mlJobs = new MlJobService({
    store: mlJobStore,
    models: mlModels,
    registries: new Registries(catalog, account.location),
    jobs,
    files: fileService,
    resolveData: (w, uri) => ctx.mlData.resolve(w, uri),
    accountOf: (w) => w.account,
    workspaceById: (id) => ctx.workspaces.getByWorkspaceId(id),
    customModel: (owner, name) => {
      const m = catalog.models.find((x) => x.name === name && x.baseModel && catalog.ownerOf(x) === owner);
      return m && { format: m.format, name: m.name, version: m.version };
    },
    clock,
    log: (m, f) => log("warn", m, f),
  });
  jobs.onFinished((j) => mlJobs.finished(j));
  if (jobFiles) {
    jobs.onFinished((j) => void jobFiles.syncUp(j.id));
    jobFiles.start();
  }
  const ctx: AppContext = {
    generation,
    identity,
    signInCodes,
    modelOwner: (ref) => catalog.ownerOf(ref),
    accounts,
    projects,
    projectConnections: new ConnectionService(projectData, clock),
    projectDatasets: new DatasetService(projectData, projectStorage(mlDataStore, mlBlobs, clock), clock),
    // Azure ML workspaces live where the default account does: Ingot's one location.
    workspaces: new WorkspaceService(new SqliteWorkspaceStore(store.database), { defaultLocation: account.location, accounts: new AccountBackedWorkspaceAccounts(accounts), clock }),
    marketplace: new MarketplaceService(new SqliteMarketplaceSubscriptionStore(store.database), new Registries(catalog, account.location), { clock }),
    online: new OnlineEndpointService({
      store: new SqliteOnlineEndpointStore(store.database),
      records: deployments,
      registries: new Registries(catalog, account.location),
      findModel: (ref) => catalog.find(ref),
      // Fine-tuned workspace models, where this build serves them (ctx.mlModels).
      workspaceModels: () => (ctx as Partial<{ mlModels: WorkspaceModelResolver }>).mlModels,
      workspaceById: (id) => ctx.workspaces.getByWorkspaceId(id),
      clock,
    }),
    mlBlobs,
    mlDatastores,
    mlData: new MlDataService(mlDataStore, mlDatastores, mlBlobs, { clock }),
    serverless: new ServerlessService({
      store: new SqliteServerlessEndpointStore(store.database),
      registries: new Registries(catalog, account.location),
      marketplace: { hasMarketplaceSubscription: (w, id) => ctx.marketplace.hasMarketplaceSubscription(w, id), list: (w) => ctx.marketplace.list(w) },
      deployments,
      catalog,
      resolveWorkspaceModel: (id) => ctx.mlModels.resolveModelId(id),
      accountArmId: (name) => {
        const a = accounts.get(name);
        return a && accountId(a);
      },
      clock,
    }),
    mlJobs,
    mlModels,
    deployments,
    jobs,
    files: fileService,
    catalog,
    models: new AccountModels(catalog, deployments, modelFiles),
    catalogAdmin: new CatalogAdmin(catalog, new SharedModels(catalog, deployments), modelFiles, join(options.dataDir, "models")),
    weightsStatus: (m) => modelFiles.status(m),
    engine,
    metrics,
    usage,
    settings: { skipApiVersionCheck: options.skipApiVersionCheck ?? false, bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024 },
    rai,
    responses,
    readiness: () => reconciler.readiness(),
    sharedState: () => ({ ...shared.health(), ...databaseHealth(store.database) }),
    tracing: options.otlpEndpoint ? tracing : undefined,
  };
  // A workspace's datastores, data assets, storage account and blob content go with it (the rows at once, the files just after).
  ctx.workspaces.onDelete((w) => void ctx.mlData.deleteWorkspace(w).catch((err) => log("warn", "could not remove a deleted workspace's blob content", { workspace: w.name, err })));
  // Content filtering of every generation surface (issue 14): the deployment's RAI policy, the
  // embedded classifier (or the chat deployment a deployment's ingot-guard-deployment tag names),
  // the account's blocklists, the operator's protected material (DATA_DIR/protected-material/*.txt).
  const classifier = new EmbeddedClassifier();
  const protectedMaterial = new ProtectedMaterial(loadProtectedMaterialDir(options.protectedMaterialDir ?? join(options.dataDir, "protected-material")));
  ctx.safety = new ContentFilter({
    policies: ctx.rai.policies,
    blocklists: ctx.rai.blocklists,
    classifier,
    protectedMaterial,
    deployments,
    filteringOff: (d) =>
      serverlessContentSafetyOff(d, (sub, rg, ws, name) => {
        const w = ctx.workspaces.get(sub, rg, ws);
        return w && ctx.serverless.get(w, name);
      }),
    guard: (acct, name) => new GuardModelClassifier(generation, acct, name),
    metrics: { filtered: (e) => (metrics.filtered(e), usage.filtered(e)), classifierError: (e) => metrics.classifierError(e) },
    log: (msg, fields) => log("warn", msg, fields),
  });
  // The Content Safety data plane answers with the same classifier, protected material and blocklists.
  ctx.contentSafety = new ContentSafetyService({ classifier, protectedMaterial, blocklists: ctx.rai.blocklists });
  // The Batch API (core/batch): lines run through the online generation and content-filter path,
  // at low priority on the batch deployment's runner (idle sequences only, online requests first).
  const batches = new BatchService({
    store: new SqliteBatchStore(store.database),
    files: fileService,
    deployments,
    execute: batchLineExecutor(ctx),
    load: (key) => {
      const s = engine.status().find((x) => x.key === key);
      return s && s.state === "ready" ? { active: s.activeSequences, queued: s.queuedRequests } : undefined;
    },
    sequences,
    clock,
    log,
  });
  ctx.batches = batches;
  // A workspace's serverless endpoints (their deployments and keys) go before it does.
  ctx.workspaces.onDelete((w) => ctx.serverless.deleteAll(w));
  // A workspace's ML jobs (their fine-tuning jobs and files) and models go with it.
  ctx.workspaces.onDelete((w) => mlJobs.deleteAll(w));
  // A workspace's online endpoints (their deployments, instances and runners) go before it does.
  ctx.workspaces.onDelete((w) => ctx.online.deleteAll(w));
  const logger = { level: options.logLevel ?? "info", ...(options.logStream ? { stream: options.logStream } : {}) };
  app = buildServer(ctx, logger, { tls: options.tls, timeouts: options.timeouts });
  for (const note of permissionNotes) if (note) app.log.warn(note);
  const opsApp = options.metricsAddress ? buildOpsServer(ctx, logger) : undefined;
  // The local CLI's way in (server URL and an admin service principal), written once listening.
  publishLocalCredential(app, identity, options.dataDir, options.tls, options.databaseUrl ? replicaLocalAdminName(options.dataDir) : undefined);
  deployments.onChange((accountName, name, operation) => {
    shared.feed.publish("deployments", deploymentChangeKey(accountName, name));
    reconciler.changed(accountName, name, operation).catch((e: Error) => log("error", "reconciling a deployment change failed", { account: accountName, deployment: name, err: e.message }));
  });
  wireChanges(shared.feed, { reconciler, accounts, rai, log });
  const ready = Promise.all([reconciler.reconcileAll(), shared.ready]).then(() => {});
  reconciler.start();
  jobs.start();
  mlJobs.start();
  batches.start();
  // Lifecycle rules (idle fine-tuned deployments, DeveloperTier expiry, expired files) run here only: reads never delete.
  const sweeper = setInterval(() => {
    deployments.sweep();
    fileService.sweepExpired();
    responses.sweepExpired();
    // Uncommitted blob blocks a client abandoned go after a week, as Azure's do.
    void mlBlobs.sweepStaleBlocks().catch((err) => log("warn", "could not remove stale blob blocks", { err }));
  }, options.expirySweepIntervalMs ?? 60_000);
  sweeper.unref();

  return {
    app,
    generatedKeys: generated,
    ready,
    identity,
    signInCodes,
    accounts,
    deployments,
    files: fileService,
    jobs,
    catalog,
    ml: { workspaces: ctx.workspaces, mlData: ctx.mlData, mlDatastores: ctx.mlDatastores },
    rai,
    async listenMetrics() {
      if (!opsApp || !options.metricsAddress) return undefined;
      try {
        return await opsApp.listen({ host: options.metricsAddress.host, port: options.metricsAddress.port });
      } catch (e) {
        // A busy or unbindable metrics address must not stop the server: the main port serves /metrics to administrators.
        app.log.warn({ err: e, address: options.metricsAddress }, "metrics listener not started: /metrics needs an administrator token on the main port");
        return undefined;
      }
    },
    async close() {
      clearInterval(sweeper);
      reconciler.stop();
      await opsApp?.close();
      await app.close();
      await jobs.close();
      await batches.close();
      await fileService.close();
      await engine.close();
      await shared.close();
      await jobFiles?.close();
      await tracing.shutdown();
      usage.flush();
      store.close();
    },
  };
}
