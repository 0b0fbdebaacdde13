// `ingot files upload|list|show|delete`: the Files API (Azure dated routes) of a running Ingot.
import { CliError, printOutput } from "../arm-client.ts";
import { dispatch, numberFlag, outputFormat, parseCommand, required } from "../args.ts";
import type { Values } from "../args.ts";
import { DATA_HELP, DATA_OPTIONS, DataClient, OUTPUT_OPTION } from "../data-client.ts";

const HELP = `Usage: ingot files <upload|list|show|delete> [options]

Datasets for fine-tuning (and batch), through the Files API of a running Ingot.

Commands:
  upload --file PATH          upload a file and wait for its validation
  list                        the account's files
  show --id ID                one file
  delete --id ID              delete a file

Examples:
  ingot files upload --file train.jsonl
  ingot files list -o table
  ingot files delete --id file-0123456789abcdef0123456789abcdef

Run 'ingot files <command> --help' for a command's options.
`;

const OUTPUT_HELP = `  -o, --output json|table|tsv output format (default json)`;

const HELP_UPLOAD = `Usage: ingot files upload --file PATH [--purpose fine-tune|batch|assistants] [--no-wait] [options]

Uploads a local file (streamed from disk as multipart). A fine-tune file is validated by the
server: one JSON chat example (or prompt/completion pair) a line, at least 10 examples. The
command waits for the validation and prints the file (status 'processed'); a file that fails
validation prints the problems by line number on stderr and exits 1.

Options:
  --file PATH                 the file to upload (required)
  --purpose P                 fine-tune (default), batch or assistants
  --no-wait                   print the file as soon as it is stored, without waiting for validation
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot files upload --file ./train.jsonl --purpose fine-tune
`;

const HELP_LIST = `Usage: ingot files list [--purpose P] [--limit N] [--order asc|desc] [options]

Lists the account's files (newest first by default); all pages unless --limit is given.

Options:
  --purpose P                 only files with this purpose
  --limit N                   at most N files (1-10000)
  --order asc|desc            by creation time (default desc)
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot files list --purpose fine-tune -o table
`;

const HELP_SHOW = `Usage: ingot files show --id ID [options]

Shows one file, with its validation status and problems ('status_details').

Options:
  --id ID                     the file's id (file-…); may also be given as the argument
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot files show --id file-0123456789abcdef0123456789abcdef -o table
`;

const HELP_DELETE = `Usage: ingot files delete --id ID [options]

Deletes a file.

Options:
  --id ID                     the file's id (file-…); may also be given as the argument
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot files delete --id file-0123456789abcdef0123456789abcdef
`;

const when = (seconds: number | null | undefined) => (typeof seconds === "number" ? new Date(seconds * 1000).toISOString().replace(".000Z", "Z") : "");

export const FILE_TABLE: [string, (f: any) => unknown][] = [
  ["Id", (f) => f.id],
  ["Filename", (f) => f.filename],
  ["Purpose", (f) => f.purpose],
  ["Bytes", (f) => f.bytes],
  ["Status", (f) => f.status],
  ["Created", (f) => when(f.created_at)],
];

const UPLOAD_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, file: { type: "string" }, purpose: { type: "string" }, "no-wait": { type: "boolean" } } as const;
const LIST_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, purpose: { type: "string" }, limit: { type: "string" }, order: { type: "string" } } as const;
const ID_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, id: { type: "string" } } as const;

export function filesCommand(argv: string[]): Promise<number> {
  return dispatch("ingot files", argv, HELP, { upload, list, show, delete: remove });
}

/** `--id ID` or a lone argument. */
function idOf(command: string, values: Values, positionals: string[]): string {
  const id = (values.id as string | undefined) ?? positionals[0];
  if (!id) throw new CliError(`${command}: --id is required, e.g. ${command} --id file-0123456789abcdef0123456789abcdef. Run 'ingot files list' to see the ids.`, 2);
  return id;
}

