// `ingot models list|show|add|pull|remove`: the model catalog and the weights cache of the
// running server, through its Ingot.Catalog management routes (src/http/arm/catalog.ts), so
// the server's rules apply (e.g. no removal while deployed). Nothing is opened in the data dir.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Catalog } from "../../core/catalog/catalog.ts";
import type { CatalogModel } from "../../core/catalog/catalog.ts";
import { CAPABILITIES } from "../../core/catalog/model.ts";
import { isIngotError } from "../../core/errors.ts";
import type { WeightsProgress } from "../../core/ports/index.ts";
import type { CatalogEntry } from "../../models/catalog-admin.ts";
import type { GgufSummary } from "../../models/inspect.ts";
import { inspectLocalGguf, localModelEntry } from "../../models/local-gguf.ts";
import type { FieldLabel } from "../../models/local-gguf.ts";
import type { WeightsStatus } from "../../models/model-files.ts";
import { ArmClient, ArmError } from "../arm-client.ts";
import { CliError } from "../errors.ts";
import { formatEta, ProgressLine, RateMeter } from "../progress.ts";

const CATALOG = "/providers/Ingot.Catalog";
const modelPath = (m: { format: string; name: string; version: string }) =>
  `${CATALOG}/publishers/${encodeURIComponent(m.format)}/models/${encodeURIComponent(m.name)}/versions/${encodeURIComponent(m.version)}`;

const CONNECTION = `Connection (the running server):
  --data-dir DIR             the running server's data dir (default ./.ingot): its address and
                             the local admin credential it keeps there
  --endpoint URL             Ingot's address (default INGOT_ENDPOINT, else the one in --data-dir)
  --token TOKEN              bearer token (default INGOT_TOKEN, else from the server's token endpoint)
`;

const HELP = `Usage: ingot models <command> [options]

The model catalog (shipped catalog/ plus registered models) and the weights cache of the
running server (ingot up), through its management API (/providers/Ingot.Catalog/...).

Commands:
  list                       every model, and whether its weights are on disk
  show NAME                  one model in full
  add FILE.gguf              register a local GGUF (bring your own model)
  pull NAME                  download a model's weights into the cache now
  remove NAME                unregister a model added with 'add'

Common options:
  -o, --output table|json    output format (default table)
  -h, --help                 help for a command: ingot models add --help
${CONNECTION}`;

const HELP_LIST = `Usage: ingot models list [--output table|json]

Lists the shipped catalog and registered models. WEIGHTS says where each model's weights
are: cached (on disk), partial (an interrupted download that resumes), not downloaded,
not built (built-in, built on first deploy), upstream (no open weights) or missing.

${CONNECTION}`;

const HELP_SHOW = `Usage: ingot models show NAME [--format F] [--version V] [--output table|json]

Shows one model: catalog entry, SKUs with usage names, and the state of its weights.
--format is needed only when several publishers have a model of that name; without
--version the default version is shown.

${CONNECTION}`;

const HELP_ADD = `Usage: ingot models add FILE.gguf --name N --format F [options]
       ingot models add --upstream-url URL --upstream-model M --name N --format F [options]

Registers a local GGUF as a deployable model, for every account. The file is validated (it
must be a GGUF), its architecture and trained context are read from its metadata, embedding
models are detected (pooling type or an encoder architecture), and its sha256 and size are
recorded. The running server does the work (PUT /providers/Ingot.Catalog/publishers/{format}/
models/{name}/versions/{version}), so FILE must be on the server's machine.

By default the file is COPIED into the data dir's models/ (named by its sha256), so the
deployment keeps working if the original moves. With --link the file is referenced in
place (no copy; deployment fails with a clear message if it later moves or changes).

Options:
  --name N                   model name (letters, digits, '.', '_', '-')
  --format F                 publisher string, case-sensitive (e.g. Custom, Meta, Alibaba)
  --version V                version (default 1)
  --capabilities LIST        comma-separated: ${CAPABILITIES.join(",")}
                             (default: detected — embeddings, or chatCompletion,completion)
  --context-length N         context per sequence when served (default: min(trained, 4096))
  --license L                license (default: general.license from the file, else "unspecified")
  --description D            free text
  --link                     reference FILE in place instead of copying it
  --upstream-url URL[,URL]   instead of a FILE: the model runs on this OpenAI-compatible server
                             (vLLM, llama-server, another Ingot, Azure OpenAI), e.g.
                             http://vllm:8000/v1; several URLs (comma-separated) make a pool
  --upstream-model M         the model name the upstream serves (with --upstream-url)
  --upstream-api-key-env V   the environment variable (on the server) holding the upstream's key
  -o, --output table|json    output format (default table)
${CONNECTION}`;

