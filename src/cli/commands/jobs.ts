// `ingot jobs create|list|show|events|checkpoints|cancel|pause|resume|delete`: fine-tuning jobs
// through the Azure dated routes of a running Ingot, with training progress on stderr.
import { statSync } from "node:fs";
import { CliError, printOutput } from "../arm-client.ts";
import { dispatch, numberFlag, outputFormat, parseCommand, required } from "../args.ts";
import type { Values } from "../args.ts";
import { DATA_HELP, DATA_OPTIONS, DataClient, OUTPUT_OPTION } from "../data-client.ts";
import { formatEta, ProgressLine, RateMeter } from "../progress.ts";
import { uploadAndWait } from "./files.ts";

const JOBS = "/openai/fine_tuning/jobs";
const TERMINAL = ["succeeded", "failed", "cancelled"];
const POLL_MS = 300;

const HELP = `Usage: ingot jobs <command> [options]

Fine-tuning jobs of a running Ingot (LoRA adapters trained on this machine).

Commands:
  create --model M --training-file ID|PATH   start a job (--wait shows training progress)
  list                                        the account's jobs, newest first
  show --id ID                                one job
  events --id ID [--follow]                   the job's events (--follow: until it ends)
  checkpoints --id ID                         the job's checkpoints (one per epoch)
  cancel --id ID                              stop a job
  pause --id ID | resume --id ID              pause a running job at its last checkpoint, resume it
  delete --id ID                              delete a finished job

Examples:
  ingot jobs create --model tiny-chat --training-file train.jsonl --wait
  ingot jobs events --id ftjob-0123456789abcdef0123456789abcdef --follow
  ingot jobs list -o table

Run 'ingot jobs <command> --help' for a command's options.
`;

const OUTPUT_HELP = `  -o, --output json|table|tsv output format (default json)`;

const HELP_CREATE = `Usage: ingot jobs create --model MODEL --training-file ID|PATH [options]

Creates a fine-tuning job. A local file given as --training-file or --validation-file is
uploaded first (and must pass validation). With --wait, training progress (step, loss,
tokens/s, ETA) is shown on stderr until the job ends; the exit status is 0 when it succeeded
and 1 when it failed or was cancelled.

Options:
  --model MODEL               base model (e.g. tiny-chat) or a fine-tuned model to continue from
  --training-file ID|PATH     a file id (file-…) or a local JSONL file to upload
  --validation-file ID|PATH   optional validation data, the same way
  --validation-split F        hold out this fraction of the training file instead (Ingot extra)
  --n-epochs N                passes over the data (1-50; default auto)
  --batch-size N              examples per step (default auto)
  --learning-rate-multiplier F  scales the base learning rate (default auto = 1)
  --suffix S                  appended to the fine-tuned model's name
  --seed N                    for reproducible training
  --wait                      show progress and wait until the job ends
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot jobs create --model tiny-chat --training-file ./train.jsonl --n-epochs 3 --suffix demo --wait
`;

const HELP_LIST = `Usage: ingot jobs list [--limit N] [options]

Lists the account's fine-tuning jobs, newest first (all pages unless --limit is given).

Options:
  --limit N                   at most N jobs
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot jobs list -o table
`;

const idHelp = (name: string, what: string, example: string) => `Usage: ingot jobs ${name} --id ID [options]

${what}

Options:
  --id ID                     the job's id (ftjob-…); may also be given as the argument
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ${example}
`;

const HELP_EVENTS = `Usage: ingot jobs events --id ID [--follow] [--limit N] [options]

Prints the job's events, oldest first: status messages and one metrics event per training
step (data: step, total_steps, epoch, train_loss, …). With --follow, keeps printing new events
until the job ends (exit status 0 when it succeeded, 1 otherwise); with -o json, one JSON
object a line.

Options:
  --id ID                     the job's id (ftjob-…); may also be given as the argument
  --follow                    keep printing new events until the job ends
  --limit N                   only the newest N events
${OUTPUT_HELP}
${DATA_HELP}

Example:
  ingot jobs events --id ftjob-0123456789abcdef0123456789abcdef --follow
`;

const when = (seconds: number | null | undefined) => (typeof seconds === "number" ? new Date(seconds * 1000).toISOString().replace(".000Z", "Z") : "");

const JOB_TABLE: [string, (j: any) => unknown][] = [
  ["Id", (j) => j.id],
  ["Model", (j) => j.model],
  ["Status", (j) => j.status],
  ["FineTunedModel", (j) => j.fine_tuned_model],
  ["TrainedTokens", (j) => j.trained_tokens],
  ["Created", (j) => when(j.created_at)],
];

