// `ingot batch create|show|list|cancel|download`: Batch API jobs of a running Ingot (the Azure
// dated routes), with a progress bar (lines answered of all, failures, ETA) on stderr.
import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError, printOutput } from "../arm-client.ts";
import { dispatch, numberFlag, outputFormat, parseCommand, required } from "../args.ts";
import type { Values } from "../args.ts";
import { DATA_HELP, DATA_OPTIONS, DataClient, OUTPUT_OPTION } from "../data-client.ts";
import { formatEta, ProgressLine, RateMeter } from "../progress.ts";
import { uploadAndWait } from "./files.ts";

const BATCHES = "/openai/batches";
const TERMINAL = ["completed", "failed", "expired", "cancelled"];
const POLL_MS = 300;
const OUTPUT_HELP = `  -o, --output json|table|tsv output format (default json)`;

const HELP = `Usage: ingot batch <command> [options]

Batch API jobs of a running Ingot: a JSONL file of requests to a GlobalBatch or DataZoneBatch
deployment, run at low priority (idle capacity of the model), answered in an output file.

Commands:
  create --input-file ID|PATH [--url U]        start a batch (--wait shows a progress bar)
  list                                         the account's batches, newest first
  show --id ID [--wait]                        one batch (--wait: progress until it ends)
  cancel --id ID                               stop a batch (finished results are kept)
  download --id ID [--dir DIR]                 save the output and error files

Examples:
  ingot batch create --input-file requests.jsonl --wait --dir ./results
  ingot batch list -o table

Run 'ingot batch <command> --help' for a command's options.
`;

const HELP_CREATE = `Usage: ingot batch create --input-file ID|PATH [options]

Creates a batch job. A local JSONL file is uploaded first (purpose batch) and must pass
validation (its problems are listed with their line numbers). Each line looks like:
  {"custom_id": "task-0", "method": "POST", "url": "/v1/chat/completions",
   "body": {"model": "<batch deployment>", "messages": [{"role": "user", "content": "Hi"}]}}
With --wait a progress bar shows on stderr until the batch ends; the exit status is 0 when
it completed and 1 otherwise. With --dir the output and error files are saved there at the end.

Options:
  --input-file ID|PATH        a file id (file-…) or a local JSONL file to upload
  --url U                     the endpoint every line calls: /v1/chat/completions (default),
                              /v1/completions, /v1/embeddings or /v1/responses
  --deployment D              post to /openai/deployments/D/batches (every line must name D)
  --metadata K=V              a metadata pair (repeatable)
  --wait                      show progress until the batch ends
  --dir DIR                   with --wait: save the output and error files in DIR
${OUTPUT_HELP}
${DATA_HELP}
`;

const HELP_LIST = `Usage: ingot batch list [--limit N] [options]

Lists the account's batches, newest first (all pages unless --limit is given).

Options:
  --limit N                   at most N batches
${OUTPUT_HELP}
${DATA_HELP}
`;

const idHelp = (name: string, what: string, extra = "") => `Usage: ingot batch ${name} --id ID [options]

${what}

Options:
  --id ID                     the batch id (batch_…)${extra}
${OUTPUT_HELP}
${DATA_HELP}
`;

const CREATE_OPTIONS = {
  ...DATA_OPTIONS,
  ...OUTPUT_OPTION,
  "input-file": { type: "string" },
  url: { type: "string" },
  deployment: { type: "string" },
  metadata: { type: "string", multiple: true },
  wait: { type: "boolean" },
  dir: { type: "string" },
} as const;
const LIST_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, limit: { type: "string" } } as const;
const ID_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, id: { type: "string" }, wait: { type: "boolean" }, dir: { type: "string" } } as const;

const when = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString().replace(".000Z", "Z") : "");
const BATCH_TABLE: [string, (b: any) => unknown][] = [
  ["Id", (b) => b.id],
  ["Status", (b) => b.status],
  ["Endpoint", (b) => b.endpoint],
  ["Model", (b) => b.model],
  ["Done", (b) => `${(b.request_counts?.completed ?? 0) + (b.request_counts?.failed ?? 0)}/${b.request_counts?.total ?? 0}`],
  ["Failed", (b) => b.request_counts?.failed ?? 0],
  ["Created", (b) => when(b.created_at)],
];

