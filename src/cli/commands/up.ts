// `ingot up`: start the server on its embedded defaults (SQLite, local disk, built-in models).
import { ensurePrivateDir } from "../../lib/private-files.ts";
import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import { createIngot, DEFAULT_STREAM_INTERVAL_MS, defaultThreads } from "../../app.ts";
import { Catalog, CatalogError } from "../../core/catalog/catalog.ts";
import { resolveTls, TlsConfigError } from "../../http/tls.ts";
import { isBlobConnectionString } from "../../store/blobs/azure-blob-store.ts";
import { DatabaseUnreachableError } from "../../store/postgres/database.ts";
import { isPostgresUrl } from "../../store/sql/open.ts";
import { CliError } from "../errors.ts";

/** Where `ingot up` serves metrics by default: loopback only, Prometheus' usual exporter port range. */
export const DEFAULT_METRICS_ADDRESS = "127.0.0.1:9464";

const HELP = `Usage: ingot up [options]

Starts Ingot: the Azure OpenAI, OpenAI v1 and model-inference endpoints, with the built-in
deployments tiny-chat and tiny-embed.

Options:
  --port N                   port to listen on (default 8080, env PORT)
  --host H                   address to bind (default 127.0.0.1)
  --data-dir DIR             where the database, blobs and models live (default ./.ingot)
  --database URL             keep all state in PostgreSQL (postgres://user:pass@host:5432/db; env
                             INGOT_DATABASE_URL) instead of DATA_DIR/ingot.db; several 'ingot up'
                             on one database act as replicas of one Ingot
  --redis URL                share rate limits and change notifications with the other replicas
                             through Redis (redis://[:password@]host:6379[/db]; env INGOT_REDIS_URL);
                             while it does not answer each replica limits on its own
  --blob-store CONNSTR       keep files (uploads, imports, fine-tuning results) in Azure Blob Storage:
                             an Azure Storage connection string (env INGOT_BLOB_STORE; add
                             Container=NAME for a container other than 'ingot'), so every replica
                             reads what one wrote; each keeps a local copy of what it trains on
  --api-key KEY              fix key1 of the default account (env INGOT_API_KEY)
  --skip-api-version-check   accept any api-version
  --threads N                llama.cpp threads per model (default ${defaultThreads()}; never more than free cores)
  --sequences N              parallel sequences per model (default 8)
  --stream-interval-ms N     send streamed tokens at most every N ms, several at a time; the
                             first at once (default ${DEFAULT_STREAM_INTERVAL_MS}; 0: each token as it comes)
  --log-level LEVEL          pino level (default info)
  --quota N                  quota units per usage name per account (default 2000)
  --models-base-url URL      where hf: weights download from (default env HF_ENDPOINT, else https://huggingface.co)
  --max-file-bytes N         largest file an upload or import may hold (default 536870912, 512 MB)
  --allow-private-import-urls
                             let POST /openai/files/import fetch plain http and loopback, private,
                             link-local and metadata addresses (refused by default: SSRF protection)
  --load-timeout-s N         a model that has not loaded in N s fails its deployments with the
                             reason, and is retried with backoff (default 300; large models on
                             slow disks may need more)
  --inspection-timeout-s N   a fine-tuning dataset not tokenized in N s fails its job (default 600)
  --metrics-address H:P      serve /metrics and detailed /readyz without credentials on this
                             address (default ${DEFAULT_METRICS_ADDRESS}; 'off': none). On the main
                             port they need an administrator token (ingot token)
  --tls-cert FILE            serve https with this PEM certificate (with --tls-key)
  --tls-key FILE             the certificate's PEM private key
  --tls self-signed          serve https with a certificate made once in DATA_DIR/tls/cert.pem;
                             clients trust it with NODE_EXTRA_CA_CERTS=DATA_DIR/tls/cert.pem
                             (Azure SDKs send bearer tokens only over https)
  --protected-material DIR   the .txt files whose long verbatim copies completions are checked
                             for (protected material; default DATA_DIR/protected-material/)
  --otlp-endpoint URL        send OpenTelemetry traces (OTLP/HTTP, GenAI conventions) to this
                             collector, e.g. http://127.0.0.1:4318 (default env
                             OTEL_EXPORTER_OTLP_ENDPOINT; none: no tracing)
  --catalog-dir DIR          more catalog files (*.json in the shipped format, usageName optional),
                             e.g. models served by an upstream (vLLM, llama-server, another Ingot,
                             Azure OpenAI) with "engine": "upstream"; repeatable
`;

