// `ingot ml serverless-endpoint …`, `ingot ml online-endpoint …` and `ingot ml online-deployment …`:
// az ml's commands and flags over the workspace's serverlessEndpoints, onlineEndpoints and their
// deployments (reference azure-ml.md §9, §10). Writes wait for the operation to finish as az ml
// does (--no-wait returns at once); output is az ml's keys.
import { readFileSync } from "node:fs";
import { ArmClient, CliError } from "../arm-client.ts";
import { armOf, help, listAll, ML_API_VERSION, need, parse, print, readYaml, scopeOf, waitForOperation, WORKSPACE_HELP, WORKSPACE_OPTIONS, workspacePath, yamlOrFlags } from "./ml-common.ts";
import type { Parsed } from "./ml-common.ts";
import {
  applySets,
  assetVersionId,
  classifyInput,
  onlineDeploymentEntity,
  onlineDeploymentRequestFromYaml,
  onlineEndpointEntity,
  onlineEndpointRequestFromYaml,
  parseTraffic,
  serverlessEntity,
  serverlessRequestFromYaml,
  YamlFileError,
} from "./ml-yaml.ts";
import type { WorkspaceScope, YamlFile } from "./ml-yaml.ts";

type Command = (args: string[]) => Promise<number>;

const NAME_OPTIONS = { ...WORKSPACE_OPTIONS, name: { type: "string", short: "n" } } as const;
const WRITE_OPTIONS = { ...NAME_OPTIONS, file: { type: "string", short: "f" }, set: { type: "string", multiple: true }, "no-wait": { type: "boolean" } } as const;
const DELETE_OPTIONS = { ...NAME_OPTIONS, yes: { type: "boolean", short: "y" }, "no-wait": { type: "boolean" } } as const;

const NO_WAIT = `  --no-wait                   do not wait for the operation to finish`;

/** The location of a new resource: the file's, else the workspace's (as azure-ai-ml fills it, §3). */
async function locationOf(arm: ArmClient, scope: WorkspaceScope, body: Record<string, any>): Promise<void> {
  if (body.location) return;
  const { body: ws } = await arm.call("GET", workspacePath(scope), undefined, ML_API_VERSION);
  if (typeof ws?.location === "string") body.location = ws.location;
}

/** PUT, then (unless --no-wait) wait for the operation; returns the resource. */
async function put(p: Parsed, arm: ArmClient, path: string, body: unknown, label: string): Promise<any> {
  const first = await arm.call("PUT", path, body, ML_API_VERSION);
  if (p.v["no-wait"]) return first.body;
  return waitForOperation(arm, "PUT", path, first, label);
}

async function remove(p: Parsed, arm: ArmClient, path: string, label: string): Promise<number> {
  const first = await arm.call("DELETE", path, undefined, ML_API_VERSION);
  if (!p.v["no-wait"]) await waitForOperation(arm, "DELETE", path, first, label);
  process.stderr.write(`${label}: deleted\n`);
  return 0;
}

function nameOf(p: Parsed, example: string): string {
  const n = (p.v.name as string | undefined) ?? p.positionals[0];
  if (!n) throw new CliError(`${p.cmd}: --name (-n) is required, e.g. ${p.cmd} -n ${example} -w my-project. Run '${p.cmd} --help'.`, 2);
  return n;
}

/** Fields az ml prints but does not read back from a file (dropped before an update). */
const READ_ONLY = ["id", "scoring_uri", "openapi_uri", "provisioning_state", "creation_context", "endpoint_state", "headers", "identity"];
const fileFromEntity = (entity: Record<string, unknown>, sets: string[], label: string): YamlFile => {
  const value = Object.fromEntries(Object.entries(entity).filter(([k]) => !READ_ONLY.includes(k)));
  return { value, where: (k) => `${sets.some((s) => s.startsWith(`${k.join(".")}=`)) ? "--set" : label} key '${k.join(".")}'` };
};

const REGENERATE_OPTIONS = { ...NAME_OPTIONS, "key-type": { type: "string" }, "key-value": { type: "string" } } as const;
const REGENERATE_EXTRA = `  --key-type primary|secondary  which key (default primary)\n  --key-value KEY             the new key's value (default: a new random key)\n`;

