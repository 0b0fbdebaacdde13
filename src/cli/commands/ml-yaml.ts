// az ml's YAML files and the Azure ML REST bodies, both ways, for `ingot ml`: a fine-tuning job
// (reference azure-ml.md §7.4 → §7.1), a serverless endpoint (§9.1), a managed online endpoint
// and deployment (§10). Pure: no I/O, so every rule here is unit-tested. Errors name the file,
// the line and the key, and say what to write instead.
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node } from "yaml";
import { closest } from "../args.ts";
import { CliError } from "../errors.ts";

/** A YAML (or --set) problem: exit 2, nothing was sent. */
export class YamlFileError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

export type Path = (string | number)[];

export interface YamlFile {
  /** The document as plain values (a mapping). */
  value: Record<string, unknown>;
  /** "job.yaml line 9, key 'training_data'": where a key is (or the nearest enclosing key that is there). */
  where(path: Path): string;
}

const keyName = (path: Path) => path.map(String).join(".");

/** Parses `text` (the file `file`); a syntax error, a duplicate key or a non-mapping root names its line. */
export function loadYamlFile(text: string, file: string): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = lines.linePos(first.pos[0]);
    throw new YamlFileError(`${file} line ${at.line}, column ${at.col}: ${first.message.replace(/\s+at line .*$/s, "")}. Fix the YAML and run again.`);
  }
  const root = doc.contents;
  if (!isMap(root)) {
    const line = root?.range ? lines.linePos(root.range[0]).line : 1;
    throw new YamlFileError(`${file} line ${line}: the file must be a YAML mapping of keys (such as 'type: finetuning'), not ${root ? (isSeq(root) ? "a list" : "a single value") : "empty"}.`);
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  const where = (path: Path): string => {
    let node: Node | null | undefined = root;
    let line = 1;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
        if (!pair) break;
        const range = (pair.key as Node | null)?.range;
        if (range) line = lines.linePos(range[0]).line;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        if (item.range) line = lines.linePos(item.range[0]).line;
        node = item;
      } else break;
    }
    return `${file} line ${line}, key '${keyName(path)}'`;
  };
  return { value, where };
}

/**
 * az ml's `--set key.path=value`: sets a (dotted) key of the file's value before it is read,
 * creating mappings on the way. Values are strings (az ml's are), read as numbers where a number
 * is wanted.
 */
export function applySets(value: Record<string, unknown>, sets: string[]): void {
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new YamlFileError(`--set '${set}': write key=value, e.g. --set hyperparameters.num_train_epochs=2 or --set display_name=my-job.`);
    const path = set.slice(0, eq).split(".");
    if (path.some((p) => p === "")) throw new YamlFileError(`--set '${set}': the key '${set.slice(0, eq)}' has an empty part; write keys separated by single dots.`);
    let target: Record<string, unknown> = value;
    for (const seg of path.slice(0, -1)) {
      const next = target[seg];
      if (next === undefined || next === null) target[seg] = {};
      else if (typeof next !== "object" || Array.isArray(next)) throw new YamlFileError(`--set '${set}': '${seg}' holds a single value, not keys; set '${path.slice(0, path.indexOf(seg) + 1).join(".")}' itself.`);
      target = target[seg] as Record<string, unknown>;
    }
    target[path.at(-1)!] = set.slice(eq + 1);
  }
}