const EVENT_TABLE: [string, (e: any) => unknown][] = [
  ["Created", (e) => when(e.created_at)],
  ["Level", (e) => e.level],
  ["Type", (e) => e.type],
  ["Message", (e) => e.message],
];

const round = (n: unknown) => (typeof n === "number" ? Number(n.toFixed(4)) : "");
const CHECKPOINT_TABLE: [string, (c: any) => unknown][] = [
  ["Id", (c) => c.id],
  ["Step", (c) => c.step_number],
  ["TrainLoss", (c) => round(c.metrics?.train_loss)],
  ["TrainAccuracy", (c) => round(c.metrics?.train_mean_token_accuracy)],
  ["ValidLoss", (c) => round(c.metrics?.full_valid_loss ?? c.metrics?.valid_loss)],
  ["Created", (c) => when(c.created_at)],
];

const CREATE_OPTIONS = {
  ...DATA_OPTIONS,
  ...OUTPUT_OPTION,
  model: { type: "string" },
  "training-file": { type: "string" },
  "validation-file": { type: "string" },
  "validation-split": { type: "string" },
  "n-epochs": { type: "string" },
  "batch-size": { type: "string" },
  "learning-rate-multiplier": { type: "string" },
  suffix: { type: "string" },
  seed: { type: "string" },
  wait: { type: "boolean" },
} as const;
const LIST_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, limit: { type: "string" } } as const;
const ID_OPTIONS = { ...DATA_OPTIONS, ...OUTPUT_OPTION, id: { type: "string" } } as const;
const EVENTS_OPTIONS = { ...ID_OPTIONS, follow: { type: "boolean" }, limit: { type: "string" } } as const;

export function jobsCommand(argv: string[]): Promise<number> {
  return dispatch("ingot jobs", argv, HELP, {
    create,
    list,
    show: byId("show", "Shows one fine-tuning job.", "GET", ""),
    events,
    checkpoints,
    cancel: byId("cancel", "Cancels a job (its trainer stops within seconds); prints the job.", "POST", "/cancel"),
    pause: byId("pause", "Pauses a running job; it keeps its last checkpoint and resumes from it.", "POST", "/pause"),
    resume: byId("resume", "Resumes a paused job (it is queued again).", "POST", "/resume"),
    delete: byId("delete", "Deletes a job that is no longer running.", "DELETE", ""),
  });
}

function idOf(command: string, values: Values, positionals: string[]): string {
  const id = (values.id as string | undefined) ?? positionals[0];
  if (!id) throw new CliError(`${command}: --id is required, e.g. ${command} --id ftjob-0123456789abcdef0123456789abcdef. Run 'ingot jobs list' to see the ids.`, 2);
  return id;
}

const jobPath = (id: string, tail = "") => `${JOBS}/${encodeURIComponent(id)}${tail}`;

/** A file id as given, or a local file uploaded (and validated) first. */
async function fileArgument(client: DataClient, flag: string, value: string): Promise<string> {
  let isFile = false;
  try {
    isFile = statSync(value).isFile();
  } catch {
    // not a local path
  }
  if (isFile) {
    const file = await uploadAndWait(client, value, "fine-tune", true);
    if (file.status === "error") throw new CliError(`--${flag} ${value} failed validation (see the lines above); fix it and run again.`);
    return file.id;
  }
  if (/^file-/.test(value)) return value;
  throw new CliError(`--${flag}: '${value}' is neither a local file nor a file id (file-…). Give a path to a JSONL file, or an id from 'ingot files list'.`, 2);
}

/** A hyperparameter flag: a number, or "auto". */
function hyper(cmd: string, v: Values, flag: string, opts: { integer?: boolean; min?: number; max?: number }): number | "auto" | undefined {
  if (v[flag] === "auto") return "auto";
  return numberFlag(cmd, v, flag, opts);
}