/** az ml's regenerate-keys: POST regenerateKeys {keyType, keyValue?}, wait if it is an operation, then the keys. */
async function regenerate(p: Parsed, path: string): Promise<number> {
  const type = String(p.v["key-type"] ?? "primary").toLowerCase();
  if (type !== "primary" && type !== "secondary") throw new CliError(`${p.cmd}: --key-type must be primary or secondary; got '${type}'.`, 2);
  const arm = armOf(p);
  const body = { keyType: type === "primary" ? "Primary" : "Secondary", ...(typeof p.v["key-value"] === "string" ? { keyValue: p.v["key-value"] } : {}) };
  const first = await arm.call("POST", `${path}/regenerateKeys`, body, ML_API_VERSION);
  if (first.status === 202 || first.headers.get("azure-asyncoperation")) await waitForOperation(arm, "POST", path, first, `${p.v.name ?? "endpoint"} keys`);
  const { body: keys } = await arm.call("POST", `${path}/listKeys`, undefined, ML_API_VERSION);
  print(p.output, keys);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Serverless endpoints.

export const SERVERLESS_HELP = `Usage: ingot ml serverless-endpoint <create|show|list|delete|get-credentials|regenerate-keys> [options]

Serverless API endpoints (models as a service) of a workspace, as 'az ml serverless-endpoint'.
Each has its own URL (scoring_uri, answering /v1/chat/completions) and its own keys.

Commands:
  create -n NAME --model-id ID | -f endpoint.yaml   create an endpoint for a catalog or fine-tuned model
  show -n NAME                one endpoint
  list                        the workspace's endpoints
  delete -n NAME              delete an endpoint
  get-credentials -n NAME     its keys (primaryKey, secondaryKey)
  regenerate-keys -n NAME [--key-type primary|secondary]   replace a key (the old one stops working)

Examples:
  ingot ml serverless-endpoint create -n my-chat -w my-project \\
    --model-id azureml://locations/local/workspaces/<workspace guid>/models/my-finetuned-model/versions/1
  ingot ml serverless-endpoint get-credentials -n my-chat -w my-project

Run 'ingot ml serverless-endpoint <command> --help' for a command's options.
`;

const SERVERLESS_CREATE_HELP = `Usage: ingot ml serverless-endpoint create (-f endpoint.yaml | -n NAME --model-id ID) -w WS [options]

Creates a serverless endpoint and waits until it is ready. The YAML file (az ml's):

  name: my-chat
  model_id: azureml://registries/azureml/models/<model>      # catalog: versionless or …/labels/latest
  # or a fine-tuned model: azureml://locations/<loc>/workspaces/<workspace guid>/models/<name>/versions/1
  auth_mode: key                       # optional
  content_safety:                      # optional
    content_safety_status: enabled

Options:
  -f, --file PATH             the endpoint's YAML file
  -n, --name NAME             the endpoint's name (overrides the file's)
  --model-id ID               the model (overrides the file's model_id)
  --set KEY=VALUE             set a key of the file (repeatable)
${NO_WAIT}
${WORKSPACE_HELP}
`;

const SERVERLESS_TABLE: [string, (e: any) => unknown][] = [
  ["Name", (e) => e.name],
  ["Model", (e) => e.model_id],
  ["ScoringUri", (e) => e.scoring_uri],
  ["State", (e) => e.provisioning_state],
];

const SERVERLESS_CREATE_OPTIONS = { ...WRITE_OPTIONS, "model-id": { type: "string" } } as const;
const serverlessPath = (s: WorkspaceScope, name: string) => `${workspacePath(s)}/serverlessEndpoints/${encodeURIComponent(name)}`;

const simpleHelp = (group: string, sub: string, what: string, example: string, extra = "") => simpleHelpText(group, sub, what, example, extra).replace(/\n{3,}/g, "\n\n");
const simpleHelpText = (group: string, sub: string, what: string, example: string, extra: string) => `Usage: ingot ml ${group} ${sub} ${example.includes("-n") ? "-n NAME " : ""}-w WS [-g RG] [options]

${what}

${example.includes("-n") || extra ? "Options:\n" : ""}${example.includes("-n") ? "  -n, --name NAME             the name (required)\n" : ""}${extra}${WORKSPACE_HELP}

Example:
  ingot ml ${group} ${sub} ${example}
`;

export const serverlessCommands: Record<string, Command> = {
  async create(args) {
    const p = parse("ingot ml serverless-endpoint create", args, SERVERLESS_CREATE_OPTIONS);
    if (p.help) return help(SERVERLESS_CREATE_HELP);
    const scope = scopeOf(p);
    const s = (k: string) => (typeof p.v[k] === "string" ? (p.v[k] as string) : undefined);
    const yaml = yamlOrFlags(p);
    if (!s("name") && yaml.value.name === undefined) need(p, "name", "--name my-chat");
    if (!s("model-id") && yaml.value.model_id === undefined) need(p, "model-id", "--model-id azureml://registries/azureml/models/<model>");
    const request = serverlessRequestFromYaml(yaml, { name: s("name"), modelId: s("model-id") });
    const arm = armOf(p);
    await locationOf(arm, scope, request.body);
    const body = await put(p, arm, serverlessPath(scope, request.name), request.body, request.name);
    print(p.output, serverlessEntity(body), SERVERLESS_TABLE);
    return 0;
  },
  async show(args) {
    const p = parse("ingot ml serverless-endpoint show", args, NAME_OPTIONS, 1);
    if (p.help) return help(simpleHelp("serverless-endpoint", "show", "Shows one serverless endpoint (its scoring_uri, model_id, state).", "-n my-chat -w my-project"));
    const { body } = await armOf(p).call("GET", serverlessPath(scopeOf(p), nameOf(p, "my-chat")), undefined, ML_API_VERSION);
    print(p.output, serverlessEntity(body), SERVERLESS_TABLE);
    return 0;
  },
  async list(args) {
    const p = parse("ingot ml serverless-endpoint list", args, WORKSPACE_OPTIONS);
    if (p.help) return help(simpleHelp("serverless-endpoint", "list", "Lists the workspace's serverless endpoints.", "-w my-project -o table"));
    const all = await listAll(armOf(p), `${workspacePath(scopeOf(p))}/serverlessEndpoints`);
    print(p.output, all.map(serverlessEntity), SERVERLESS_TABLE);
    return 0;
  },
  async delete(args) {
    const p = parse("ingot ml serverless-endpoint delete", args, DELETE_OPTIONS, 1);
    if (p.help) return help(simpleHelp("serverless-endpoint", "delete", "Deletes a serverless endpoint (its URL and keys stop working).", "-n my-chat -w my-project", `  -y, --yes                   do not ask (Ingot never asks)\n${NO_WAIT}\n`));
    const name = nameOf(p, "my-chat");
    return remove(p, armOf(p), serverlessPath(scopeOf(p), name), name);
  },
  async "get-credentials"(args) {
    const p = parse("ingot ml serverless-endpoint get-credentials", args, NAME_OPTIONS, 1);
    if (p.help) return help(simpleHelp("serverless-endpoint", "get-credentials", "Prints the endpoint's keys: send one as 'Authorization: <key>' (or Bearer <key>) to its scoring_uri.", "-n my-chat -w my-project"));
    const { body } = await armOf(p).call("POST", `${serverlessPath(scopeOf(p), nameOf(p, "my-chat"))}/listKeys`, undefined, ML_API_VERSION);
    print(p.output, body);
    return 0;
  },
  async "regenerate-keys"(args) {
    const p = parse("ingot ml serverless-endpoint regenerate-keys", args, REGENERATE_OPTIONS, 1);
    if (p.help) return help(simpleHelp("serverless-endpoint", "regenerate-keys", "Replaces one of the endpoint's keys (the old value stops working at once) and prints the keys.", "-n my-chat -w my-project --key-type secondary", REGENERATE_EXTRA));
    return regenerate(p, serverlessPath(scopeOf(p), nameOf(p, "my-chat")));
  },
};

// ---------------------------------------------------------------------------------------------
// Managed online endpoints.

export const ONLINE_ENDPOINT_HELP = `Usage: ingot ml online-endpoint <create|show|list|update|delete|get-credentials|regenerate-keys|invoke> [options]

Managed online endpoints (managed compute) of a workspace, as 'az ml online-endpoint'. An
endpoint's deployments (ingot ml online-deployment) run the model on this machine; the
endpoint's traffic splits requests between them.

Commands:
  create -n NAME | -f endpoint.yaml     create an endpoint
  show -n NAME                          one endpoint
  list                                  the workspace's endpoints
  update -n NAME --traffic "blue=70 green=30"   change the traffic split (or -f / --set)
  delete -n NAME                        delete an endpoint and its deployments
  get-credentials -n NAME               its keys (or token, for aml_token endpoints)
  regenerate-keys -n NAME [--key-type primary|secondary]   replace a key
  invoke -n NAME --request-file req.json [--deployment-name D]   score a request

Examples:
  ingot ml online-endpoint create -n my-endpoint -w my-project
  ingot ml online-endpoint update -n my-endpoint -w my-project --traffic "blue=70 green=30"
  ingot ml online-endpoint invoke -n my-endpoint -w my-project --request-file request.json

Run 'ingot ml online-endpoint <command> --help' for a command's options.
`;

const ONLINE_CREATE_HELP = `Usage: ingot ml online-endpoint create (-n NAME | -f endpoint.yaml) -w WS [options]

Creates a managed online endpoint and waits until it is ready. The YAML file (az ml's):

  name: my-endpoint                   # unique across workspaces (it names the scoring URL)
  auth_mode: key                      # key (default), aml_token or aad_token
  description: …                      # optional
  tags: {team: ml}                    # optional

Options:
  -f, --file PATH             the endpoint's YAML file
  -n, --name NAME             the endpoint's name (overrides the file's)
  --auth-mode MODE            key, aml_token or aad_token (overrides the file's)
  --set KEY=VALUE             set a key of the file (repeatable)
${NO_WAIT}
${WORKSPACE_HELP}
`;

const ONLINE_UPDATE_HELP = `Usage: ingot ml online-endpoint update -n NAME -w WS [--traffic "blue=70 green=30"] [-f FILE] [--set K=V] [options]

Updates an endpoint: its traffic split across deployments (percentages that add up to 100),
mirror traffic, description or tags. Without --file, the endpoint's current settings are kept
and only what --traffic / --set change is sent.

Options:
  -n, --name NAME             the endpoint's name (required)
  --traffic "D=P …"           the traffic split, e.g. "blue=70 green=30"
  --mirror-traffic "D=P"      a share of live traffic copied to a deployment
  -f, --file PATH             the endpoint's YAML file
  --set KEY=VALUE             set a key (repeatable), e.g. --set description=prod
${NO_WAIT}
${WORKSPACE_HELP}
`;

const INVOKE_HELP = `Usage: ingot ml online-endpoint invoke -n NAME --request-file FILE [-d DEPLOYMENT] -w WS [options]

Sends the request file (a chat-completions JSON body) to the endpoint's scoring URI with its key
(or token), and prints the response. --deployment-name sends it to that deployment, whatever
the traffic split (the azureml-model-deployment header).

Options:
  -n, --name NAME             the endpoint's name (required)
  -r, --request-file FILE     the JSON request body (required)
  -d, --deployment-name D     the deployment to score with
${WORKSPACE_HELP}
`;

const ONLINE_TABLE: [string, (e: any) => unknown][] = [
  ["Name", (e) => e.name],
  ["AuthMode", (e) => e.auth_mode],
  ["ScoringUri", (e) => e.scoring_uri],
  ["Traffic", (e) => Object.entries(e.traffic ?? {}).map(([d, w]) => `${d}=${w}`).join(" ")],
  ["State", (e) => e.provisioning_state],
];

const onlinePath = (s: WorkspaceScope, name: string) => `${workspacePath(s)}/onlineEndpoints/${encodeURIComponent(name)}`;

export const onlineEndpointCommands: Record<string, Command> = {
  async create(args) {
    const p = parse("ingot ml online-endpoint create", args, { ...WRITE_OPTIONS, "auth-mode": { type: "string" } });
    if (p.help) return help(ONLINE_CREATE_HELP);
    const scope = scopeOf(p);
    const yaml = yamlOrFlags(p);
    if (typeof p.v["auth-mode"] === "string") yaml.value.auth_mode = p.v["auth-mode"];
    if (typeof p.v.name !== "string" && yaml.value.name === undefined) need(p, "name", "--name my-endpoint");
    const request = onlineEndpointRequestFromYaml(yaml, { name: typeof p.v.name === "string" ? p.v.name : undefined });
    const arm = armOf(p);
    await locationOf(arm, scope, request.body);
    const body = await put(p, arm, onlinePath(scope, request.name), request.body, request.name);
    print(p.output, onlineEndpointEntity(body), ONLINE_TABLE);
    return 0;
  },
  async show(args) {
    const p = parse("ingot ml online-endpoint show", args, NAME_OPTIONS, 1);
    if (p.help) return help(simpleHelp("online-endpoint", "show", "Shows one online endpoint (scoring_uri, traffic, state).", "-n my-endpoint -w my-project"));
    const { body } = await armOf(p).call("GET", onlinePath(scopeOf(p), nameOf(p, "my-endpoint")), undefined, ML_API_VERSION);
    print(p.output, onlineEndpointEntity(body), ONLINE_TABLE);
    return 0;
  },
  async list(args) {
    const p = parse("ingot ml online-endpoint list", args, WORKSPACE_OPTIONS);
    if (p.help) return help(simpleHelp("online-endpoint", "list", "Lists the workspace's online endpoints.", "-w my-project -o table"));
    const all = await listAll(armOf(p), `${workspacePath(scopeOf(p))}/onlineEndpoints`);
    print(p.output, all.map(onlineEndpointEntity), ONLINE_TABLE);
    return 0;
  },
  async update(args) {
    const p = parse("ingot ml online-endpoint update", args, { ...WRITE_OPTIONS, traffic: { type: "string" }, "mirror-traffic": { type: "string" } });
    if (p.help) return help(ONLINE_UPDATE_HELP);
    const scope = scopeOf(p);
    const name = nameOf(p, "my-endpoint");
    const arm = armOf(p);
    const path = onlinePath(scope, name);
    const current = (await arm.call("GET", path, undefined, ML_API_VERSION)).body;
    const sets = (p.v.set as unknown as string[] | undefined) ?? [];
    const file = typeof p.v.file === "string" ? readYaml(p)!.file : fileFromEntity(onlineEndpointEntity(current), sets, "endpoint");
    if (typeof p.v.file !== "string") applySetsTo(file, sets);
    if (typeof p.v.traffic === "string") file.value.traffic = parseTraffic(p.v.traffic);
    if (typeof p.v["mirror-traffic"] === "string") file.value.mirror_traffic = parseTraffic(p.v["mirror-traffic"], "--mirror-traffic");
    if (typeof p.v.file !== "string" && !sets.length && p.v.traffic === undefined && p.v["mirror-traffic"] === undefined)
      throw new CliError(`${p.cmd}: nothing to change; give --traffic "blue=70 green=30", --mirror-traffic, --set KEY=VALUE or --file.`, 2);
    const request = onlineEndpointRequestFromYaml(file, { name });
    request.body.location ??= current.location;
    const body = await put(p, arm, path, request.body, name);
    print(p.output, onlineEndpointEntity(body), ONLINE_TABLE);
    return 0;
  },
  async delete(args) {
    const p = parse("ingot ml online-endpoint delete", args, DELETE_OPTIONS, 1);
    if (p.help) return help(simpleHelp("online-endpoint", "delete", "Deletes an online endpoint and all its deployments.", "-n my-endpoint -w my-project", `  -y, --yes                   do not ask (Ingot never asks)\n${NO_WAIT}\n`));
    const name = nameOf(p, "my-endpoint");
    return remove(p, armOf(p), onlinePath(scopeOf(p), name), name);
  },
  async "get-credentials"(args) {
    const p = parse("ingot ml online-endpoint get-credentials", args, NAME_OPTIONS, 1);
    if (p.help) return help(simpleHelp("online-endpoint", "get-credentials", "Prints the endpoint's keys (auth_mode key) or an access token (aml_token): send it as 'Authorization: Bearer …' to the scoring_uri.", "-n my-endpoint -w my-project"));
    print(p.output, await credentials(armOf(p), onlinePath(scopeOf(p), nameOf(p, "my-endpoint"))));
    return 0;
  },
  async "regenerate-keys"(args) {
    const p = parse("ingot ml online-endpoint regenerate-keys", args, REGENERATE_OPTIONS, 1);
    if (p.help) return help(simpleHelp("online-endpoint", "regenerate-keys", "Replaces one of the endpoint's keys (auth_mode key) and prints the keys.", "-n my-endpoint -w my-project --key-type secondary", REGENERATE_EXTRA));
    return regenerate(p, onlinePath(scopeOf(p), nameOf(p, "my-endpoint")));
  },
  async invoke(args) {
    const p = parse("ingot ml online-endpoint invoke", args, { ...NAME_OPTIONS, "request-file": { type: "string", short: "r" }, "deployment-name": { type: "string", short: "d" } }, 1);
    if (p.help) return help(INVOKE_HELP);
    const scope = scopeOf(p);
    const name = nameOf(p, "my-endpoint");
    const file = need(p, "request-file", "--request-file request.json");
    let request: string;
    try {
      request = readFileSync(file, "utf8");
      JSON.parse(request);
    } catch (e) {
      throw new CliError(`${p.cmd}: --request-file '${file}' ${(e as NodeJS.ErrnoException).code ? `cannot be read (${(e as NodeJS.ErrnoException).code})` : `is not JSON (${(e as Error).message})`}. Give a JSON request body, e.g. {"messages":[{"role":"user","content":"Hi"}]}.`, 2);
    }
    const arm = armOf(p);
    const path = onlinePath(scope, name);
    const endpoint = (await arm.call("GET", path, undefined, ML_API_VERSION)).body;
    const uri = endpoint?.properties?.scoringUri;
    if (typeof uri !== "string") throw new CliError(`Endpoint '${name}' has no scoring URI yet (state ${endpoint?.properties?.provisioningState}); wait until it is Succeeded.`);
    const cred = await credentials(arm, path, endpoint);
    const secret = cred.primaryKey ?? cred.accessToken;
    const headers: Record<string, string> = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
    if (typeof p.v["deployment-name"] === "string") headers["azureml-model-deployment"] = p.v["deployment-name"];
    let res: Response;
    try {
      res = await fetch(uri, { method: "POST", headers, body: request });
    } catch (e) {
      throw new CliError(`Cannot reach ${uri} (${(e as { cause?: Error }).cause?.message ?? (e as Error).message}).`);
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 500);
      try {
        const err = JSON.parse(text)?.error;
        if (err?.message) detail = `(${err.code ?? res.status}) ${err.message}`;
      } catch {
        // not JSON
      }
      throw new CliError(`${uri} answered HTTP ${res.status}: ${detail}`);
    }
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    return 0;
  },
};