export function batchCommand(argv: string[]): Promise<number> {
  return dispatch("ingot batch", argv, HELP, { create, list, show, cancel, download });
}

function help(text: string): number {
  process.stdout.write(text);
  return 0;
}

function idOf(command: string, values: Values, positionals: string[]): string {
  const id = (values.id as string | undefined) ?? positionals[0];
  if (!id) throw new CliError(`${command}: --id is required, e.g. ${command} --id batch_0123…. Run 'ingot batch list' to see the ids.`, 2);
  return id;
}

const batchPath = (id: string, tail = "") => `${BATCHES}/${encodeURIComponent(id)}${tail}`;

async function create(args: string[]): Promise<number> {
  const cmd = "ingot batch create";
  const { values: v } = parseCommand(cmd, args, CREATE_OPTIONS);
  if (v.help) return help(HELP_CREATE);
  const output = outputFormat(cmd, v);
  const input = required(cmd, v, "input-file", "--input-file ./requests.jsonl");
  const metadata: Record<string, string> = {};
  for (const pair of (v.metadata as unknown as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new CliError(`${cmd}: --metadata takes KEY=VALUE; got '${pair}'.`, 2);
    metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const client = DataClient.fromValues(v);
  let fileId = input;
  let isFile = false;
  try {
    isFile = statSync(input).isFile();
  } catch {
    // not a local path
  }
  if (isFile) {
    const file = await uploadAndWait(client, input, "batch", true);
    if (file.status === "error") throw new CliError(`--input-file ${input} failed validation (see the lines above); fix those lines and run again.`);
    fileId = file.id;
  } else if (!/^file-/.test(input)) throw new CliError(`--input-file: '${input}' is neither a local file nor a file id (file-…).`, 2);
  const body: Record<string, unknown> = { input_file_id: fileId, endpoint: (v.url as string | undefined) ?? "/v1/chat/completions", completion_window: "24h" };
  if (Object.keys(metadata).length) body.metadata = metadata;
  const path = typeof v.deployment === "string" ? `/openai/deployments/${encodeURIComponent(v.deployment)}/batches` : BATCHES;
  let batch = await client.call("POST", path, { json: body });
  process.stderr.write(`${batch.id}: created (${batch.status})\n`);
  if (!v.wait) {
    printOutput(output, batch, BATCH_TABLE);
    return failedValidation(batch);
  }
  batch = await watch(client, batch);
  if (typeof v.dir === "string") await save(client, batch, v.dir);
  printOutput(output, batch, BATCH_TABLE);
  return outcome(batch);
}

/** A batch that failed validation says why, line by line. */
function failedValidation(batch: any): number {
  if (batch.status !== "failed") return 0;
  const lines = (batch.errors?.data ?? []).map((e: any) => `  ${e.code}: ${e.message}`);
  process.stderr.write(`${batch.id} failed validation:\n${lines.join("\n")}\n`);
  return 1;
}

function outcome(batch: any): number {
  if (batch.status === "completed") return 0;
  if (batch.status === "failed") return failedValidation(batch);
  process.stderr.write(`ingot: batch ${batch.id} ${batch.status}\n`);
  return 1;
}

/** The progress bar: lines answered of all, failures, rate and ETA, until the batch ends. */
async function watch(client: DataClient, initial: any): Promise<any> {
  const bar = new ProgressLine();
  const rate = new RateMeter();
  let batch = initial;
  for (;;) {
    const c = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
    const done = c.completed + c.failed;
    rate.add(Date.now(), done);
    const perSecond = rate.rate();
    const eta = perSecond ? (c.total - done) / perSecond : undefined;
    bar.update({
      label: `batch ${batch.id.slice(0, 14)}… ${batch.status}`,
      fraction: c.total ? done / c.total : undefined,
      detail: `${done}/${c.total} lines${c.failed ? `, ${c.failed} failed` : ""}${perSecond ? `, ${perSecond.toFixed(1)}/s, ETA ${formatEta(eta)}` : ""}`,
      key: batch.status,
    });
    if (TERMINAL.includes(batch.status)) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
    batch = await client.call("GET", batchPath(batch.id));
  }
  const c = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
  bar.end(`${batch.id}: ${batch.status} (${c.completed} completed, ${c.failed} failed of ${c.total})`);
  return batch;
}

/** Saves the batch's output and error files as DIR/<id>_output.jsonl and DIR/<id>_error.jsonl. */
async function save(client: DataClient, batch: any, dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [kind, id] of [["output", batch.output_file_id], ["error", batch.error_file_id]] as const) {
    if (!id) continue;
    const res = await fetch(`${client.endpoint}/openai/files/${encodeURIComponent(id)}/content?api-version=${client.apiVersion}`, { headers: { "api-key": await client.key() } });
    if (!res.ok) throw new CliError(`Could not download the ${kind} file ${id}: HTTP ${res.status} ${await res.text()}`);
    const path = join(dir, `${batch.id}_${kind}.jsonl`);
    await writeFile(path, Buffer.from(await res.arrayBuffer()));
    process.stderr.write(`saved ${path}\n`);
    written.push(path);
  }
  return written;
}

async function list(args: string[]): Promise<number> {
  const cmd = "ingot batch list";
  const { values: v } = parseCommand(cmd, args, LIST_OPTIONS);
  if (v.help) return help(HELP_LIST);
  const output = outputFormat(cmd, v);
  const limit = numberFlag(cmd, v, "limit", { integer: true, min: 1 });
  const client = DataClient.fromValues(v);
  const batches: any[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.call("GET", BATCHES, { query: { after, limit: Math.min(100, limit === undefined ? 100 : limit - batches.length) } });
    batches.push(...page.data);
    if (!page.has_more || page.data.length === 0 || (limit !== undefined && batches.length >= limit)) break;
    after = page.last_id ?? page.data.at(-1).id;
  }
  printOutput(output, batches, BATCH_TABLE);
  return 0;
}

async function show(args: string[]): Promise<number> {
  const cmd = "ingot batch show";
  const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
  if (v.help) return help(idHelp("show", "Shows one batch; with --wait, a progress bar until it ends.", "\n  --wait                      show progress until the batch ends"));
  const output = outputFormat(cmd, v);
  const client = DataClient.fromValues(v);
  let batch = await client.call("GET", batchPath(idOf(cmd, v, positionals)));
  if (v.wait) batch = await watch(client, batch);
  printOutput(output, batch, BATCH_TABLE);
  return v.wait ? outcome(batch) : 0;
}

async function cancel(args: string[]): Promise<number> {
  const cmd = "ingot batch cancel";
  const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
  if (v.help) return help(idHelp("cancel", "Cancels a batch: running lines stop; finished results are kept in its output file."));
  const output = outputFormat(cmd, v);
  const client = DataClient.fromValues(v);
  printOutput(output, await client.call("POST", batchPath(idOf(cmd, v, positionals), "/cancel")), BATCH_TABLE);
  return 0;
}

async function download(args: string[]): Promise<number> {
  const cmd = "ingot batch download";
  const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
  if (v.help) return help(idHelp("download", "Saves a finished batch's output and error files as DIR/<id>_output.jsonl and DIR/<id>_error.jsonl.", "\n  --dir DIR                   where to save (default .)"));
  const client = DataClient.fromValues(v);
  const batch = await client.call("GET", batchPath(idOf(cmd, v, positionals)));
  if (!batch.output_file_id && !batch.error_file_id)
    throw new CliError(`Batch ${batch.id} is ${batch.status} and has no output yet. Wait for it with 'ingot batch show --id ${batch.id} --wait'.`);
  const paths = await save(client, batch, (v.dir as string | undefined) ?? ".");
  process.stdout.write(paths.join("\n") + "\n");
  return 0;
}