/** Reads typed values out of a YamlFile, with errors that say where and what to write. */
class Reader {
  readonly #f: YamlFile;
  constructor(f: YamlFile) {
    this.#f = f;
  }
  get(path: Path): unknown {
    let v: unknown = this.#f.value;
    for (const seg of path) {
      if (v === null || typeof v !== "object") return undefined;
      v = (v as Record<string | number, unknown>)[seg];
    }
    return v ?? undefined;
  }
  fail(path: Path, message: string): never {
    throw new YamlFileError(`${this.#f.where(path)}: ${message}`);
  }
  /** Unknown keys are errors (az ml's are too), with the closest known key as a hint. */
  onlyKeys(path: Path, known: string[]): void {
    const v = this.get(path);
    if (v === undefined || typeof v !== "object" || Array.isArray(v)) return;
    for (const k of Object.keys(v as object)) {
      if (known.includes(k)) continue;
      const hint = closest(k, known);
      this.fail([...path, k], `unknown key '${k}'.${hint ? ` Did you mean '${hint}'?` : ""} Known keys${path.length ? ` under '${keyName(path)}'` : ""}: ${known.join(", ")}.`);
    }
  }
  string(path: Path, opts: { required?: string } = {}): string | undefined {
    const v = this.get(path);
    if (v === undefined || v === "") {
      if (opts.required) this.fail(path, `missing; add it, e.g. ${opts.required}.`);
      return undefined;
    }
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (typeof v !== "string") this.fail(path, `'${keyName(path)}' must be a single value (a string), not ${Array.isArray(v) ? "a list" : "a mapping"}.`);
    return v;
  }
  integer(path: Path, min: number): number | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min) this.fail(path, `'${keyName(path)}' must be an integer of at least ${min}; got '${String(v)}'.`);
    return n;
  }
  boolean(path: Path): boolean | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    this.fail(path, `'${keyName(path)}' must be true or false; got '${String(v)}'.`);
  }
  /** A mapping of single values, as strings (tags, properties, hyperparameters). */
  strings(path: Path): Record<string, string> | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) this.fail(path, `'${keyName(path)}' must be a mapping of keys to values, e.g. {key: "value"}.`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== null && typeof x === "object") this.fail([...path, k], `'${keyName([...path, k])}' must be a single value (quote it: "…"), not ${Array.isArray(x) ? "a list" : "a mapping"}.`);
      out[k] = x === null || x === undefined ? "" : String(x);
    }
    return out;
  }
  mapping(path: Path, example: string): Record<string, unknown> | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) this.fail(path, `'${keyName(path)}' must be a mapping, e.g. ${example}.`);
    return v as Record<string, unknown>;
  }
  /** An input given as a string path or as {path, type}: az ml takes both. */
  input(path: Path, defaultType: string, types: string[], example: string, required: boolean): { path: string; type: string } | undefined {
    const v = this.get(path);
    if (v === undefined) {
      if (required) this.fail(path, `missing; add it, e.g. ${keyName(path)}: ${example}.`);
      return undefined;
    }
    if (typeof v === "string") {
      if (v === "") this.fail(path, `'${keyName(path)}' is empty; give a path, e.g. ${example}.`);
      return { path: v, type: defaultType };
    }
    if (typeof v !== "object" || Array.isArray(v)) this.fail(path, `'${keyName(path)}' must be a path or a mapping with 'path' (and 'type'), e.g. ${example}.`);
    this.onlyKeys(path, ["path", "type", "mode", "description"]);
    const p = this.string([...path, "path"], { required: `${keyName(path).split(".").at(-1)}: {path: ${example}}` })!;
    const type = this.string([...path, "type"]) ?? defaultType;
    if (!types.includes(type)) this.fail([...path, "type"], `'${type}' is not a type Ingot reads here; use ${types.join(" or ")}.`);
    return { path: p, type };
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs: what a path in a job file is (§5 id formats).

export type InputRef =
  | { kind: "local"; path: string }
  | { kind: "version"; name: string; version: string }
  | { kind: "latest"; name: string }
  | { kind: "uri"; uri: string };

/**
 * What a job or deployment input names: a local path (uploaded), az ml's shorthands
 * `azureml:name:version` and `azureml:name@latest` (made ARM ids), or a URI/ARM id passed as is.
 * `undefined` for an `azureml:` shorthand that is neither form.
 */
export function classifyInput(value: string): InputRef | undefined {
  if (/^azureml:\/\//i.test(value) || /^\/subscriptions\//i.test(value) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { kind: "uri", uri: value };
  const shorthand = /^azureml:(.*)$/i.exec(value);
  if (shorthand) {
    const rest = shorthand[1];
    const latest = /^([A-Za-z0-9_.-]+)@latest$/.exec(rest);
    if (latest) return { kind: "latest", name: latest[1] };
    const pinned = /^([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+)$/.exec(rest);
    if (pinned) return { kind: "version", name: pinned[1], version: pinned[2] };
    return undefined;
  }
  return { kind: "local", path: value.replace(/^file:/i, "") };
}

export interface WorkspaceScope {
  subscription: string;
  resourceGroup: string;
  workspace: string;
}

export const ML_PROVIDER = "Microsoft.MachineLearningServices";

export const workspacePath = (s: WorkspaceScope) =>
  `/subscriptions/${encodeURIComponent(s.subscription)}/resourceGroups/${encodeURIComponent(s.resourceGroup)}/providers/${ML_PROVIDER}/workspaces/${encodeURIComponent(s.workspace)}`;

/** The ARM id of a workspace asset version (data or models), as az ml makes of `azureml:name:version`. */
export const assetVersionId = (s: WorkspaceScope, kind: "data" | "models", name: string, version: string) =>
  `${workspacePath(s)}/${kind}/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;

/** The datastore URI of an uploaded local file (§4 step 3). */
export const localUploadUri = (hash: string, file: string) => `azureml://datastores/workspaceblobstore/paths/LocalUpload/${hash}/${file}`;

// ---------------------------------------------------------------------------------------------
// Fine-tuning jobs.

const JOB_KEYS = [
  "$schema", "type", "name", "display_name", "experiment_name", "description", "tags", "properties", "task", "model_provider",
  "model", "training_data", "validation_data", "hyperparameters", "outputs", "compute", "resources", "queue_settings",
];

/** Azure's FineTuningTaskType values (§7.1); the YAML writes them in snake case. */
const TASK_TYPES = [
  "ChatCompletion", "TextCompletion", "TextClassification", "QuestionAnswering", "TextSummarization", "TokenClassification",
  "TextTranslation", "ImageClassification", "ImageInstanceSegmentation", "ImageObjectDetection", "VideoMultiObjectTracking",
];
const squash = (s: string) => s.replace(/[_\s-]/g, "").toLowerCase();
const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

const PROVIDERS: Record<string, string> = { custom: "Custom", azureopenai: "AzureOpenAI" };
const DATA_TYPES = ["uri_file", "uri_folder", "mltable"];
const MODEL_TYPES = ["mlflow_model", "custom_model", "triton_model"];

export interface JobRequest {
  /** From --name, else the file's `name`; undefined: the caller makes one up (az ml does too). */
  name: string | undefined;
  /** The REST body of §7.1, with the inputs' paths as written (resolve them with `inputs`). */
  body: { properties: Record<string, any> };
  /** The data inputs to resolve (local paths to upload, shorthands to make ids of), with where they are in the file. */
  inputs: { field: "trainingData" | "validationData"; path: string; where: string }[];
}

/** The fine-tuning job file (§7.4; seed 004's Sample CLI) as the REST body az ml sends (§7.1). */
export function jobRequestFromYaml(f: YamlFile, overrides: { name?: string } = {}): JobRequest {
  const r = new Reader(f);
  r.onlyKeys([], JOB_KEYS);
  const type = r.string(["type"], { required: "type: finetuning" })!;
  if (type.toLowerCase() !== "finetuning")
    r.fail(["type"], `'ingot ml job create' runs fine-tuning jobs: write 'type: finetuning' (got '${type}'; Ingot has no ${type} jobs).`);
  const taskText = r.string(["task"], { required: "task: chat_completion" })!;
  const taskType = TASK_TYPES.find((t) => squash(t) === squash(taskText));
  if (!taskType) r.fail(["task"], `'${taskText}' is not a fine-tuning task; use chat_completion or text_completion (Azure also names ${TASK_TYPES.slice(2).map(snake).join(", ")}).`);
  const providerText = r.string(["model_provider"]) ?? "custom";
  const modelProvider = PROVIDERS[squash(providerText)];
  if (!modelProvider) r.fail(["model_provider"], `'${providerText}' is not a model provider; use custom (or azure_openai).`);

  const model = r.input(["model"], "mlflow_model", MODEL_TYPES, `"azureml://registries/azureml/models/<model>/versions/<v>"`, true)!;
  const training = r.input(["training_data"], "uri_file", DATA_TYPES, "train.jsonl", true)!;
  const validation = r.input(["validation_data"], "uri_file", DATA_TYPES, "validation.jsonl", false);
  const hyperParameters = r.strings(["hyperparameters"]) ?? {};

  r.mapping(["outputs"], "outputs: {registered_model: {name: my-finetuned-model}}");
  r.onlyKeys(["outputs"], ["registered_model"]);
  r.mapping(["outputs", "registered_model"], "registered_model: {name: my-finetuned-model}");
  r.onlyKeys(["outputs", "registered_model"], ["name", "type", "version", "description"]);
  const assetName = r.string(["outputs", "registered_model", "name"], { required: "outputs: {registered_model: {name: my-finetuned-model}}" })!;
  const outputType = r.string(["outputs", "registered_model", "type"]) ?? "mlflow_model";
  if (!MODEL_TYPES.includes(outputType)) r.fail(["outputs", "registered_model", "type"], `'${outputType}' is not a model type; use ${MODEL_TYPES.join(" or ")}.`);
  const assetVersion = r.string(["outputs", "registered_model", "version"]);
  const outputDescription = r.string(["outputs", "registered_model", "description"]);

  r.mapping(["resources"], "resources: {instance_types: [Standard_NC24ads_A100_v4]}");
  r.onlyKeys(["resources"], ["instance_types"]);
  const instanceTypes = r.get(["resources", "instance_types"]);
  if (instanceTypes !== undefined && !(Array.isArray(instanceTypes) && instanceTypes.every((t) => typeof t === "string")))
    r.fail(["resources", "instance_types"], "'resources.instance_types' must be a list of strings, e.g. [Standard_NC24ads_A100_v4].");
  r.mapping(["queue_settings"], "queue_settings: {job_tier: standard}");
  r.onlyKeys(["queue_settings"], ["job_tier"]);
  const jobTier = r.string(["queue_settings", "job_tier"]);

  const input = (i: { path: string; type: string }) => ({ jobInputType: i.type, uri: i.path });
  const fineTuningDetails: Record<string, unknown> = {
    modelProvider,
    taskType,
    model: input(model),
    trainingData: input(training),
    ...(validation ? { validationData: input(validation) } : {}),
    hyperParameters,
  };
  const properties: Record<string, unknown> = {
    jobType: "FineTuning",
    ...defined({
      displayName: r.string(["display_name"]),
      experimentName: r.string(["experiment_name"]),
      description: r.string(["description"]),
      tags: r.strings(["tags"]),
      properties: r.strings(["properties"]),
      computeId: r.string(["compute"]),
    }),
    fineTuningDetails,
    outputs: { registered_model: { jobOutputType: outputType, assetName, ...defined({ assetVersion, description: outputDescription }) } },
    ...(instanceTypes ? { resources: { instanceTypes } } : {}),
    ...(jobTier ? { queueSettings: { jobTier: jobTier.charAt(0).toUpperCase() + jobTier.slice(1).toLowerCase() } } : {}),
  };
  const inputs: JobRequest["inputs"] = [{ field: "trainingData", path: training.path, where: f.where(["training_data"]) }];
  if (validation) inputs.push({ field: "validationData", path: validation.path, where: f.where(["validation_data"]) });
  const name = overrides.name ?? r.string(["name"]);
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/.test(name)) {
    const m = `'${name}' is not a valid job name: use up to 255 letters, digits, '-' and '_', starting with a letter or digit.`;
    if (overrides.name) cliNameError(m);
    r.fail(["name"], m);
  }
  return { name, body: { properties }, inputs };
}

const cliNameError = (message: string): never => {
  throw new YamlFileError(`--name: ${message}`);
};

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const inputOut = (i: any) => (i && typeof i === "object" ? { path: i.uri, type: i.jobInputType } : undefined);

/** A job as az ml prints it (its YAML keys), from the REST body. */
export function jobEntity(rest: any): Record<string, unknown> {
  const p = rest?.properties ?? {};
  const ft = p.fineTuningDetails ?? {};
  const out = p.outputs?.registered_model;
  return defined({
    name: rest?.name,
    type: typeof p.jobType === "string" ? p.jobType.toLowerCase() : undefined,
    status: p.status,
    display_name: p.displayName,
    experiment_name: p.experimentName,
    description: p.description ?? undefined,
    task: typeof ft.taskType === "string" ? snake(ft.taskType) : undefined,
    model_provider: typeof ft.modelProvider === "string" ? snake(ft.modelProvider) : undefined,
    model: inputOut(ft.model),
    training_data: inputOut(ft.trainingData),
    validation_data: inputOut(ft.validationData),
    hyperparameters: ft.hyperParameters,
    outputs: out ? { registered_model: defined({ name: out.assetName, type: out.jobOutputType, version: out.assetVersion ?? undefined, path: out.uri ?? undefined }) } : undefined,
    tags: p.tags,
    properties: p.properties,
    error: p.error ?? undefined,
    id: rest?.id,
    creation_context: rest?.systemData ? creationContext(rest.systemData) : undefined,
  });
}

const creationContext = (s: any) =>
  defined({ created_at: s.createdAt, created_by: s.createdBy, created_by_type: s.createdByType, last_modified_at: s.lastModifiedAt });

// ---------------------------------------------------------------------------------------------
// Serverless endpoints (§9.1).

export interface EndpointRequest {
  name: string;
  body: Record<string, any>;
}

const nameRule = (what: string, r: Reader, overrides: { name?: string }, max: number): string => {
  const name = overrides.name ?? r.string(["name"], { required: `name: my-${what}` })!;
  const ok = new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,${max - 1}}$`).test(name);
  if (!ok) {
    const m = `'${name}' is not a valid ${what} name: a letter, then letters, digits or '-' (at most ${max} characters).`;
    if (overrides.name) cliNameError(m);
    r.fail(["name"], m);
  }
  return name;
};

/** A serverless endpoint from its YAML (name, model_id, …) and the flags that override it. */
export function serverlessRequestFromYaml(f: YamlFile, overrides: { name?: string; modelId?: string } = {}): EndpointRequest {
  const r = new Reader(f);
  r.onlyKeys([], ["$schema", "name", "model_id", "location", "tags", "description", "auth_mode", "content_safety"]);
  const name = nameRule("endpoint", r, overrides, 52);
  const modelId = overrides.modelId ?? r.string(["model_id"], { required: "model_id: azureml://registries/azureml/models/<model>" })!;
  const authText = r.string(["auth_mode"]);
  let authMode: string | undefined;
  if (authText !== undefined) {
    authMode = { key: "Key", aad: "AAD" }[authText.toLowerCase()];
    if (!authMode) r.fail(["auth_mode"], `'${authText}' is not an auth mode of a serverless endpoint; use key (or aad).`);
  }
  r.mapping(["content_safety"], "content_safety: {content_safety_status: enabled}");
  r.onlyKeys(["content_safety"], ["content_safety_status"]);
  const safety = r.string(["content_safety", "content_safety_status"]);
  if (safety !== undefined && !["enabled", "disabled"].includes(safety.toLowerCase()))
    r.fail(["content_safety", "content_safety_status"], `'${safety}' must be enabled or disabled.`);
  return {
    name,
    body: defined({
      location: r.string(["location"]),
      sku: { name: "Consumption" },
      tags: r.strings(["tags"]) ?? {},
      properties: {
        modelSettings: { modelId },
        ...defined({ authMode, description: r.string(["description"]) }),
        ...(safety ? { contentSafety: { contentSafetyStatus: safety.charAt(0).toUpperCase() + safety.slice(1).toLowerCase() } } : {}),
      },
    }),
  };
}

export function serverlessEntity(rest: any): Record<string, unknown> {
  const p = rest?.properties ?? {};
  return defined({
    name: rest?.name,
    id: rest?.id,
    location: rest?.location,
    model_id: p.modelSettings?.modelId ?? undefined,
    scoring_uri: p.inferenceEndpoint?.uri ?? undefined,
    headers: p.inferenceEndpoint?.headers ?? undefined,
    auth_mode: typeof p.authMode === "string" ? p.authMode.toLowerCase() : undefined,
    provisioning_state: p.provisioningState,
    endpoint_state: p.endpointState ?? undefined,
    content_safety: p.contentSafety?.contentSafetyStatus ? { content_safety_status: String(p.contentSafety.contentSafetyStatus).toLowerCase() } : undefined,
    description: p.description ?? undefined,
    tags: rest?.tags,
    creation_context: rest?.systemData ? creationContext(rest.systemData) : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Managed online endpoints and deployments (§10).

const ONLINE_AUTH: Record<string, string> = { key: "Key", amltoken: "AMLToken", aadtoken: "AADToken" };

/** "blue=70 green=30" (az ml's --traffic), also with commas. */
export function parseTraffic(text: string, flag = "--traffic"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z][A-Za-z0-9-]*)=(\d{1,3})$/.exec(part);
    if (!m || Number(m[2]) > 100) throw new YamlFileError(`${flag}: '${part}' is not deployment=percent; write e.g. ${flag} "blue=70 green=30".`);
    out[m[1]] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new YamlFileError(`${flag} is empty; write e.g. ${flag} "blue=70 green=30".`);
  return out;
}

function trafficOf(r: Reader, key: string): Record<string, number> | undefined {
  const m = r.mapping([key], `${key}: {blue: 100}`);
  if (!m) return undefined;
  const out: Record<string, number> = {};
  for (const k of Object.keys(m)) out[k] = r.integer([key, k], 0)!;
  return out;
}

export function onlineEndpointRequestFromYaml(f: YamlFile, overrides: { name?: string } = {}): EndpointRequest {
  const r = new Reader(f);
  r.onlyKeys([], ["$schema", "name", "auth_mode", "description", "tags", "traffic", "mirror_traffic", "location", "identity", "kind", "public_network_access"]);
  const name = nameRule("endpoint", r, overrides, 32);
  const authText = r.string(["auth_mode"]) ?? "key";
  const authMode = ONLINE_AUTH[squash(authText)];
  if (!authMode) r.fail(["auth_mode"], `'${authText}' is not an auth mode of an online endpoint; use key, aml_token or aad_token.`);
  const pna = r.string(["public_network_access"]);
  return {
    name,
    body: defined({
      location: r.string(["location"]),
      kind: r.string(["kind"]),
      identity: { type: "SystemAssigned" },
      tags: r.strings(["tags"]) ?? {},
      properties: defined({
        authMode,
        description: r.string(["description"]),
        traffic: trafficOf(r, "traffic"),
        mirrorTraffic: trafficOf(r, "mirror_traffic"),
        publicNetworkAccess: pna === undefined ? undefined : pna.toLowerCase() === "disabled" ? "Disabled" : "Enabled",
      }),
    }),
  };
}

export function onlineEndpointEntity(rest: any): Record<string, unknown> {
  const p = rest?.properties ?? {};
  return defined({
    name: rest?.name,
    id: rest?.id,
    location: rest?.location,
    kind: rest?.kind,
    auth_mode: typeof p.authMode === "string" ? snake(p.authMode.replace("AMLToken", "AmlToken").replace("AADToken", "AadToken")) : undefined,
    scoring_uri: p.scoringUri ?? undefined,
    openapi_uri: p.swaggerUri ?? undefined,
    traffic: p.traffic ?? {},
    mirror_traffic: p.mirrorTraffic ?? undefined,
    provisioning_state: p.provisioningState,
    public_network_access: typeof p.publicNetworkAccess === "string" ? p.publicNetworkAccess.toLowerCase() : undefined,
    description: p.description ?? undefined,
    identity: rest?.identity ? { type: snake(String(rest.identity.type)) } : undefined,
    tags: rest?.tags,
    creation_context: rest?.systemData ? creationContext(rest.systemData) : undefined,
  });
}

export interface DeploymentRequest {
  name: string;
  endpointName: string;
  body: Record<string, any>;
  /** The model as written, to resolve (azureml:name:version and @latest become ARM ids). */
  model: { path: string; where: string };
}

export function onlineDeploymentRequestFromYaml(f: YamlFile, overrides: { name?: string; endpointName?: string } = {}): DeploymentRequest {
  const r = new Reader(f);
  r.onlyKeys([], [
    "$schema", "name", "endpoint_name", "model", "instance_type", "instance_count", "description", "tags", "environment_variables",
    "request_settings", "liveness_probe", "readiness_probe", "app_insights_enabled", "scale_settings", "location", "type",
  ]);
  const name = nameRule("deployment", r, overrides, 32);
  const endpointName = overrides.endpointName ?? r.string(["endpoint_name"], { required: "endpoint_name: my-endpoint (or --endpoint-name)" })!;
  const type = r.string(["type"]);
  if (type !== undefined && type.toLowerCase() !== "managed") r.fail(["type"], `Ingot runs managed online deployments; write 'type: managed' or leave it out (got '${type}').`);
  const model = r.input(["model"], "custom_model", [...MODEL_TYPES], "azureml://registries/azureml/models/<model>/versions/<v>", true)!;
  const instanceCount = r.integer(["instance_count"], 1) ?? 1;
  r.mapping(["request_settings"], "request_settings: {request_timeout_ms: 90000}");
  r.onlyKeys(["request_settings"], ["request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"]);
  const timeoutMs = r.integer(["request_settings", "request_timeout_ms"], 1);
  const maxConcurrent = r.integer(["request_settings", "max_concurrent_requests_per_instance"], 1);
  const requestSettings = defined({ requestTimeout: timeoutMs === undefined ? undefined : isoDuration(timeoutMs), maxConcurrentRequestsPerInstance: maxConcurrent });
  const probe = (key: string) => {
    const m = r.mapping([key], `${key}: {initial_delay: 10}`);
    if (!m) return undefined;
    r.onlyKeys([key], ["initial_delay", "period", "timeout", "failure_threshold", "success_threshold"]);
    const secs = (k: string) => {
      const n = r.integer([key, k], 0);
      return n === undefined ? undefined : `PT${n}S`;
    };
    return defined({ initialDelay: secs("initial_delay"), period: secs("period"), timeout: secs("timeout"), failureThreshold: r.integer([key, "failure_threshold"], 1), successThreshold: r.integer([key, "success_threshold"], 1) });
  };
  return {
    name,
    endpointName,
    model: { path: model.path, where: f.where(["model"]) },
    body: defined({
      location: r.string(["location"]),
      sku: { name: "Default", capacity: instanceCount },
      tags: r.strings(["tags"]) ?? {},
      properties: defined({
        endpointComputeType: "Managed",
        model: model.path,
        instanceType: r.string(["instance_type"]),
        description: r.string(["description"]),
        environmentVariables: r.strings(["environment_variables"]),
        requestSettings: Object.keys(requestSettings).length ? requestSettings : undefined,
        livenessProbe: probe("liveness_probe"),
        readinessProbe: probe("readiness_probe"),
        appInsightsEnabled: r.boolean(["app_insights_enabled"]),
        scaleSettings: { scaleType: "Default" },
      }),
    }),
  };
}

/** Milliseconds as an ISO 8601 duration ("PT90S", "PT1.5S"). */
export const isoDuration = (ms: number) => `PT${Number((ms / 1000).toFixed(3))}S`;

/** An ISO 8601 duration of seconds/minutes/hours as milliseconds, or undefined. */
export function durationMs(iso: unknown): number | undefined {
  if (typeof iso !== "string") return undefined;
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(iso);
  if (!m) return undefined;
  return Math.round(((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000);
}

export function onlineDeploymentEntity(rest: any, endpointName?: string): Record<string, unknown> {
  const p = rest?.properties ?? {};
  const rs = p.requestSettings;
  return defined({
    name: rest?.name,
    endpoint_name: endpointName ?? (typeof rest?.id === "string" ? /\/onlineEndpoints\/([^/]+)\/deployments\//i.exec(rest.id)?.[1] : undefined),
    id: rest?.id,
    type: typeof p.endpointComputeType === "string" ? p.endpointComputeType.toLowerCase() : undefined,
    model: p.model,
    instance_type: p.instanceType ?? undefined,
    instance_count: rest?.sku?.capacity,
    provisioning_state: p.provisioningState,
    request_settings: rs ? defined({ request_timeout_ms: durationMs(rs.requestTimeout), max_concurrent_requests_per_instance: rs.maxConcurrentRequestsPerInstance }) : undefined,
    environment_variables: p.environmentVariables ?? undefined,
    description: p.description ?? undefined,
    tags: rest?.tags,
    creation_context: rest?.systemData ? creationContext(rest.systemData) : undefined,
  });
}
