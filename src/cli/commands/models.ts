// `ingot models list|show|add|pull|remove`: the model catalog and the weights cache of a data
// dir. Works on --data-dir directly (no server needed); a running server sees models added
// here at its next lookup.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Catalog } from "../../core/catalog/catalog.ts";
import type { CatalogModel } from "../../core/catalog/catalog.ts";
import { CAPABILITIES, usageNameFor } from "../../core/catalog/model.ts";
import { validateCatalogModel } from "../../core/catalog/validate.ts";
import type { Capability } from "../../core/generation/service.ts";
import { isIngotError } from "../../core/errors.ts";
import type { WeightsProgress } from "../../core/ports/index.ts";
import { detectedCapabilities, inspectGguf } from "../../models/inspect.ts";
import type { GgufSummary } from "../../models/inspect.ts";
import { LocalModelFiles } from "../../models/model-files.ts";
import type { WeightsStatus } from "../../models/model-files.ts";
import { SqliteModelRegistry } from "../../store/sqlite/model-registry-store.ts";
import { SqliteStore } from "../../store/sqlite/store.ts";
import { formatEta, ProgressLine, RateMeter } from "../progress.ts";

const CATALOG_DIR = fileURLToPath(new URL("../../../catalog/", import.meta.url));

const HELP = `Usage: ingot models <command> [options]

The model catalog (shipped catalog/ plus models registered in the data dir) and the local
weights cache. Works on --data-dir directly; no server needs to run.

Commands:
  list                       every model, and whether its weights are on disk
  show NAME                  one model in full
  add FILE.gguf              register a local GGUF (bring your own model)
  pull NAME                  download a model's weights into the cache now
  remove NAME                unregister a model added with 'add'

Common options:
  --data-dir DIR             data dir (default ./.ingot)
  -o, --output table|json    output format (default table)
  -h, --help                 help for a command: ingot models add --help
`;

const HELP_LIST = `Usage: ingot models list [--data-dir DIR] [--output table|json]

Lists the shipped catalog and registered models. WEIGHTS says where each model's weights
are: cached (on disk), partial (an interrupted download that resumes), not downloaded,
not built (built-in, built on first deploy), upstream (no open weights) or missing.
`;

const HELP_SHOW = `Usage: ingot models show NAME [--format F] [--version V] [--data-dir DIR] [--output table|json]

Shows one model: catalog entry, SKUs with usage names, and the state of its weights.
--format is needed only when several publishers have a model of that name; without
--version the default version is shown.
`;

const HELP_ADD = `Usage: ingot models add FILE.gguf --name N --format F [options]

Registers a local GGUF as a deployable model. The file is validated (it must be a GGUF),
its architecture and trained context are read from its metadata, embedding models are
detected (pooling type or an encoder architecture), and its sha256 and size are recorded.

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
  --data-dir DIR             data dir (default ./.ingot)
  -o, --output table|json    output format (default table)
`;

const HELP_PULL = `Usage: ingot models pull NAME [--format F] [--version V] [options]

Downloads (or builds, for built-in models) a model's weights into the data dir's cache,
so that deploying it later starts at once. Downloads resume after an interruption and are
verified against the catalog's sha256 (or the one recorded at the first download). A
progress bar (percent, MB/s, ETA) goes to stderr.

Options:
  --format F                 publisher, when several have a model of that name
  --version V                version (default: the default version)
  --base-url URL             download base (default: env HF_ENDPOINT, else https://huggingface.co)
  --repin                    forget the sha256 recorded at the first download (trust on first
                             use) and record the file downloaded now
  --data-dir DIR             data dir (default ./.ingot)
  -o, --output table|json    json: print the final record on stdout
Environment: HF_ENDPOINT (mirror base URL), HF_TOKEN (bearer token for gated repositories).
`;

const HELP_REMOVE = `Usage: ingot models remove NAME --format F [--version V] [--data-dir DIR]

Unregisters a model added with 'ingot models add' (shipped catalog models cannot be removed).
A copied weights file stays in the cache; delete it from models/ if you no longer need it.
`;

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
    return 1;
  }
}

function parse<O extends Record<string, { type: "string" | "boolean"; short?: string }>>(args: string[], options: O, positionals: number) {
  const r = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  if (r.positionals.length > positionals) throw new Usage(`unexpected argument '${r.positionals[positionals]}'`);
  const output = (r.values as { output?: string }).output ?? "table";
  if (output !== "table" && output !== "json") throw new Usage(`--output must be table or json, got '${output}'`);
  return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals, output };
}