async function upload(args: string[]): Promise<number> {
  const cmd = "ingot files upload";
  const { values: v } = parseCommand(cmd, args, UPLOAD_OPTIONS);
  if (v.help) return help(HELP_UPLOAD);
  const output = outputFormat(cmd, v);
  const path = required(cmd, v, "file", "--file ./train.jsonl");
  const client = DataClient.fromValues(v);
  const file = await uploadAndWait(client, path, (v.purpose as string | undefined) ?? "fine-tune", !v["no-wait"]);
  printOutput(output, file, FILE_TABLE);
  return file.status === "error" ? 1 : 0;
}

/**
 * Uploads PATH and (when `wait`) waits until the server has validated it. Progress and the
 * validation's problems go to stderr; returns the file object (status `error` when invalid).
 */
export async function uploadAndWait(client: DataClient, path: string, purpose: string, wait: boolean): Promise<any> {
  process.stderr.write(`uploading ${path}…\n`);
  let file = await client.uploadFile(path, purpose);
  if (wait) {
    let told = false;
    while (file.status === "pending" || file.status === "uploaded" || file.status === "running") {
      if (!told) process.stderr.write(`${file.id}: validating…\n`);
      told = true;
      await new Promise((r) => setTimeout(r, 200));
      file = await client.call("GET", `/openai/files/${encodeURIComponent(file.id)}`);
    }
  }
  if (file.status === "error") {
    const details = String(file.status_details ?? "no details given").split("\n");
    process.stderr.write(`${file.id}: ${file.filename} failed validation:\n${details.map((l) => `  ${l}`).join("\n")}\n`);
  } else process.stderr.write(`${file.id}: ${file.status} (${file.filename}, ${file.bytes} bytes)\n`);
  return file;
}

async function list(args: string[]): Promise<number> {
  const cmd = "ingot files list";
  const { values: v } = parseCommand(cmd, args, LIST_OPTIONS);
  if (v.help) return help(HELP_LIST);
  const output = outputFormat(cmd, v);
  const limit = numberFlag(cmd, v, "limit", { integer: true, min: 1, max: 10000 });
  const order = v.order as string | undefined;
  if (order !== undefined && order !== "asc" && order !== "desc") throw new CliError(`${cmd}: --order must be asc or desc; got '${order}'.`, 2);
  const client = DataClient.fromValues(v);
  const files: any[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.call("GET", "/openai/files", {
      query: { purpose: v.purpose as string | undefined, order, after, limit: Math.min(100, limit === undefined ? 100 : limit - files.length) },
    });
    files.push(...page.data);
    if (!page.has_more || page.data.length === 0 || (limit !== undefined && files.length >= limit)) break;
    after = page.last_id ?? page.data.at(-1).id;
  }
  printOutput(output, files, FILE_TABLE);
  return 0;
}

async function show(args: string[]): Promise<number> {
  const cmd = "ingot files show";
  const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
  if (v.help) return help(HELP_SHOW);
  const output = outputFormat(cmd, v);
  const id = idOf(cmd, v, positionals);
  const file = await DataClient.fromValues(v).call("GET", `/openai/files/${encodeURIComponent(id)}`);
  printOutput(output, file, [...FILE_TABLE, ["Details", (f) => (f.status_details ?? "").replace(/\n/g, " | ")]]);
  return 0;
}

async function remove(args: string[]): Promise<number> {
  const cmd = "ingot files delete";
  const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
  if (v.help) return help(HELP_DELETE);
  const output = outputFormat(cmd, v);
  const id = idOf(cmd, v, positionals);
  const result = await DataClient.fromValues(v).call("DELETE", `/openai/files/${encodeURIComponent(id)}`);
  printOutput(output, result, [
    ["Id", (r) => r.id],
    ["Deleted", (r) => r.deleted],
  ]);
  return 0;
}

function help(text: string): number {
  process.stdout.write(text);
  return 0;
}