async function create(args: string[]): Promise<number> {
  const cmd = "ingot jobs create";
  const { values: v } = parseCommand(cmd, args, CREATE_OPTIONS);
  if (v.help) return help(HELP_CREATE);
  const output = outputFormat(cmd, v);
  const model = required(cmd, v, "model", "--model tiny-chat");
  const training = required(cmd, v, "training-file", "--training-file ./train.jsonl");
  const hyperparameters = Object.fromEntries(
    Object.entries({
      n_epochs: hyper(cmd, v, "n-epochs", { integer: true, min: 1 }),
      batch_size: hyper(cmd, v, "batch-size", { integer: true, min: 1 }),
      learning_rate_multiplier: hyper(cmd, v, "learning-rate-multiplier", { min: 0 }),
    }).filter(([, x]) => x !== undefined),
  );
  const seed = numberFlag(cmd, v, "seed", { integer: true, min: 0 });
  const split = numberFlag(cmd, v, "validation-split", { min: 0, max: 1 });

  const client = DataClient.fromValues(v);
  const body: Record<string, unknown> = { model, training_file: await fileArgument(client, "training-file", training) };
  if (typeof v["validation-file"] === "string") body.validation_file = await fileArgument(client, "validation-file", v["validation-file"]);
  if (split !== undefined) body.validation_split = split;
  if (Object.keys(hyperparameters).length) body.hyperparameters = hyperparameters;
  if (typeof v.suffix === "string") body.suffix = v.suffix;
  if (seed !== undefined) body.seed = seed;

  let job = await client.call("POST", JOBS, { json: body });
  process.stderr.write(`${job.id}: created (${job.status})\n`);
  if (!v.wait) {
    printOutput(output, job, JOB_TABLE);
    return 0;
  }
  job = await watch(client, job, { progress: true });
  printOutput(output, job, JOB_TABLE);
  return outcome(job);
}

/** 0 for a succeeded job; 1 (with the job's error on stderr) otherwise. */
function outcome(job: any): number {
  if (job.status === "succeeded") return 0;
  const err = job.error ? `: (${job.error.code}) ${job.error.message}` : "";
  process.stderr.write(`ingot: job ${job.id} ${job.status}${err}\n`);
  return 1;
}

/**
 * Polls the job and its new events until the job ends. With `progress`, a progress line (step,
 * loss, tokens/s, ETA) and the status messages go to stderr; `onEvent` gets every new event
 * (oldest first). Returns the final job.
 */
