// `ingot ml job create|show|list|cancel|stream`: Azure ML FineTuning jobs as `az ml job …` runs
// them. create reads az ml's YAML (seed 004's Sample CLI), uploads local training/validation
// files to the workspace's default datastore as az ml does (reference azure-ml.md §4), turns
// `azureml:name:version` / `azureml:name@latest` into data-version ids, and PUTs the REST body of
// §7.1. stream shows status and training loss (from the OpenAI-style events of the workspace's
// backing account: one job, two views) with a progress bar until the job ends.
import { randomBytes, createHash } from "node:crypto";
import { createReadStream, openAsBlob, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { ArmClient, CliError } from "../arm-client.ts";
import { numberFlag } from "../args.ts";
import { DataClient } from "../data-client.ts";
import { formatEta, ProgressLine, RateMeter } from "../progress.ts";
import type { ProgressUpdate } from "../progress.ts";
import { newEvents } from "./jobs.ts";
import { armOf, help, listAll, ML_API_VERSION, need, parse, print, readYaml, scopeOf, WORKSPACE_HELP, WORKSPACE_OPTIONS, workspacePath } from "./ml-common.ts";
import type { Parsed } from "./ml-common.ts";
import { assetVersionId, classifyInput, jobEntity, jobRequestFromYaml, localUploadUri, YamlFileError } from "./ml-yaml.ts";
import type { WorkspaceScope } from "./ml-yaml.ts";

export const JOB_HELP = `Usage: ingot ml job <create|show|list|cancel|stream> [options]

Azure ML fine-tuning jobs of a workspace, as 'az ml job …' runs them. The job trains on this
machine (Ingot's trainer); it is also listed by the OpenAI-style fine-tuning API of the
workspace's backing account.

Commands:
  create -f job.yaml          create a job from az ml's YAML (type: finetuning); local
                              training/validation files are uploaded to the workspace's datastore
  show -n NAME                one job
  list                        the workspace's jobs
  cancel -n NAME              cancel a job
  stream -n NAME              show status and training loss until the job ends

Examples:
  ingot ml job create -f job.yaml -g ingot -w my-project
  ingot ml job stream -n my-job -g ingot -w my-project
  ingot ml job list -g ingot -w my-project -o table

Run 'ingot ml job <command> --help' for a command's options.
`;

const HELP_CREATE = `Usage: ingot ml job create --file job.yaml -w WS [-g RG] [--name N] [--set key=value]... [--stream]

Creates a fine-tuning job from az ml's job YAML and prints it (az ml's keys). The file is the
one 'az ml job create -f' takes, e.g. seed 004's Sample CLI:

  type: finetuning
  name: my-job                        # optional: --name, else a generated name
  experiment_name: my-experiment
  display_name: My job
  task: chat_completion               # or text_completion
  model_provider: custom
  model:
    path: azureml://registries/azureml/models/<model>/versions/<v>
    type: mlflow_model
  training_data: train.jsonl          # a local file (uploaded), azureml:name:version,
  validation_data:                    # azureml:name@latest, azureml://… or https://…
    path: validation.jsonl
    type: uri_file
  hyperparameters:
    num_train_epochs: "1"
    per_device_train_batch_size: "1"
    learning_rate: "0.00002"
  outputs:
    registered_model:
      name: my-finetuned-model        # the workspace model the job registers

Local paths are relative to the YAML file. They are uploaded to the workspace's default
datastore (workspaceblobstore, under LocalUpload/<content hash>/) and the job reads them from
there, as az ml does; a file already uploaded is not sent again.

Options:
  -f, --file PATH             the job's YAML file (required)
  -n, --name NAME             the job's name (overrides the file's)
  --set KEY=VALUE             set a key of the file, e.g. --set hyperparameters.num_train_epochs=2
                              (repeatable)
  --stream                    show progress until the job ends (exit 1 if it fails or is canceled)
${WORKSPACE_HELP}

Example:
  ingot ml job create -f job.yaml -g ingot -w my-project --stream
`;

const nameHelp = (sub: string, what: string, extra = "") => `Usage: ingot ml job ${sub} --name NAME -w WS [-g RG] [options]

${what}

Options:
  -n, --name NAME             the job's name (required)
${extra}${WORKSPACE_HELP}

Example:
  ingot ml job ${sub} -n my-job -g ingot -w my-project
`;

const HELP_LIST = `Usage: ingot ml job list -w WS [-g RG] [--max-results N] [options]

Lists the workspace's jobs.

Options:
  -r, --max-results N         at most N jobs
${WORKSPACE_HELP}

Example:
  ingot ml job list -g ingot -w my-project -o table
`;

const HELP_STREAM = nameHelp(
  "stream",
  `Shows the job's status and, while it trains, a progress bar with step, epoch, training loss
and ETA (on stderr) until it is Completed, Failed or Canceled; then prints the job. The exit
status is 0 when it completed and 1 when it failed or was canceled.`,
);

const JOB_TABLE: [string, (j: any) => unknown][] = [
  ["Name", (j) => j.name],
  ["Type", (j) => j.type],
  ["Task", (j) => j.task],
  ["Status", (j) => j.status],
  ["RegisteredModel", (j) => j.outputs?.registered_model?.name],
  ["Created", (j) => j.creation_context?.created_at],
];

const NAME_OPTIONS = { ...WORKSPACE_OPTIONS, name: { type: "string", short: "n" } } as const;
const CREATE_OPTIONS = { ...NAME_OPTIONS, file: { type: "string", short: "f" }, set: { type: "string", multiple: true }, stream: { type: "boolean" } } as const;
const LIST_OPTIONS = { ...WORKSPACE_OPTIONS, "max-results": { type: "string", short: "r" } } as const;

const jobPath = (s: WorkspaceScope, name: string) => `${workspacePath(s)}/jobs/${encodeURIComponent(name)}`;
const TERMINAL = ["Completed", "Failed", "Canceled"];

export const jobCommands: Record<string, (args: string[]) => Promise<number>> = { create, show, list, cancel, stream };

async function create(args: string[]): Promise<number> {
  const p = parse("ingot ml job create", args, CREATE_OPTIONS);
  if (p.help) return help(HELP_CREATE);
  const scope = scopeOf(p);
  need(p, "file", "--file job.yaml");
  const yaml = readYaml(p)!;
  const request = jobRequestFromYaml(yaml.file, { name: typeof p.v.name === "string" ? p.v.name : undefined });
  const arm = armOf(p);
  const details = request.body.properties.fineTuningDetails;
  for (const input of request.inputs) details[input.field].uri = await resolveDataInput(arm, scope, input.path, input.where, dirname(resolve(yaml.path)));
  // az ml names a job it is not given a name for; so does Ingot (letters and digits, as its rule wants).
  const name = request.name ?? `ft_${randomBytes(6).toString("hex")}`;
  const { body } = await arm.call("PUT", jobPath(scope, name), request.body, ML_API_VERSION);
  process.stderr.write(`${name}: created (${body?.properties?.status ?? "NotStarted"})\n`);
  if (!p.v.stream) {
    print(p.output, jobEntity(body), JOB_TABLE);
    return 0;
  }
  const final = await follow(arm, scope, name);
  print(p.output, jobEntity(final), JOB_TABLE);
  return outcome(final);
}

async function show(args: string[]): Promise<number> {
  const p = parse("ingot ml job show", args, NAME_OPTIONS, 1);
  if (p.help) return help(nameHelp("show", "Shows one job (az ml's keys: status, task, model, training_data, outputs, …)."));
  const scope = scopeOf(p);
  const name = nameOf(p);
  const { body } = await armOf(p).call("GET", jobPath(scope, name), undefined, ML_API_VERSION);
  print(p.output, jobEntity(body), JOB_TABLE);
  return 0;
}

async function list(args: string[]): Promise<number> {
  const p = parse("ingot ml job list", args, LIST_OPTIONS);
  if (p.help) return help(HELP_LIST);
  const scope = scopeOf(p);
  const max = numberFlag(p.cmd, p.v, "max-results", { integer: true, min: 1 });
  const jobs = await listAll(armOf(p), `${workspacePath(scope)}/jobs`);
  print(p.output, jobs.slice(0, max ?? jobs.length).map(jobEntity), JOB_TABLE);
  return 0;
}

async function cancel(args: string[]): Promise<number> {
  const p = parse("ingot ml job cancel", args, NAME_OPTIONS, 1);
  if (p.help) return help(nameHelp("cancel", "Cancels a job (its trainer stops within seconds) and prints it."));
  const scope = scopeOf(p);
  const name = nameOf(p);
  const arm = armOf(p);
  const first = await arm.call("POST", `${jobPath(scope, name)}/cancel`, undefined, ML_API_VERSION);
  const location = first.headers.get("location");
  // Python waits on the 202's Location (§7.2); then the job is read back.
  for (let i = 0; first.status === 202 && location && i < 120; i++) {
    const r = await arm.call("GET", location, undefined, ML_API_VERSION);
    if (r.status !== 202) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  const { body } = await arm.call("GET", jobPath(scope, name), undefined, ML_API_VERSION);
  print(p.output, jobEntity(body), JOB_TABLE);
  return 0;
}

async function stream(args: string[]): Promise<number> {
  const p = parse("ingot ml job stream", args, NAME_OPTIONS, 1);
  if (p.help) return help(HELP_STREAM);
  const scope = scopeOf(p);
  const arm = armOf(p);
  const final = await follow(arm, scope, nameOf(p));
  print(p.output, jobEntity(final), JOB_TABLE);
  return outcome(final);
}

function nameOf(p: Parsed): string {
  const n = (p.v.name as string | undefined) ?? p.positionals[0];
  if (!n) throw new CliError(`${p.cmd}: --name (-n) is required, e.g. ${p.cmd} -n my-job -w my-project. Run 'ingot ml job list -w …' to see the names.`, 2);
  return n;
}

function outcome(job: any): number {
  const status = job?.properties?.status;
  if (status === "Completed") return 0;
  const e = job?.properties?.error;
  process.stderr.write(`ingot: job ${job?.name} ${status}${e?.message ? `: (${e.code}) ${e.message}` : ""}\n`);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/**
 * A data input as the job will read it: a local file is uploaded to the datastore (§4) and
 * becomes its azureml://datastores/… URI; azureml:name:version an ARM data-version id;
 * azureml:name@latest the same with the container's latest version; anything else passes.
 */
async function resolveDataInput(arm: ArmClient, scope: WorkspaceScope, value: string, where: string, baseDir: string): Promise<string> {
  const ref = classifyInput(value);
  if (!ref) throw new YamlFileError(`${where}: '${value}' is not an asset reference; write azureml:<name>:<version>, azureml:<name>@latest, a datastore URI (azureml://datastores/…) or a local path.`);
  switch (ref.kind) {
    case "uri":
      return ref.uri;
    case "version":
      return assetVersionId(scope, "data", ref.name, ref.version);
    case "latest": {
      const { body } = await arm.call("GET", `${workspacePath(scope)}/data/${encodeURIComponent(ref.name)}`, undefined, ML_API_VERSION);
      const latest = body?.properties?.latestVersion;
      if (typeof latest !== "string" || !latest) throw new CliError(`${where}: data asset '${ref.name}' has no versions yet; create one or name a version (azureml:${ref.name}:1).`);
      return assetVersionId(scope, "data", ref.name, latest);
    }
    case "local": {
      const path = resolve(baseDir, ref.path);
      let isFile = false;
      let isDir = false;
      try {
        const st = statSync(path);
        isFile = st.isFile();
        isDir = st.isDirectory();
      } catch {
        // missing: below
      }
      if (isDir) throw new YamlFileError(`${where}: '${ref.path}' is a folder; name the JSONL file in it (Ingot trains on one file).`);
      if (!isFile) throw new YamlFileError(`${where}: no file at '${path}' (local paths are relative to the YAML file). Fix the path, or name a data asset (azureml:<name>:<version>).`);
      return uploadToDatastore(arm, scope, path);
    }
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const BLOB_VERSION = "2023-11-03";

/** The code and message of a Blob REST error reply (XML), or the status. */
async function blobError(res: Response, what: string): Promise<CliError> {
  const text = await res.text().catch(() => "");
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]?.split("\n")[0];
  return new CliError(`${what}: HTTP ${res.status}${code ? ` (${code})` : ""}${message ? ` ${message}` : text && !code ? ` ${text.slice(0, 200)}` : ""}`);
}

/**
 * Uploads a local file to the workspace's default datastore as az ml does (§4): the blob
 * `LocalUpload/<content hash>/<file name>` in the datastore's container, on the blob endpoint
 * the datastore names, with the CLI's bearer token; then metadata upload_status=completed. A
 * blob already marked completed is not sent again.
 */
async function uploadToDatastore(arm: ArmClient, scope: WorkspaceScope, path: string): Promise<string> {
  const { body: ds } = await arm.call("GET", `${workspacePath(scope)}/datastores/workspaceblobstore`, undefined, ML_API_VERSION);
  const props = ds?.properties ?? {};
  const container = props.containerName;
  // Ingot's datastores carry the URL of its blob endpoint; a real one is <account>.blob.<suffix>.
  const endpoint = typeof props.blobEndpoint === "string" ? props.blobEndpoint : props.accountName && props.endpoint ? `${props.protocol ?? "https"}://${props.accountName}.blob.${props.endpoint}` : undefined;
  if (typeof container !== "string" || !endpoint)
    throw new CliError(`The workspace's datastore 'workspaceblobstore' names no blob container or endpoint (got ${JSON.stringify(props).slice(0, 200)}); cannot upload ${basename(path)}.`);
  const hash = (await sha256(path)).slice(0, 32);
  const file = basename(path);
  const blobPath = `LocalUpload/${hash}/${file}`;
  const url = `${endpoint.replace(/\/+$/, "")}/${encodeURIComponent(container)}/${blobPath.split("/").map(encodeURIComponent).join("/")}`;
  const auth = { authorization: `Bearer ${await arm.token()}`, "x-ms-version": BLOB_VERSION };
  const bytes = statSync(path).size;
  let res: Response;
  try {
    res = await fetch(url, { method: "HEAD", headers: auth });
  } catch (e) {
    throw new CliError(`Cannot reach the datastore's blob endpoint ${endpoint} (${(e as { cause?: Error }).cause?.message ?? (e as Error).message}).`);
  }
  if (res.ok && res.headers.get("x-ms-meta-upload_status") === "completed") {
    process.stderr.write(`${file}: already uploaded to workspaceblobstore (${blobPath})\n`);
    return localUploadUri(hash, file);
  }
  process.stderr.write(`Uploading ${file} (${formatBytes(bytes)}) to workspaceblobstore/${blobPath}\n`);
  res = await fetch(url, {
    method: "PUT",
    headers: { ...auth, "x-ms-blob-type": "BlockBlob", "content-type": "application/octet-stream" },
    body: await openAsBlob(path),
  });
  if (!res.ok) throw await blobError(res, `Uploading ${file} to ${url}`);
  res = await fetch(`${url}?comp=metadata`, { method: "PUT", headers: { ...auth, "x-ms-meta-upload_status": "completed" } });
  if (!res.ok) throw await blobError(res, `Marking ${file} uploaded`);
  return localUploadUri(hash, file);
}

/** " in m:ss" from the job's creation to its last change, when the body has both. */
const took = (job: any) => {
  const from = Date.parse(job?.systemData?.createdAt ?? "");
  const to = Date.parse(job?.systemData?.lastModifiedAt ?? "");
  return Number.isFinite(from) && Number.isFinite(to) && to >= from ? ` in ${formatEta((to - from) / 1000)}` : "";
};

const formatBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

// ---------------------------------------------------------------------------------------------
// Streaming a job.

/** The id of the fine-tuning job behind an ML job (ftjob-…), wherever the body shows it. */
export function fineTuningJobIdOf(job: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (v: unknown): string | undefined => {
    if (typeof v === "string") return /^ftjob-[A-Za-z0-9]+$/.test(v) ? v : undefined;
    if (!v || typeof v !== "object" || seen.has(v)) return undefined;
    seen.add(v);
    for (const x of Object.values(v as Record<string, unknown>)) {
      const found = walk(x);
      if (found) return found;
    }
    return undefined;
  };
  return walk(job);
}

/** A data-plane client for the account behind the workspace (for the job's events), or undefined. */
async function eventsClientOf(arm: ArmClient, scope: WorkspaceScope): Promise<DataClient | undefined> {
  try {
    const { body: ws } = await arm.call("GET", workspacePath(scope), undefined, ML_API_VERSION);
    const account = ws?.properties?.associatedAccountResourceId;
    if (typeof account !== "string" || !account) return undefined;
    const { body: keys } = await arm.call("POST", `${account}/listKeys`);
    if (typeof keys?.key1 !== "string") return undefined;
    return new DataClient({ endpoint: arm.endpoint, apiKey: keys.key1 });
  } catch {
    return undefined; // status alone, without the loss
  }
}

/** The progress line of a job: its status, or while it trains step/total with epoch, loss and ETA (steps per second → ETA). */
export function streamProgress(name: string, status: string, metrics: Record<string, any> | undefined, stepsPerSecond: number | undefined): ProgressUpdate {
  if (status !== "Running" || !metrics?.total_steps) return { label: `${name}: ${status}`, key: status };
  const { step, total_steps: total, epoch, train_loss: loss } = metrics;
  return {
    label: `${name}: training`,
    fraction: step / total,
    detail: [`step ${step}/${total}`, `epoch ${epoch}`, `loss ${typeof loss === "number" ? loss.toFixed(4) : "?"}`, `ETA ${formatEta(stepsPerSecond ? (total - step) / stepsPerSecond : undefined)}`].join("  "),
    key: status,
  };
}

/**
 * Polls the job until it is Completed, Failed or Canceled: status changes and the job's event
 * messages as lines, and while it trains a progress bar with step, epoch, loss and ETA (from the
 * metrics events of the backing account's fine-tuning job). Returns the final job.
 */
async function follow(arm: ArmClient, scope: WorkspaceScope, name: string): Promise<any> {
  const bar = new ProgressLine();
  const steps = new RateMeter();
  const events = await eventsClientOf(arm, scope);
  let seen: string | undefined;
  let metrics: Record<string, any> | undefined;
  let job: any;
  let lastStatus = "";
  const interrupted = () => {
    bar.end();
    process.stderr.write(`\nStopped watching; ${name} goes on. Follow it again with: ingot ml job stream -n ${name} -w ${scope.workspace} -g ${scope.resourceGroup}\n`);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  try {
    for (;;) {
      job = (await arm.call("GET", jobPath(scope, name), undefined, ML_API_VERSION)).body;
      const status: string = job?.properties?.status ?? "Unknown";
      const ftId = fineTuningJobIdOf(job);
      if (events && ftId) {
        const fresh = await newEvents(events, ftId, seen).catch(() => []);
        if (fresh.length) seen = fresh.at(-1).id;
        for (const e of fresh) {
          if (e.type === "metrics" && e.data) metrics = e.data;
          else bar.log(`${e.level === "info" ? "" : `${e.level}: `}${e.message}`);
        }
      }
      if (status !== lastStatus) {
        bar.log(`${name}: ${status}`);
        lastStatus = status;
      }
      if (TERMINAL.includes(status)) break;
      if (typeof metrics?.step === "number") steps.add(Date.now(), metrics.step);
      bar.update(streamProgress(name, status, metrics, steps.rate()));
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.removeListener("SIGINT", interrupted);
  }
  const status = job?.properties?.status;
  const loss = typeof metrics?.train_loss === "number" ? `, final training loss ${metrics.train_loss.toFixed(4)}` : "";
  const model = job?.properties?.outputs?.registered_model;
  bar.end(
    status === "Completed"
      ? `${name}: Completed${took(job)}${loss}${model?.assetName ? `; registered model ${model.assetName}${model.assetVersion ? ` version ${model.assetVersion}` : ""}` : ""}`
      : `${name}: ${status}${job?.properties?.error?.message ? `: (${job.properties.error.code}) ${job.properties.error.message}` : ""}`,
  );
  return job;
}