export async function upCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      redis: { type: "string" },
      "blob-store": { type: "string" },
      database: { type: "string" },
      "api-key": { type: "string" },
      "skip-api-version-check": { type: "boolean" },
      threads: { type: "string" },
      sequences: { type: "string" },
      "stream-interval-ms": { type: "string" },
      "log-level": { type: "string" },
      "tls-cert": { type: "string" },
      quota: { type: "string" },
      "models-base-url": { type: "string" },
      "max-file-bytes": { type: "string" },
      "allow-private-import-urls": { type: "boolean" },
      "tls-key": { type: "string" },
      "metrics-address": { type: "string" },
      "otlp-endpoint": { type: "string" },
      "protected-material": { type: "string" },
      "load-timeout-s": { type: "string" },
      "inspection-timeout-s": { type: "string" },
      tls: { type: "string" },
      "catalog-dir": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`);
    return n;
  };
  const seconds = (name: string, v: string | undefined) => {
    const n = int(name, v);
    if (n === 0) throw new UsageError(`--${name} must be at least 1`);
    return n === undefined ? undefined : n * 1000;
  };
  const port = int("port", values.port ?? process.env.PORT) ?? 8080;
  const host = values.host ?? "127.0.0.1";
  const loadTimeoutMs = seconds("load-timeout-s", values["load-timeout-s"]);
  const datasetInspectionTimeoutMs = seconds("inspection-timeout-s", values["inspection-timeout-s"]);
  const dataDir = values["data-dir"] ?? "./.ingot";
  if (values.tls !== undefined && values.tls !== "self-signed") throw new UsageError(`--tls takes 'self-signed', got '${values.tls}' (for your own certificate use --tls-cert and --tls-key)`);
  let tls: ReturnType<typeof resolveTls>;
  try {
    ensurePrivateDir(dataDir);
    tls = resolveTls({ certFile: values["tls-cert"], keyFile: values["tls-key"], selfSigned: values.tls === "self-signed", dataDir, hosts: [host] });
  } catch (e) {
    if (e instanceof TlsConfigError) throw new UsageError(e.message);
    throw e;
  }
  const protectedMaterialDir = values["protected-material"];
  if (protectedMaterialDir !== undefined && !statSync(protectedMaterialDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--protected-material must name a directory of .txt files, got '${protectedMaterialDir}'`);
  }
  const catalogDirs = values["catalog-dir"] ?? [];
  for (const dir of catalogDirs)
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--catalog-dir must name a directory of catalog *.json files, got '${dir}'`);
  try {
    for (const dir of catalogDirs) Catalog.readDirectory(dir);
  } catch (e) {
    // A malformed entry: the file and field, before anything starts.
    if (e instanceof CatalogError) throw new UsageError(`--catalog-dir: ${e.message}`);
    throw e;
  }
  const blobStore = values["blob-store"] ?? (process.env.INGOT_BLOB_STORE || undefined);
  if (blobStore !== undefined && !isBlobConnectionString(blobStore))
    throw new UsageError("--blob-store takes an Azure Storage connection string (DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net, or BlobEndpoint=…); leave it out for files in the data dir");
  const metricsAddress = parseMetricsAddress(values["metrics-address"] ?? DEFAULT_METRICS_ADDRESS);
  const databaseUrl = values.database ?? (process.env.INGOT_DATABASE_URL || undefined);
  if (databaseUrl !== undefined && !isPostgresUrl(databaseUrl)) throw new UsageError(`--database takes a postgres:// URL (e.g. postgres://ingot:secret@127.0.0.1:5432/ingot); leave it out for SQLite in the data dir`);
  let ingot: ReturnType<typeof createIngot>;
  try {
    ingot = createIngot({
      ...(databaseUrl ? { databaseUrl } : {}),
      metricsAddress,
      ...((values.redis ?? process.env.INGOT_REDIS_URL) ? { redisUrl: values.redis ?? process.env.INGOT_REDIS_URL } : {}),
      ...(blobStore ? { blobStore } : {}),
      dataDir,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      apiKey: values["api-key"] ?? process.env.INGOT_API_KEY,
      skipApiVersionCheck: values["skip-api-version-check"] ?? false,
      threads: int("threads", values.threads),
      sequences: int("sequences", values.sequences),
      streamIntervalMs: int("stream-interval-ms", values["stream-interval-ms"]),
      logLevel: values["log-level"],
      modelsBaseUrl: values["models-base-url"],
      maxFileBytes: int("max-file-bytes", values["max-file-bytes"]),
      allowPrivateImportUrls: values["allow-private-import-urls"] ?? false,
      loadTimeoutMs,
      datasetInspectionTimeoutMs,
      otlpEndpoint: values["otlp-endpoint"] || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
      ...(protectedMaterialDir !== undefined ? { protectedMaterialDir } : {}),
      ...(catalogDirs.length ? { catalogDirs } : {}),
      ...(values.quota !== undefined ? { deploymentPolicy: { quotaPerUsage: int("quota", values.quota) } } : {}),
    });
  } catch (e) {
    // A database that does not answer: say so and exit, rather than hang or print a stack.
    if (e instanceof DatabaseUnreachableError) throw new CliError(e.message);
    throw e;
  }
  // Last resort: every fire-and-forget promise in src/ has its own catch; one that slips through
  // is logged loudly instead of taking the whole server down (Node's default is to exit).
  process.on("unhandledRejection", (reason) =>
    ingot.app.log.error({ err: reason }, "BUG: unhandled promise rejection; the server keeps running. Please report this with the log above."),
  );
  const address = await ingot.app.listen({ port, host });
  for (const [name, key] of Object.entries(ingot.generatedKeys))
    process.stderr.write(`ingot: generated ${name} for account 'ingot': ${key}  (shown once here; later: ingot keys list)\n`);
  process.stderr.write(`ingot: listening on ${address}; loading deployments tiny-chat, tiny-embed…\n`);
  const metricsUrl = await ingot.listenMetrics();
  if (metricsUrl) process.stderr.write(`ingot: metrics on ${metricsUrl}/metrics (readiness details: ${metricsUrl}/readyz)\n`);
  else if (metricsAddress) process.stderr.write(`ingot: metrics address ${metricsAddress.host}:${metricsAddress.port} is not available (see the log); /metrics on the main port needs an administrator token\n`);
  // As Jupyter does: a link that signs the browser in, so a first-time user needs no token.
  const signIn = ingot.signInCodes.issue();
  process.stderr.write(`ingot: portal: ${address}/?signin=${signIn.code}  (signs in once, within ${Math.round(ingot.signInCodes.ttlMs / 60_000)} minutes; later: ingot token)\n`);
  if (tls) process.stderr.write(`ingot: https with certificate ${tls.certFile} (clients: NODE_EXTRA_CA_CERTS=${tls.certFile}); management token: ingot token --data-dir ${dataDir}\n`);
  ingot.ready.then(() => process.stderr.write(`ingot: ready — try: curl ${address}/openai/v1/chat/completions -H "api-key: <key>" -H "content-type: application/json" -d '{"model":"tiny-chat","messages":[{"role":"user","content":"hi"}]}'\n`), () => {});
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`ingot: ${signal}: finishing in-flight requests…\n`);
    await ingot.close();
    process.exit(0);
  };
  const stopOn = (signal: string) =>
    stop(signal).catch((e: Error) => {
      process.stderr.write(`ingot: stopping failed: ${e.stack ?? e.message}\n`);
      process.exit(1);
    });
  process.on("SIGINT", () => stopOn("SIGINT"));
  process.on("SIGTERM", () => stopOn("SIGTERM"));
  return new Promise<number>(() => {});
}

export class UsageError extends Error {}

/** "host:port", "[v6]:port" or "off". */
export function parseMetricsAddress(value: string): { host: string; port: number } | undefined {
  if (value === "off") return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535)
    throw new UsageError(`--metrics-address takes HOST:PORT (e.g. 127.0.0.1:9464) or 'off', got '${value}'`);
  return { host: m[1] ?? m[2], port };
}