/** Keys (auth_mode key) or a token (aml_token / aad_token), as az ml get-credentials does. */
async function credentials(arm: ArmClient, path: string, endpoint?: any): Promise<any> {
  const ep = endpoint ?? (await arm.call("GET", path, undefined, ML_API_VERSION)).body;
  const mode = String(ep?.properties?.authMode ?? "Key").toLowerCase();
  const { body } = await arm.call("POST", `${path}/${mode === "key" ? "listKeys" : "token"}`, undefined, ML_API_VERSION);
  return body;
}

const applySetsTo = (file: YamlFile, sets: string[]) => applySets(file.value, sets);

// ---------------------------------------------------------------------------------------------
// Managed online deployments.

export const ONLINE_DEPLOYMENT_HELP = `Usage: ingot ml online-deployment <create|show|list|update|delete|get-logs> [options]

Deployments of a managed online endpoint, as 'az ml online-deployment': a model served by
instance_count runner processes on this machine, with requests balanced across them.

Commands:
  create -f deployment.yaml [--all-traffic]   create a deployment (and send it all traffic)
  show -n NAME -e ENDPOINT                    one deployment
  list -e ENDPOINT                            the endpoint's deployments
  update -n NAME -e ENDPOINT (--set instance_count=2 | -f deployment.yaml)   change it
  delete -n NAME -e ENDPOINT                  delete a deployment
  get-logs -n NAME -e ENDPOINT [--lines N]    the tail of its inference server's log

Examples:
  ingot ml online-deployment create -f blue.yaml -w my-project --all-traffic
  ingot ml online-deployment get-logs -n blue -e my-endpoint -w my-project --lines 50

Run 'ingot ml online-deployment <command> --help' for a command's options.
`;