const HELP_PULL = `Usage: ingot models pull NAME [--format F] [--version V] [options]

The running server downloads (or builds, for built-in models) a model's weights into its
cache, so that deploying it later starts at once. Downloads resume after an interruption and
are verified against the catalog's sha256 (or the one recorded at the first download). A
progress bar (percent, MB/s, ETA) goes to stderr.

Options:
  --format F                 publisher, when several have a model of that name
  --version V                version (default: the default version)
  --repin                    forget the sha256 recorded at the first download (trust on first
                             use) and record the file downloaded now
  -o, --output table|json    json: print the final record on stdout
Where weights come from is the server's setting: ingot up --models-base-url URL, else the
server's HF_ENDPOINT, else https://huggingface.co (HF_TOKEN of the server for gated repositories).

${CONNECTION}`;

const HELP_REMOVE = `Usage: ingot models remove NAME --format F [--version V]

Unregisters a model added with 'ingot models add' (shipped catalog models cannot be removed).
Refused while a deployment serves it: delete the deployments first. A copied weights file
stays in the cache; delete it from models/ if you no longer need it.

${CONNECTION}`;

/** Where the command prints; tests pass their own. */
export interface ModelsIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (progress redraws in place). */
  tty: boolean;
}

const STDIO: ModelsIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: Boolean(process.stderr.isTTY),
};

class Usage extends Error {}