interface Context {
  catalog: Catalog;
  registry: SqliteModelRegistry;
  files: LocalModelFiles;
  dataDir: string;
  close(): void;
}

async function open(values: Record<string, unknown>, baseUrl?: string): Promise<Context> {
  const dataDir = resolve((values["data-dir"] as string | undefined) ?? "./.ingot");
  await mkdir(join(dataDir, "models"), { recursive: true });
  const store = new SqliteStore(join(dataDir, "ingot.db"));
  const registry = new SqliteModelRegistry(store.database);
  const catalog = new Catalog(Catalog.readDirectory(CATALOG_DIR), registry);
  const files = new LocalModelFiles(catalog, join(dataDir, "models"), { baseUrl });
  return { catalog, registry, files, dataDir, close: () => store.close() };
}

async function list(args: string[], io: ModelsIo): Promise<number> {
  const { values, output } = parse(args, {}, 0);
  if (values.help) return help(io, HELP_LIST);
  const ctx = await open(values);
  try {
    const rows = await Promise.all(ctx.catalog.list().map(async (m) => ({ m, status: await ctx.files.status(m), registered: ctx.catalog.isRegistered(m) })));
    if (output === "json") {
      io.out(JSON.stringify(rows.map((r) => summary(ctx.catalog, r.m, r.status, r.registered)), null, 2) + "\n");
      return 0;
    }
    const table = [["FORMAT", "NAME", "VERSION", "CAPABILITIES", "WEIGHTS", "SIZE", "SOURCE"]];
    for (const { m, status, registered } of rows)
      table.push([
        m.format,
        m.name,
        m.version + (ctx.catalog.isDefaultVersion(m) ? "*" : ""),
        m.capabilities.filter((c) => c === "chatCompletion" || c === "completion" || c === "embeddings" || c === "fineTune").join(","),
        statusLabel(status),
        sizeLabel(m, status),
        registered ? "registered" : "catalog",
      ]);
    io.out(formatTable(table) + "* default version\n");
    return 0;
  } finally {
    ctx.close();
  }
}

async function show(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals, output } = parse(args, {}, 1);
  if (values.help) return help(io, HELP_SHOW);
  const name = positionals[0];
  if (!name) throw new Usage("NAME is required, e.g. ingot models show Qwen2.5-0.5B-Instruct");
  const ctx = await open(values);
  try {
    const m = pick(ctx.catalog, name, values.format as string | undefined, values.version as string | undefined);
    const status = await ctx.files.status(m);
    const record = { ...m, ...summary(ctx.catalog, m, status, ctx.catalog.isRegistered(m)) };
    if (output === "json") {
      io.out(JSON.stringify(record, null, 2) + "\n");
      return 0;
    }
    const lines: [string, string][] = [
      ["format", m.format],
      ["name", m.name],
      ["version", `${m.version}${ctx.catalog.isDefaultVersion(m) ? " (default)" : ""}; versions: ${ctx.catalog.versionsOf(m.format, m.name).join(", ")}`],
      ["publisher", m.publisher ?? "-"],
      ["description", m.description ?? "-"],
      ["capabilities", m.capabilities.join(", ")],
      ["context length", `${m.contextLength}${m.maxContextLength ? ` (trained ${m.maxContextLength})` : ""}`],
      ["weights", m.weights],
      ["sha256", m.sha256 ?? (ctx.registry.pinnedWeights(m.weights)?.sha256 ? `${ctx.registry.pinnedWeights(m.weights)!.sha256} (recorded at first download)` : "-")],
      ["size", m.sizeBytes ? mb(m.sizeBytes) : "-"],
      ["cache", statusLabel(status) + (status.state === "cached" ? ` ${status.path}` : "")],
      ["engine", m.engine ?? (m.weights === "none" ? "upstream" : "llamacpp")],
      ["lifecycle", m.lifecycleStatus],
      ["license", m.license],
      ["skus", m.skus.map((s) => `${s.name} [${s.minCapacity}..${s.maxCapacity}, default ${s.defaultCapacity}${s.step ? `, step ${s.step}` : ""}] ${s.usageName}`).join("\n                ")],
    ];
    io.out(lines.map(([k, v]) => `${k.padEnd(15)} ${v}`).join("\n") + "\n");
    return 0;
  } finally {
    ctx.close();
  }
}