async function watch(client: DataClient, initial: any, opts: { progress?: boolean; onEvent?: (e: any) => void; seen?: string }): Promise<any> {
  const id: string = initial.id;
  const bar = opts.progress ? new ProgressLine() : undefined;
  const tokens = new RateMeter();
  const steps = new RateMeter();
  let metrics: Record<string, any> | undefined;
  let seen = opts.seen;
  let job = initial;
  const interrupted = () => {
    bar?.end();
    process.stderr.write(`\nStopped watching; ${id} goes on. Follow it with: ingot jobs events --id ${id} --follow\n`);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  try {
    for (;;) {
      job = await client.call("GET", jobPath(id));
      const fresh = await newEvents(client, id, seen);
      if (fresh.length) seen = fresh.at(-1).id;
      for (const e of fresh) {
        opts.onEvent?.(e);
        if (e.type === "metrics" && e.data) metrics = e.data;
        else if (bar) bar.log(`${e.level === "info" ? "" : `${e.level}: `}${e.message}`);
      }
      if (bar && !TERMINAL.includes(job.status)) {
        const now = Date.now();
        if (typeof job.trained_tokens === "number") tokens.add(now, job.trained_tokens);
        if (metrics) steps.add(now, metrics.step);
        bar.update(progressOf(job, job.status === "running" ? metrics : undefined, tokens, steps, now));
      }
      if (TERMINAL.includes(job.status)) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    process.removeListener("SIGINT", interrupted);
  }
  if (bar) {
    const took = job.finished_at && job.created_at ? ` in ${formatEta(job.finished_at - job.created_at)}` : "";
    bar.end(
      job.status === "succeeded"
        ? `${id}: succeeded${took}: fine-tuned model ${job.fine_tuned_model} (${job.trained_tokens} tokens trained)`
        : `${id}: ${job.status}${job.error ? `: (${job.error.code}) ${job.error.message}` : ""}`,
    );
  }
  return job;
}

/** The progress line for a job: its status, or the training step with loss, tokens/s and ETA. */
function progressOf(job: any, metrics: Record<string, any> | undefined, tokens: RateMeter, steps: RateMeter, now: number) {
  if (!metrics || !metrics.total_steps) return { label: `${job.id}: ${job.status.replace(/_/g, " ")}`, key: job.status };
  const { step, total_steps: total, epoch, train_loss: loss } = metrics as { step: number; total_steps: number; epoch: number; train_loss: number };
  const tps = tokens.rate();
  const sps = steps.rate();
  let eta: number | undefined;
  if (typeof job.estimated_finish === "number") eta = Math.max(0, job.estimated_finish - now / 1000);
  else if (sps) eta = (total - step) / sps;
  const nEpochs = job.hyperparameters?.n_epochs;
  const detail = [
    `step ${step}/${total}`,
    `epoch ${epoch}${typeof nEpochs === "number" ? `/${nEpochs}` : ""}`,
    `loss ${typeof loss === "number" ? loss.toFixed(4) : "?"}`,
    `${tps === undefined ? "?" : Math.round(tps)} tok/s`,
    `ETA ${formatEta(eta)}`,
  ].join("  ");
  return { label: "training", fraction: step / total, detail, key: job.status };
}

/** Events newer than `seen` (all of them when undefined), oldest first. */
export async function newEvents(client: DataClient, id: string, seen: string | undefined, limit?: number): Promise<any[]> {
  const out: any[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.call("GET", jobPath(id, "/events"), { query: { limit: 100, after } });
    for (const e of page.data) {
      if (e.id === seen) return out.reverse();
      out.push(e);
      if (limit !== undefined && out.length >= limit) return out.reverse();
    }
    if (!page.has_more || page.data.length === 0) return out.reverse();
    after = page.data.at(-1).id;
  }
}

async function list(args: string[]): Promise<number> {
  const cmd = "ingot jobs list";
  const { values: v } = parseCommand(cmd, args, LIST_OPTIONS);
  if (v.help) return help(HELP_LIST);
  const output = outputFormat(cmd, v);
  const limit = numberFlag(cmd, v, "limit", { integer: true, min: 1, max: 10000 });
  const client = DataClient.fromValues(v);
  const jobs: any[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.call("GET", JOBS, { query: { after, limit: Math.min(100, limit === undefined ? 100 : limit - jobs.length) } });
    jobs.push(...page.data);
    if (!page.has_more || page.data.length === 0 || (limit !== undefined && jobs.length >= limit)) break;
    after = page.data.at(-1).id;
  }
  printOutput(output, jobs, JOB_TABLE);
  return 0;
}

function byId(name: string, what: string, method: string, tail: string) {
  const text = idHelp(name, what, `ingot jobs ${name} --id ftjob-0123456789abcdef0123456789abcdef`);
  return async (args: string[]): Promise<number> => {
    const cmd = `ingot jobs ${name}`;
    const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
    if (v.help) return help(text);
    const output = outputFormat(cmd, v);
    const id = idOf(cmd, v, positionals);
    const job = await DataClient.fromValues(v).call(method, jobPath(id, tail));
    if (method === "DELETE") {
      printOutput(output, { id, object: "fine_tuning.job", deleted: true }, [
        ["Id", (r) => r.id],
        ["Deleted", (r) => r.deleted],
      ]);
      return 0;
    }
    printOutput(output, job, JOB_TABLE);
    return 0;
  };
}

const eventLine = (e: any) => `${when(e.created_at)}  ${e.level.padEnd(7)}  ${e.message}`;

async function events(args: string[]): Promise<number> {
  const cmd = "ingot jobs events";
  const { values: v, positionals } = parseCommand(cmd, args, EVENTS_OPTIONS, 1);
  if (v.help) return help(HELP_EVENTS);
  const output = outputFormat(cmd, v);
  const id = idOf(cmd, v, positionals);
  const limit = numberFlag(cmd, v, "limit", { integer: true, min: 1, max: 100000 });
  const client = DataClient.fromValues(v);
  const existing = await newEvents(client, id, undefined, limit);
  if (!v.follow) {
    printOutput(output, existing, EVENT_TABLE);
    return 0;
  }
  const print = (e: any) => process.stdout.write(output === "json" ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
  existing.forEach(print);
  const job = await client.call("GET", jobPath(id));
  const final = await watch(client, job, { onEvent: print, seen: existing.at(-1)?.id });
  return outcome(final);
}

async function checkpoints(args: string[]): Promise<number> {
  const cmd = "ingot jobs checkpoints";
  const { values: v, positionals } = parseCommand(cmd, args, ID_OPTIONS, 1);
  if (v.help) return help(idHelp("checkpoints", "Lists the job's checkpoints, newest first: one per epoch, each a deployable model (ftchkpt-…) with its metrics.", "ingot jobs checkpoints --id ftjob-0123456789abcdef0123456789abcdef -o table"));
  const output = outputFormat(cmd, v);
  const id = idOf(cmd, v, positionals);
  const client = DataClient.fromValues(v);
  const all: any[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.call("GET", jobPath(id, "/checkpoints"), { query: { limit: 100, after } });
    all.push(...page.data);
    if (!page.has_more || page.data.length === 0) break;
    after = page.data.at(-1).id;
  }
  printOutput(output, all, CHECKPOINT_TABLE);
  return 0;
}

function help(text: string): number {
  process.stdout.write(text);
  return 0;
}