const COMMON = {
  "data-dir": { type: "string" },
  database: { type: "string" },
  endpoint: { type: "string" },
  token: { type: "string" },
  output: { type: "string", short: "o" },
  format: { type: "string" },
  version: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function modelsCommand(argv: string[], io: ModelsIo = STDIO): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case "list":
        return await list(rest, io);
      case "show":
        return await show(rest, io);
      case "add":
        return await add(rest, io);
      case "pull":
        return await pull(rest, io);
      case "remove":
        return await remove(rest, io);
      case undefined:
        io.err(HELP);
        return 2;
      case "help":
      case "--help":
      case "-h":
        io.out(HELP);
        return 0;
      default:
        throw new Usage(`unknown command '${sub}'. Commands: list, show, add, pull, remove.`);
    }
  } catch (e) {
    if (e instanceof Usage || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`ingot models${sub && !sub.startsWith("-") ? ` ${sub}` : ""}: ${(e as Error).message}\nRun "ingot models ${sub && !sub.startsWith("-") ? `${sub} ` : ""}--help" for usage.\n`);
      return 2;
    }
    io.err(`ingot models ${sub}: ${(e as Error).message}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

function parse<O extends Record<string, { type: "string" | "boolean"; short?: string }>>(args: string[], options: O, positionals: number) {
  const r = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  if (r.positionals.length > positionals) throw new Usage(`unexpected argument '${r.positionals[positionals]}'`);
  const output = (r.values as { output?: string }).output ?? "table";
  if (output !== "table" && output !== "json") throw new Usage(`--output must be table or json, got '${output}'`);
  return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals, output };
}

/** One catalog entry as the server reports it (the properties of GET /providers/Ingot.Catalog/models). */
type Entry = CatalogEntry;

interface Context {
  arm: ArmClient;
  catalog: Catalog;
  entries: Map<CatalogModel, Entry>;
}

function client(values: Record<string, unknown>): ArmClient {
  const s = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  return new ArmClient({ endpoint: s("endpoint"), token: s("token"), dataDir: s("data-dir"), database: s("database") });
}

function toEntry(resource: { properties: Record<string, unknown> }): Entry {
  const { registered, owner, cache, pinnedSha256, gguf: _gguf, ...model } = resource.properties;
  return {
    model: model as unknown as CatalogModel,
    isDefaultVersion: (model as { isDefaultVersion?: boolean }).isDefaultVersion === true,
    registered: registered === true,
    ...(typeof owner === "string" ? { owner } : {}),
    cache: cache as WeightsStatus,
    ...(typeof pinnedSha256 === "string" ? { pinnedSha256 } : {}),
  };
}

/** The server's catalog, with a local Catalog over it for name resolution (the same messages a deployment gets). */
async function open(values: Record<string, unknown>): Promise<Context> {
  const arm = client(values);
  const { body } = await arm.call("GET", `${CATALOG}/models`);
  const list = ((body?.value ?? []) as { properties: Record<string, unknown> }[]).map(toEntry);
  const catalog = new Catalog(list.map((e) => e.model));
  const byKey = new Map(list.map((e) => [`${e.model.format}\u0000${e.model.name}\u0000${e.model.version}`, e]));
  const entries = new Map(catalog.list().map((m) => [m, byKey.get(`${m.format}\u0000${m.name}\u0000${m.version}`)!]));
  return { arm, catalog, entries };
}

async function list(args: string[], io: ModelsIo): Promise<number> {
  const { values, output } = parse(args, {}, 0);
  if (values.help) return help(io, HELP_LIST);
  const ctx = await open(values);
  const rows = ctx.catalog.list().map((m) => ({ m, e: ctx.entries.get(m)! }));
  if (output === "json") {
    io.out(JSON.stringify(rows.map((r) => summary(r.m, r.e)), null, 2) + "\n");
    return 0;
  }
  const table = [["FORMAT", "NAME", "VERSION", "CAPABILITIES", "WEIGHTS", "SIZE", "SOURCE"]];
  for (const { m, e } of rows)
    table.push([
      m.format,
      m.name,
      m.version + (e.isDefaultVersion ? "*" : ""),
      m.capabilities.filter((c) => c === "chatCompletion" || c === "completion" || c === "embeddings" || c === "fineTune").join(","),
      statusLabel(e.cache),
      sizeLabel(m, e.cache),
      e.registered ? "registered" : "catalog",
    ]);
  io.out(formatTable(table) + "* default version\n");
  return 0;
}

async function show(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals, output } = parse(args, {}, 1);
  if (values.help) return help(io, HELP_SHOW);
  const name = positionals[0];
  if (!name) throw new Usage("NAME is required, e.g. ingot models show Qwen2.5-0.5B-Instruct");
  const ctx = await open(values);
  const m = pick(ctx.catalog, name, values.format as string | undefined, values.version as string | undefined);
  const e = ctx.entries.get(m)!;
  const record = { ...m, ...summary(m, e) };
  if (output === "json") {
    io.out(JSON.stringify(record, null, 2) + "\n");
    return 0;
  }
  const status = e.cache;
  const lines: [string, string][] = [
    ["format", m.format],
    ["name", m.name],
    ["version", `${m.version}${e.isDefaultVersion ? " (default)" : ""}; versions: ${ctx.catalog.versionsOf(m.format, m.name).join(", ")}`],
    ["publisher", m.publisher ?? "-"],
    ["description", m.description ?? "-"],
    ["capabilities", m.capabilities.join(", ")],
    ["context length", `${m.contextLength}${m.maxContextLength ? ` (trained ${m.maxContextLength})` : ""}`],
    ["weights", m.weights],
    ["sha256", m.sha256 ?? (e.pinnedSha256 ? `${e.pinnedSha256} (recorded at first download)` : "-")],
    ["size", m.sizeBytes ? mb(m.sizeBytes) : "-"],
    ["cache", statusLabel(status) + (status.state === "cached" ? ` ${status.path}` : "")],
    ["engine", m.engine ?? (m.weights === "none" ? "upstream" : "llamacpp")],
    ["lifecycle", m.lifecycleStatus],
    ["license", m.license],
    ["skus", m.skus.map((s) => `${s.name} [${s.minCapacity}..${s.maxCapacity}, default ${s.defaultCapacity}${s.step ? `, step ${s.step}` : ""}] ${s.usageName}`).join("\n                ")],
  ];
  io.out(lines.map(([k, v]) => `${k.padEnd(15)} ${v}`).join("\n") + "\n");
  return 0;
}

const CLI_LABEL: FieldLabel = (f) => ({ contextLength: "--context-length", path: "FILE" })[f as string] ?? `--${f}`;

async function add(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals, output } = parse(
    args,
    {
      name: { type: "string" }, capabilities: { type: "string" }, "context-length": { type: "string" }, license: { type: "string" }, description: { type: "string" }, link: { type: "boolean" },
      "upstream-url": { type: "string" }, "upstream-model": { type: "string" }, "upstream-api-key-env": { type: "string" },
    },
    1,
  );
  if (values.help) return help(io, HELP_ADD);
  if (values["upstream-url"] !== undefined || values["upstream-model"] !== undefined) return addUpstream(values, positionals, output, io);
  const file = positionals[0];
  if (!file) throw new Usage("FILE.gguf is required: ingot models add ./model.gguf --name my-model --format Custom");
  const name = values.name as string | undefined;
  const format = values.format as string | undefined;
  if (!name) throw new Usage("--name is required (the model name deployments will use)");
  if (!format) throw new Usage("--format is required (the publisher string, case-sensitive, e.g. Custom)");
  const version = (values.version as string | undefined) ?? "1";
  const path = resolve(file);
  const capabilities = values.capabilities === undefined ? undefined : String(values.capabilities).split(",");
  let contextLength: number | undefined;
  if (values["context-length"] !== undefined) {
    contextLength = Number(values["context-length"]);
    if (!Number.isSafeInteger(contextLength) || contextLength < 1) throw new Usage(`--context-length must be a positive integer, got '${values["context-length"]}'`);
  }
  const link = values.link === true;
  const request = {
    format,
    name,
    version,
    path,
    link,
    ...(capabilities ? { capabilities } : {}),
    ...(contextLength !== undefined ? { contextLength } : {}),
    ...(values.license !== undefined ? { license: values.license as string } : {}),
    ...(values.description !== undefined ? { description: values.description as string } : {}),
  };
  // The flags are checked here first, for messages in their terms; the server checks again.
  let info: GgufSummary;
  try {
    info = await inspectLocalGguf(path, file);
    localModelEntry(request, info, CLI_LABEL, { weights: `file:${path}`, sha256: "0".repeat(64), sizeBytes: info.sizeBytes });
  } catch (e) {
    if (isIngotError(e)) throw new Usage(e.message);
    throw e;
  }

  const arm = client(values);
  await arm.token(); // fail on a missing server before announcing work
  io.err(`${link ? "hashing" : "copying and hashing"} ${path} (${mb(info.sizeBytes)})…\n`);
  let body: { properties: Record<string, unknown> };
  try {
    const { format: _f, name: _n, version: _v, ...properties } = request;
    body = (await arm.call("PUT", modelPath(request), { properties })).body;
  } catch (e) {
    // A name that is taken, or input the server refuses: the flags need changing (exit 2).
    if (e instanceof ArmError && (e.status === 400 || e.code === "ModelAlreadyExists")) throw new Usage(e.detail);
    throw e;
  }
  const { model } = toEntry(body);
  const gguf = body.properties.gguf as GgufSummary;
  const stored = model.weights.slice("file:".length);
  if (output === "json") io.out(JSON.stringify(model, null, 2) + "\n");
  else
    io.out(
      `registered ${format}/${name} version ${version}\n` +
        `  architecture  ${gguf.architecture}${gguf.embeddings ? " (embeddings)" : ""}${!gguf.embeddings && !gguf.hasChatTemplate ? " (no chat template in the file: chat uses a generic format)" : ""}\n` +
        `  capabilities  ${model.capabilities.join(", ")}\n` +
        `  context       ${model.contextLength}${gguf.trainedContext ? ` (trained ${gguf.trainedContext})` : ""}\n` +
        `  weights       ${stored}${link ? " (referenced in place)" : " (copied)"}\n` +
        `  sha256        ${model.sha256}\n` +
        `Deploy it: format '${format}', name '${name}', version '${version}'.\n`,
    );
  return 0;
}

/** `ingot models add --upstream-url URL[,URL…] --upstream-model M --name N --format F`: a model served by an OpenAI-compatible server. */
async function addUpstream(values: Record<string, string | boolean | undefined>, positionals: string[], output: string, io: ModelsIo): Promise<number> {
  if (positionals.length) throw new Usage(`a model served upstream has no file: drop '${positionals[0]}' (or drop --upstream-url to register a GGUF)`);
  const urls = String(values["upstream-url"] ?? "").split(",").map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new Usage("--upstream-url is required: the server's API base, e.g. http://vllm:8000/v1 (several, comma-separated, make a pool)");
  const model = values["upstream-model"] as string | undefined;
  if (!model) throw new Usage("--upstream-model is required: the model name the upstream serves (vLLM's --served-model-name, an Azure deployment, …)");
  const name = values.name as string | undefined;
  const format = values.format as string | undefined;
  if (!name) throw new Usage("--name is required (the model name deployments will use)");
  if (!format) throw new Usage("--format is required (the publisher string, case-sensitive, e.g. Meta)");
  const version = (values.version as string | undefined) ?? "1";
  let contextLength: number | undefined;
  if (values["context-length"] !== undefined) {
    contextLength = Number(values["context-length"]);
    if (!Number.isSafeInteger(contextLength) || contextLength < 1) throw new Usage(`--context-length must be a positive integer, got '${values["context-length"]}'`);
  }
  const upstream = { baseUrl: urls.length === 1 ? urls[0] : urls, model, ...(values["upstream-api-key-env"] ? { apiKeyEnv: values["upstream-api-key-env"] as string } : {}) };
  const properties = {
    upstream,
    ...(values.capabilities !== undefined ? { capabilities: String(values.capabilities).split(",").map((c) => c.trim()) } : {}),
    ...(contextLength !== undefined ? { contextLength } : {}),
    ...(values.license !== undefined ? { license: values.license } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
  };
  const arm = client(values);
  let body: { properties: Record<string, unknown> };
  try {
    body = (await arm.call("PUT", modelPath({ format, name, version }), { properties })).body;
  } catch (e) {
    if (e instanceof ArmError && (e.status === 400 || e.code === "ModelAlreadyExists")) throw new Usage(e.detail);
    throw e;
  }
  const { model: entry } = toEntry(body);
  if (output === "json") io.out(JSON.stringify(entry, null, 2) + "\n");
  else
    io.out(
      `registered ${format}/${name} version ${version}, served upstream\n` +
        `  upstream      ${urls.join(", ")} (model '${model}')\n` +
        `  capabilities  ${entry.capabilities.join(", ")}\n` +
        `  context       ${entry.contextLength}\n` +
        `Deploy it: format '${format}', name '${name}', version '${version}'.\n`,
    );
  return 0;
}

async function pull(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals, output } = parse(args, { repin: { type: "boolean" } }, 1);
  if (values.help) return help(io, HELP_PULL);
  const name = positionals[0];
  if (!name) throw new Usage("NAME is required, e.g. ingot models pull SmolLM2-135M-Instruct");
  const ctx = await open(values);
  const m = pick(ctx.catalog, name, values.format as string | undefined, values.version as string | undefined);
  if (m.weights === "none") {
    io.err(`ingot models pull: ${m.name} has no open weights; it can be deployed only when an upstream is configured for it.\n`);
    return 1;
  }
  const started = await ctx.arm.call("POST", `${modelPath(m)}/pull`, { repin: values.repin === true });
  const operation = started.headers.get("azure-asyncoperation");
  const bar = progressBar(io, m.name);
  let op = started.body;
  let shown = 0;
  for (;;) {
    const phases = (op?.properties?.phases ?? []) as WeightsProgress[];
    // Every phase seen since the last poll, then the latest state of the current one.
    for (let i = Math.max(0, shown - 1); i < phases.length; i++) bar.update(phases[i]);
    shown = phases.length;
    if (op?.status !== "InProgress") break;
    await new Promise((r) => setTimeout(r, 200));
    op = (await ctx.arm.call("GET", operation ? new URL(operation).pathname : `${CATALOG}/operations/${op.name}`)).body;
  }
  bar.end();
  if (op.status !== "Succeeded") {
    io.err(`ingot models pull: ${op.error?.message ?? `the pull ended ${op.status}`}\n`);
    return 1;
  }
  const file = op.properties.result as { path: string; sha256: string; sizeBytes: number };
  const record = { format: m.format, name: m.name, version: m.version, weights: m.weights, path: file.path, sha256: file.sha256, sizeBytes: file.sizeBytes };
  if (output === "json") io.out(JSON.stringify(record, null, 2) + "\n");
  else io.out(`${m.format}/${m.name} version ${m.version}: ${file.path}\nsha256 ${file.sha256}\nbytes  ${file.sizeBytes}\n`);
  return 0;
}

async function remove(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  if (values.help) return help(io, HELP_REMOVE);
  const name = positionals[0];
  if (!name) throw new Usage("NAME is required");
  const ctx = await open(values);
  const m = pick(ctx.catalog, name, values.format as string | undefined, values.version as string | undefined);
  if (!ctx.entries.get(m)?.registered) throw new Usage(`${m.format}/${m.name} is part of the shipped catalog and cannot be removed`);
  const r = await ctx.arm.call("DELETE", modelPath(m));
  if (r.status === 204) {
    io.err(`ingot models remove: ${m.format}/${m.name} version ${m.version} was already gone\n`);
    return 1;
  }
  io.out(`removed ${m.format}/${m.name} version ${m.version}\n`);
  return 0;
}

function help(io: ModelsIo, text: string): number {
  io.out(text);
  return 0;
}

/** The model a NAME (+ optional format/version) means, with the catalog's own error messages as usage errors. */
function pick(catalog: Catalog, name: string, format: string | undefined, version: string | undefined): CatalogModel {
  let f = format;
  if (!f) {
    const formats = [...new Set(catalog.list().filter((m) => m.name === name).map((m) => m.format))];
    if (formats.length > 1) throw new Usage(`several publishers have a model '${name}': add --format with one of ${formats.map((x) => `'${x}'`).join(", ")}`);
    f = formats[0] ?? "";
  }
  try {
    return catalog.resolve({ format: f, name, version });
  } catch (e) {
    throw new Usage(isIngotError(e) ? e.message.replace(/properties\.model\.(\w+)/g, "--$1") : String(e));
  }
}

function summary(m: CatalogModel, e: Entry) {
  return {
    format: m.format,
    name: m.name,
    version: m.version,
    isDefaultVersion: e.isDefaultVersion,
    capabilities: m.capabilities,
    contextLength: m.contextLength,
    weights: m.weights,
    sha256: m.sha256 ?? null,
    sizeBytes: m.sizeBytes ?? null,
    lifecycleStatus: m.lifecycleStatus,
    license: m.license,
    registered: e.registered,
    cache: e.cache,
  };
}

function statusLabel(s: WeightsStatus): string {
  switch (s.state) {
    case "cached":
      return "cached";
    case "partial":
      return `partial ${s.totalBytes ? `${((100 * s.bytes) / s.totalBytes).toFixed(0)}%` : mb(s.bytes)}`;
    case "missing":
      return "not downloaded";
    case "not-built":
      return "not built";
    case "upstream":
      return "upstream";
  }
}

function sizeLabel(m: CatalogModel, s: WeightsStatus): string {
  if (s.state === "cached") return mb(s.sizeBytes);
  return m.sizeBytes ? mb(m.sizeBytes) : "-";
}

const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n") + "\n";
}

/** Percent, MB/s and ETA on stderr: redrawn in place (with a bar) on a terminal, a line per phase and per percent otherwise. */
function progressBar(io: ModelsIo, label: string) {
  const line = new ProgressLine({ write: io.err, tty: io.tty, columns: io.tty ? process.stderr.columns : undefined });
  const meter = new RateMeter(10_000);
  const update = (p: WeightsProgress) => {
    const now = Date.now();
    if (p.phase === "downloading") meter.add(now, p.bytes);
    const detail: string[] = [];
    if (p.totalBytes) detail.push(`${(p.bytes / 1e6).toFixed(1)}/${(p.totalBytes / 1e6).toFixed(1)} MB`);
    else if (p.bytes) detail.push(`${(p.bytes / 1e6).toFixed(1)} MB`);
    const rate = meter.rate();
    if (p.phase === "downloading" && rate) {
      detail.push(`${(rate / 1e6).toFixed(1)} MB/s`);
      if (p.totalBytes) detail.push(`ETA ${formatEta((p.totalBytes - p.bytes) / rate)}`);
    }
    line.update({ label: `${p.phase.padEnd(11)} ${label}`, fraction: p.totalBytes ? p.bytes / p.totalBytes : undefined, detail: detail.join("  "), key: p.phase });
  };
  return { update, end: () => line.end() };
}