const DEPLOYMENT_CREATE_HELP = `Usage: ingot ml online-deployment create -f deployment.yaml -w WS [-n NAME] [-e ENDPOINT] [--all-traffic] [options]

Creates a deployment of an online endpoint and waits until its instances are ready. The YAML
file (az ml's):

  name: blue
  endpoint_name: my-endpoint
  model: azureml://registries/azureml/models/<model>/versions/<v>   # or azureml:<name>:<version>
  instance_type: Standard_NC24ads_A100_v4     # accepted; Ingot runs local instances
  instance_count: 2                           # runner processes, requests balanced across them
  request_settings:                           # optional
    request_timeout_ms: 90000
    max_concurrent_requests_per_instance: 1

Options:
  -f, --file PATH             the deployment's YAML file (required)
  -n, --name NAME             the deployment's name (overrides the file's)
  -e, --endpoint-name NAME    the endpoint (overrides the file's endpoint_name)
  --all-traffic               then send the endpoint's traffic to this deployment (100%)
  --set KEY=VALUE             set a key of the file (repeatable)
${NO_WAIT}
${WORKSPACE_HELP}
`;

const DEPLOYMENT_UPDATE_HELP = `Usage: ingot ml online-deployment update -n NAME -e ENDPOINT -w WS (--set KEY=VALUE... | -f FILE) [options]

Updates a deployment, e.g. its instance count (--set instance_count=3). Without --file the
deployment's current settings are kept and only what --set changes is sent.

Options:
  -n, --name NAME             the deployment (required)
  -e, --endpoint-name NAME    its endpoint (required)
  -f, --file PATH             the deployment's YAML file
  --set KEY=VALUE             set a key (repeatable)
${NO_WAIT}
${WORKSPACE_HELP}
`;