async function add(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals, output } = parse(
    args,
    { name: { type: "string" }, capabilities: { type: "string" }, "context-length": { type: "string" }, license: { type: "string" }, description: { type: "string" }, link: { type: "boolean" } },
    1,
  );
  if (values.help) return help(io, HELP_ADD);
  const file = positionals[0];
  if (!file) throw new Usage("FILE.gguf is required: ingot models add ./model.gguf --name my-model --format Custom");
  const name = values.name as string | undefined;
  const format = values.format as string | undefined;
  if (!name) throw new Usage("--name is required (the model name deployments will use)");
  if (!format) throw new Usage("--format is required (the publisher string, case-sensitive, e.g. Custom)");
  const version = (values.version as string | undefined) ?? "1";
  const path = resolve(file);
  try {
    if (!(await stat(path)).isFile()) throw new Usage(`${file} is not a file`);
  } catch (e) {
    if (e instanceof Usage) throw e;
    throw new Usage(`${file} does not exist`);
  }
  let info: GgufSummary;
  try {
    info = await inspectGguf(path);
  } catch (e) {
    throw new Usage(`${file} is not a usable GGUF model (${(e as Error).message}). Convert it with llama.cpp's convert_hf_to_gguf.py, or pick the .gguf file of a GGUF repository.`);
  }
  let capabilities: Capability[] = detectedCapabilities(info);
  if (values.capabilities !== undefined) {
    capabilities = String(values.capabilities).split(",").map((c) => c.trim()).filter(Boolean) as Capability[];
    const bad = capabilities.find((c) => !CAPABILITIES.includes(c));
    if (bad || capabilities.length === 0) throw new Usage(`--capabilities: '${bad ?? ""}' is not a capability (use a comma-separated list of ${CAPABILITIES.join(", ")})`);
  }
  let contextLength = Math.min(info.trainedContext ?? 4096, 4096);
  if (values["context-length"] !== undefined) {
    contextLength = Number(values["context-length"]);
    if (!Number.isSafeInteger(contextLength) || contextLength < 1) throw new Usage(`--context-length must be a positive integer, got '${values["context-length"]}'`);
    if (info.trainedContext && contextLength > info.trainedContext)
      throw new Usage(`--context-length ${contextLength} exceeds the ${info.trainedContext} tokens this model was trained for; use at most ${info.trainedContext}`);
  }

  const ctx = await open(values);
  try {
    const ref = { format, name, version };
    if (ctx.catalog.has(ref))
      throw new Usage(`${format}/${name} version ${version} already exists${ctx.catalog.isRegistered(ref) ? " (registered; remove it first with ingot models remove)" : " in the shipped catalog"}. Choose another --name or --version.`);
    const link = values.link === true;
    io.err(`${link ? "hashing" : "copying and hashing"} ${path} (${mb(info.sizeBytes)})…\n`);
    const { sha256, sizeBytes, stored } = link ? { ...(await hashFile(path)), stored: path } : await copyIntoCache(path, join(ctx.dataDir, "models"));
    const raw = {
      format,
      name,
      version,
      publisher: format,
      description: (values.description as string | undefined) ?? `${info.name ?? basename(path)} (${info.architecture}), registered from ${path} by ingot models add${link ? " (referenced in place)" : ""}.`,
      capabilities,
      contextLength,
      ...(info.trainedContext ? { maxContextLength: Math.max(info.trainedContext, contextLength) } : {}),
      weights: `file:${stored}`,
      sha256,
      sizeBytes,
      skus: ["GlobalStandard", "Standard"].map((s) => ({ name: s, usageName: usageNameFor(format, name, s), minCapacity: 1, maxCapacity: 1000000, defaultCapacity: 500 })),
      lifecycleStatus: "GenerallyAvailable",
      license: (values.license as string | undefined) ?? info.license ?? "unspecified",
      engine: "llamacpp",
    };
    let model: CatalogModel;
    try {
      model = validateCatalogModel(raw, "models add");
    } catch (e) {
      throw new Usage((e as Error).message.replace(/^models add\./, "--"));
    }
    ctx.registry.register(model);
    if (output === "json") io.out(JSON.stringify(model, null, 2) + "\n");
    else
      io.out(
        `registered ${format}/${name} version ${version}\n` +
          `  architecture  ${info.architecture}${info.embeddings ? " (embeddings)" : ""}${!info.embeddings && !info.hasChatTemplate ? " (no chat template in the file: chat uses a generic format)" : ""}\n` +
          `  capabilities  ${capabilities.join(", ")}\n` +
          `  context       ${contextLength}${info.trainedContext ? ` (trained ${info.trainedContext})` : ""}\n` +
          `  weights       ${stored}${link ? " (referenced in place)" : " (copied)"}\n` +
          `  sha256        ${sha256}\n` +
          `Deploy it: format '${format}', name '${name}', version '${version}'.\n`,
      );
    return 0;
  } finally {
    ctx.close();
  }
}

