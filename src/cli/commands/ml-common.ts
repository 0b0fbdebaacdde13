// What every `ingot ml …` command shares: az ml's workspace flags (-g -w --subscription), the
// connection flags of the other ARM commands, output as JSON/YAML/table, reading a --file, and
// waiting on an ARM long-running operation as the Azure SDKs do (reference azure-ml.md §2.1).
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { ArmClient, CliError, printOutput } from "../arm-client.ts";
import { outputFormat, parseCommand } from "../args.ts";
import type { OptionSpec, Values } from "../args.ts";
import { ProgressLine } from "../progress.ts";
import { applySets, loadYamlFile, workspacePath } from "./ml-yaml.ts";
import type { WorkspaceScope, YamlFile } from "./ml-yaml.ts";

/** The api-version `ingot ml` sends: the one azure-ai-ml uses for FineTuning jobs and serverless endpoints (§1). */
export const ML_API_VERSION = "2024-01-01-preview";
export const DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
const TERMINAL_STATES = ["succeeded", "failed", "canceled", "cancelled"];

export const WORKSPACE_OPTIONS = {
  "resource-group": { type: "string", short: "g" },
  "workspace-name": { type: "string", short: "w" },
  subscription: { type: "string" },
  endpoint: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
  database: { type: "string" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export const WORKSPACE_HELP = `
Workspace and connection options:
  -g, --resource-group RG     the workspace's resource group (default ingot)
  -w, --workspace-name WS     the Azure ML workspace (hub or project) (required)
  --subscription ID           its subscription (default ${DEFAULT_SUBSCRIPTION})
  --endpoint URL              Ingot's address (default INGOT_ENDPOINT, else the server running
                              on --data-dir, else http://127.0.0.1:8080)
  --token TOKEN               bearer token (default INGOT_TOKEN, else one from the running server,
                              with the local admin credential it keeps in --data-dir)
  --data-dir DIR              data dir of the running local server (default ./.ingot)
  -o, --output json|yaml|table|tsv  output format (default json)
  -h, --help                  this help`;

export const OUTPUTS = ["json", "yaml", "table", "tsv"];

export interface Parsed {
  cmd: string;
  v: Values;
  positionals: string[];
  output: string | undefined;
}

/** Parses a command's flags; `--help` prints `help` (the caller returns 0 when `help` is set). */
export function parse(cmd: string, args: string[], options: OptionSpec, maxPositionals = 0): Parsed & { help: boolean } {
  const { values: v, positionals } = parseCommand(cmd, args, options, maxPositionals);
  if (v.help) return { cmd, v, positionals, output: undefined, help: true };
  return { cmd, v, positionals, output: outputFormat(cmd, v, OUTPUTS), help: false };
}

export function scopeOf(p: Parsed): WorkspaceScope {
  const workspace = p.v["workspace-name"];
  if (typeof workspace !== "string" || !workspace)
    throw new CliError(`${p.cmd}: --workspace-name (-w) is required, e.g. -g my-rg -w my-project. Run '${p.cmd} --help'.`, 2);
  const rg = p.v["resource-group"];
  return {
    subscription: typeof p.v.subscription === "string" ? p.v.subscription : DEFAULT_SUBSCRIPTION,
    resourceGroup: typeof rg === "string" && rg ? rg : "ingot",
    workspace,
  };
}

export function armOf(p: Parsed): ArmClient {
  const s = (k: string) => (typeof p.v[k] === "string" ? (p.v[k] as string) : undefined);
  return new ArmClient({ endpoint: s("endpoint"), token: s("token"), dataDir: s("data-dir"), database: s("database") });
}

/** A string flag, or a usage error that shows how to give it. */
export function need(p: Parsed, flag: string, example: string): string {
  const v = p.v[flag];
  if (typeof v !== "string" || v === "") throw new CliError(`${p.cmd}: --${flag} is required, e.g. ${example}. Run '${p.cmd} --help'.`, 2);
  return v;
}

/** The --file (YAML) with --set applied; without one, an empty file whose keys the flags fill (an error names a key as its flag, --model-id). */
export function yamlOrFlags(p: Parsed): YamlFile {
  return readYaml(p)?.file ?? { value: {}, where: (k: (string | number)[]) => `--${k.join(".").replace("_", "-")}` };
}

/** The --file (YAML), with az ml's --set applied; undefined without --file. */
export function readYaml(p: Parsed): { file: YamlFile; path: string } | undefined {
  const path = p.v.file;
  const sets = (p.v.set as unknown as string[] | undefined) ?? [];
  if (typeof path !== "string") {
    if (sets.length) {
      const file = loadYamlFile("{}", "--set");
      applySets(file.value, sets);
      return { file: { value: file.value, where: (k) => `--set ${k.join(".")}` }, path: "." };
    }
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`${p.cmd}: cannot read --file '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Give the path of a YAML file.`, 2);
  }
  const file = loadYamlFile(text, path);
  if (sets.length) {
    applySets(file.value, sets);
    const where = file.where;
    file.where = (k) => `${where(k)}${sets.some((s) => s.startsWith(`${k.join(".")}=`)) ? " (set by --set)" : ""}`;
  }
  return { file, path };
}

/** Prints a value as az prints it: JSON (default), YAML, a table or tab-separated values. */
export function print(output: string | undefined, value: unknown, columns?: [string, (row: any) => unknown][]): void {
  if (output === "yaml") {
    process.stdout.write(stringify(value, { lineWidth: 0 }));
    return;
  }
  printOutput(output, value, columns);
}

/** Follows `nextLink`s; returns every `value`. */
export async function listAll(arm: ArmClient, path: string): Promise<any[]> {
  const out: any[] = [];
  let next: string | undefined = path;
  for (let pages = 0; next && pages < 1000; pages++) {
    const { body } = await arm.call("GET", next, undefined, ML_API_VERSION);
    out.push(...(body?.value ?? []));
    next = typeof body?.nextLink === "string" ? body.nextLink : undefined;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const retryAfterMs = (h: Headers) => {
  const s = Number(h.get("retry-after"));
  return Number.isFinite(s) && s > 0 ? Math.min(s, 10) * 1000 : 1000;
};

/**
 * Waits for an ARM write to finish, as the SDKs poll (§2.1): an Azure-AsyncOperation (or
 * Operation-Location) URL until its status is terminal, else a 202's Location until it is not
 * 202, else the resource's own provisioningState. Shows the state on stderr. Returns the
 * resource (GET `resourcePath`) after a PUT, or undefined after a DELETE. A Failed operation is a
 * CliError with the service's message.
 */
export async function waitForOperation(
  arm: ArmClient,
  method: "PUT" | "DELETE" | "POST",
  resourcePath: string,
  first: { status: number; body: any; headers: Headers },
  label: string,
  opts: { deadlineMs?: number } = {},
): Promise<any> {
  const deadline = Date.now() + (opts.deadlineMs ?? 30 * 60_000);
  const line = new ProgressLine();
  const show = (state: string) => line.update({ label: `${label}: ${state}`, key: state });
  const async = first.headers.get("azure-asyncoperation") ?? first.headers.get("operation-location");
  const location = first.headers.get("location");
  try {
    if (async && [200, 201, 202].includes(first.status)) {
      let wait = retryAfterMs(first.headers);
      for (;;) {
        const { body, headers } = await arm.call("GET", async, undefined, ML_API_VERSION);
        const status = String(body?.status ?? "");
        if (TERMINAL_STATES.includes(status.toLowerCase())) {
          if (status.toLowerCase() !== "succeeded")
            throw new CliError(`${label}: ${status}${body?.error?.message ? `: (${body.error.code}) ${body.error.message}` : ""}`);
          break;
        }
        show(status || "InProgress");
        if (Date.now() > deadline) throw new CliError(`${label}: still ${status || "in progress"} after waiting; check it later with 'show'.`);
        await sleep(wait);
        wait = retryAfterMs(headers);
      }
    } else if (location && first.status === 202) {
      for (;;) {
        const r = await arm.call("GET", location, undefined, ML_API_VERSION);
        if (r.status !== 202) break;
        show("InProgress");
        if (Date.now() > deadline) throw new CliError(`${label}: still in progress after waiting; check it later with 'show'.`);
        await sleep(retryAfterMs(r.headers));
      }
    } else if (method === "PUT") {
      let body = first.body;
      for (;;) {
        const state = String(body?.properties?.provisioningState ?? "Succeeded");
        if (TERMINAL_STATES.includes(state.toLowerCase())) {
          if (state.toLowerCase() !== "succeeded") throw new CliError(`${label}: ${state}${failureOf(body)}`);
          return body;
        }
        show(state);
        if (Date.now() > deadline) throw new CliError(`${label}: still ${state} after waiting; check it later with 'show'.`);
        await sleep(1000);
        body = (await arm.call("GET", resourcePath, undefined, ML_API_VERSION)).body;
      }
    }
    if (method !== "PUT") return undefined;
    const { body } = await arm.call("GET", resourcePath, undefined, ML_API_VERSION);
    const state = String(body?.properties?.provisioningState ?? "Succeeded");
    if (state.toLowerCase() === "failed") throw new CliError(`${label}: Failed${failureOf(body)}`);
    return body;
  } finally {
    line.end();
  }
}

const failureOf = (body: any) => {
  const e = body?.properties?.error ?? body?.error;
  return e?.message ? `: (${e.code ?? "Failed"}) ${e.message}` : "";
};

export { workspacePath };

export function help(text: string): number {
  process.stdout.write(text);
  return 0;
}