const deploymentHelp = (sub: string, what: string, extra = "") => `Usage: ingot ml online-deployment ${sub} ${sub === "list" ? "" : "-n NAME "}-e ENDPOINT -w WS [options]

${what}

Options:
${sub === "list" ? "" : "  -n, --name NAME             the deployment (required)\n"}  -e, --endpoint-name NAME    its endpoint (required)
${extra}${WORKSPACE_HELP}
`;

const DEPLOYMENT_TABLE: [string, (d: any) => unknown][] = [
  ["Name", (d) => d.name],
  ["Endpoint", (d) => d.endpoint_name],
  ["Model", (d) => d.model],
  ["InstanceType", (d) => d.instance_type],
  ["Instances", (d) => d.instance_count],
  ["State", (d) => d.provisioning_state],
];

const ENDPOINT_NAME = { "endpoint-name": { type: "string", short: "e" } } as const;
const deploymentPath = (s: WorkspaceScope, endpoint: string, name: string) => `${onlinePath(s, endpoint)}/deployments/${encodeURIComponent(name)}`;
const endpointOf = (p: Parsed) => need(p, "endpoint-name", "--endpoint-name my-endpoint");

/** A deployment's model as the service reads it: azureml:name:version / @latest become ARM model ids. */
async function resolveModel(arm: ArmClient, scope: WorkspaceScope, value: string, where: string): Promise<string> {
  const ref = classifyInput(value);
  if (!ref) throw new YamlFileError(`${where}: '${value}' is not a model reference; write azureml:<name>:<version>, azureml:<name>@latest or an azureml:// id.`);
  switch (ref.kind) {
    case "uri":
      return ref.uri;
    case "version":
      return assetVersionId(scope, "models", ref.name, ref.version);
    case "latest": {
      const { body } = await arm.call("GET", `${workspacePath(scope)}/models/${encodeURIComponent(ref.name)}`, undefined, ML_API_VERSION);
      const latest = body?.properties?.latestVersion;
      if (typeof latest !== "string" || !latest) throw new CliError(`${where}: model '${ref.name}' has no versions; name one (azureml:${ref.name}:1).`);
      return assetVersionId(scope, "models", ref.name, latest);
    }
    case "local":
      throw new YamlFileError(`${where}: '${value}' looks like a local path; Ingot deploys registered models: give azureml:<name>:<version> (a fine-tuned workspace model) or a registry id azureml://registries/azureml/models/<model>/versions/<v>.`);
  }
}