async function pull(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals, output } = parse(args, { "base-url": { type: "string" }, repin: { type: "boolean" } }, 1);
  if (values.help) return help(io, HELP_PULL);
  const name = positionals[0];
  if (!name) throw new Usage("NAME is required, e.g. ingot models pull SmolLM2-135M-Instruct");
  const ctx = await open(values, values["base-url"] as string | undefined);
  try {
    const m = pick(ctx.catalog, name, values.format as string | undefined, values.version as string | undefined);
    if (m.weights === "none") {
      io.err(`ingot models pull: ${m.name} has no open weights; it can be deployed only when an upstream is configured for it.\n`);
      return 1;
    }
    if (values.repin) ctx.files.forgetPin(m);
    const bar = progressBar(io, m.name);
    let file;
    try {
      file = await ctx.files.ensure(m, bar.update);
    } catch (e) {
      bar.end();
      io.err(`ingot models pull: ${isIngotError(e) ? e.message : String(e)}\n`);
      return 1;
    }
    bar.end();
    const record = { format: m.format, name: m.name, version: m.version, weights: m.weights, path: file.path, sha256: file.sha256, sizeBytes: file.sizeBytes };
    if (output === "json") io.out(JSON.stringify(record, null, 2) + "\n");
    else io.out(`${m.format}/${m.name} version ${m.version}: ${file.path}\nsha256 ${file.sha256}\nbytes  ${file.sizeBytes}\n`);
    return 0;
  } finally {
    ctx.close();
  }
}

async function remove(args: string[], io: ModelsIo): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  if (values.help) return help(io, HELP_REMOVE);
  const name = positionals[0];
  if (!name) throw new Usage("NAME is required");
  const ctx = await open(values);
  try {
    const m = pick(ctx.catalog, name, values.format as string | undefined, values.version as string | undefined);
    if (!ctx.catalog.isRegistered(m)) throw new Usage(`${m.format}/${m.name} is part of the shipped catalog and cannot be removed`);
    ctx.registry.remove(m);
    io.out(`removed ${m.format}/${m.name} version ${m.version}\n`);
    return 0;
  } finally {
    ctx.close();
  }
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

function summary(catalog: Catalog, m: CatalogModel, status: WeightsStatus, registered: boolean) {
  return {
    format: m.format,
    name: m.name,
    version: m.version,
    isDefaultVersion: catalog.isDefaultVersion(m),
    capabilities: m.capabilities,
    contextLength: m.contextLength,
    weights: m.weights,
    sha256: m.sha256 ?? null,
    sizeBytes: m.sizeBytes ?? null,
    lifecycleStatus: m.lifecycleStatus,
    license: m.license,
    registered,
    cache: status,
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

async function hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), sizeBytes };
}

/** Copies into `<dir>/<sha256>.gguf` (hashing on the way, under a temp name); an identical file already there is kept. */
async function copyIntoCache(path: string, dir: string): Promise<{ sha256: string; sizeBytes: number; stored: string }> {
  const tmp = join(dir, `.add-${process.pid}-${Date.now()}.tmp`);
  const hash = createHash("sha256");
  let sizeBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(path, { highWaterMark: 8 << 20 }), tap, createWriteStream(tmp));
    const sha256 = hash.digest("hex");
    const stored = join(dir, `${sha256}.gguf`);
    const existing = await stat(stored).catch(() => undefined);
    if (existing?.size === sizeBytes) await unlink(tmp);
    else await rename(tmp, stored);
    return { sha256, sizeBytes, stored };
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