/** Sends the endpoint's traffic to one deployment (az ml's --all-traffic). */
async function allTraffic(p: Parsed, arm: ArmClient, scope: WorkspaceScope, endpoint: string, deployment: string): Promise<void> {
  const path = onlinePath(scope, endpoint);
  const current = (await arm.call("GET", path, undefined, ML_API_VERSION)).body;
  const body = { location: current.location, identity: current.identity, tags: current.tags, kind: current.kind, properties: { ...current.properties, traffic: { [deployment]: 100 } } };
  for (const k of ["scoringUri", "swaggerUri", "provisioningState"]) delete (body.properties as Record<string, unknown>)[k];
  await put(p, arm, path, body, `${endpoint} traffic`);
  process.stderr.write(`${endpoint}: all traffic to ${deployment}\n`);
}

export const onlineDeploymentCommands: Record<string, Command> = {
  async create(args) {
    const p = parse("ingot ml online-deployment create", args, { ...WRITE_OPTIONS, ...ENDPOINT_NAME, "all-traffic": { type: "boolean" } });
    if (p.help) return help(DEPLOYMENT_CREATE_HELP);
    const scope = scopeOf(p);
    need(p, "file", "--file deployment.yaml");
    const yaml = readYaml(p)!;
    const s = (k: string) => (typeof p.v[k] === "string" ? (p.v[k] as string) : undefined);
    const request = onlineDeploymentRequestFromYaml(yaml.file, { name: s("name"), endpointName: s("endpoint-name") });
    const arm = armOf(p);
    request.body.properties.model = await resolveModel(arm, scope, request.model.path, request.model.where);
    await locationOf(arm, scope, request.body);
    const body = await put(p, arm, deploymentPath(scope, request.endpointName, request.name), request.body, `${request.endpointName}/${request.name}`);
    if (p.v["all-traffic"]) await allTraffic(p, arm, scope, request.endpointName, request.name);
    print(p.output, onlineDeploymentEntity(body, request.endpointName), DEPLOYMENT_TABLE);
    return 0;
  },
  async show(args) {
    const p = parse("ingot ml online-deployment show", args, { ...NAME_OPTIONS, ...ENDPOINT_NAME }, 1);
    if (p.help) return help(deploymentHelp("show", "Shows one deployment (model, instance count, state)."));
    const endpoint = endpointOf(p);
    const { body } = await armOf(p).call("GET", deploymentPath(scopeOf(p), endpoint, nameOf(p, "blue")), undefined, ML_API_VERSION);
    print(p.output, onlineDeploymentEntity(body, endpoint), DEPLOYMENT_TABLE);
    return 0;
  },
  async list(args) {
    const p = parse("ingot ml online-deployment list", args, { ...WORKSPACE_OPTIONS, ...ENDPOINT_NAME });
    if (p.help) return help(deploymentHelp("list", "Lists the endpoint's deployments."));
    const endpoint = endpointOf(p);
    const all = await listAll(armOf(p), `${onlinePath(scopeOf(p), endpoint)}/deployments`);
    print(p.output, all.map((d) => onlineDeploymentEntity(d, endpoint)), DEPLOYMENT_TABLE);
    return 0;
  },
  async update(args) {
    const p = parse("ingot ml online-deployment update", args, { ...WRITE_OPTIONS, ...ENDPOINT_NAME });
    if (p.help) return help(DEPLOYMENT_UPDATE_HELP);
    const scope = scopeOf(p);
    const name = nameOf(p, "blue");
    const endpoint = endpointOf(p);
    const arm = armOf(p);
    const path = deploymentPath(scope, endpoint, name);
    const current = (await arm.call("GET", path, undefined, ML_API_VERSION)).body;
    const sets = (p.v.set as unknown as string[] | undefined) ?? [];
    if (typeof p.v.file !== "string" && !sets.length) throw new CliError(`${p.cmd}: nothing to change; give --set instance_count=2 (or another key) or --file deployment.yaml.`, 2);
    const file = typeof p.v.file === "string" ? readYaml(p)!.file : fileFromEntity(onlineDeploymentEntity(current, endpoint), sets, "deployment");
    if (typeof p.v.file !== "string") applySetsTo(file, sets);
    const request = onlineDeploymentRequestFromYaml(file, { name, endpointName: endpoint });
    request.body.properties.model = await resolveModel(arm, scope, request.model.path, request.model.where);
    request.body.location ??= current.location;
    const body = await put(p, arm, path, request.body, `${endpoint}/${name}`);
    print(p.output, onlineDeploymentEntity(body, endpoint), DEPLOYMENT_TABLE);
    return 0;
  },
  async delete(args) {
    const p = parse("ingot ml online-deployment delete", args, { ...DELETE_OPTIONS, ...ENDPOINT_NAME }, 1);
    if (p.help) return help(deploymentHelp("delete", "Deletes a deployment (its instances stop).", `  -y, --yes                   do not ask (Ingot never asks)\n${NO_WAIT}\n`));
    const endpoint = endpointOf(p);
    const name = nameOf(p, "blue");
    return remove(p, armOf(p), deploymentPath(scopeOf(p), endpoint, name), `${endpoint}/${name}`);
  },
  async "get-logs"(args) {
    const p = parse("ingot ml online-deployment get-logs", args, { ...NAME_OPTIONS, ...ENDPOINT_NAME, lines: { type: "string", short: "l" }, container: { type: "string", short: "c" } }, 1);
    if (p.help)
      return help(deploymentHelp("get-logs", "Prints the tail of the deployment's inference server log (its runner's log).", "  -l, --lines N               how many lines (default 100)\n  -c, --container C           inference-server (default) or storage-initializer\n"));
    const endpoint = endpointOf(p);
    const name = nameOf(p, "blue");
    const lines = p.v.lines === undefined ? 100 : Number(p.v.lines);
    if (!Number.isInteger(lines) || lines < 1) throw new CliError(`${p.cmd}: --lines must be a whole number of at least 1; got '${String(p.v.lines)}'.`, 2);
    const container = String(p.v.container ?? "inference-server").toLowerCase();
    const containerType = { "inference-server": "InferenceServer", "storage-initializer": "StorageInitializer" }[container];
    if (!containerType) throw new CliError(`${p.cmd}: --container must be inference-server or storage-initializer; got '${container}'.`, 2);
    const { body } = await armOf(p).call("POST", `${deploymentPath(scopeOf(p), endpoint, name)}/getLogs`, { containerType, tail: lines }, ML_API_VERSION);
    if (p.output === undefined) process.stdout.write(`${String(body?.content ?? "").replace(/\n?$/, "\n")}`);
    else print(p.output, body);
    return 0;
  },
};
