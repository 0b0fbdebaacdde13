// `ingot deployment create|list|show|delete`: the flags of `az cognitiveservices account
// deployment …`, against a running Ingot's ARM API.
import { parseArgs } from "node:util";
import { accountPath, ArmClient, CliError, printOutput } from "../arm-client.ts";
import { formatEta, ProgressLine, RateMeter } from "../progress.ts";

const COMMON = `  -n, --name ACCOUNT          account name (default ingot)
  -g, --resource-group RG     resource group (default ingot)
  --subscription ID           subscription (default 00000000-0000-0000-0000-000000000000)
  --endpoint URL              Ingot's address (default INGOT_ENDPOINT, else the server running
                              on --data-dir, else http://127.0.0.1:8080)
  --token TOKEN               bearer token (default INGOT_TOKEN, else one from the running server,
                              with the local admin credential it keeps in --data-dir)
  --data-dir DIR              data dir of the running local server (default ./.ingot)
  -o, --output json|table|tsv output format (default json)`;

const HELP = `Usage: ingot deployment <create|list|show|delete> [options]

Manages deployments like 'az cognitiveservices account deployment'.

create options:
  --deployment-name NAME      deployment name (letters, digits, hyphens; at most 64)
  --model-name NAME           catalog model name, e.g. tiny-chat, Qwen2.5-0.5B-Instruct
  --model-version V           model version (default: the catalog's default version)
  --model-format F            model format, e.g. Ingot, Alibaba, Meta, OpenAI-OSS
  --model-source ID           account resource id a custom model comes from
  --sku-name, --sku NAME      SKU (default Standard), e.g. GlobalStandard, ProvisionedManaged
  --sku-capacity, --capacity N  capacity (default 1): thousands of tokens per minute, or parallel sequences for Provisioned
  --rai-policy NAME           content-filter policy (raiPolicyName; default Microsoft.DefaultV2),
                              see ingot rai policy --help
  --no-wait                   return at once instead of showing progress until the deployment is ready
show/delete options:
  --deployment-name NAME
common options:
${COMMON}

Examples:
  ingot deployment create -g ingot -n ingot --deployment-name my-chat --model-name tiny-chat \\
    --model-format Ingot --sku-name GlobalStandard --sku-capacity 10
  ingot deployment list -o table
  ingot deployment delete --deployment-name my-chat
`;

const OPTIONS = {
  name: { type: "string", short: "n" },
  "resource-group": { type: "string", short: "g" },
  subscription: { type: "string" },
  endpoint: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
  database: { type: "string" },
  output: { type: "string", short: "o" },
  "deployment-name": { type: "string" },
  "model-name": { type: "string" },
  "model-version": { type: "string" },
  "model-format": { type: "string" },
  "model-source": { type: "string" },
  "sku-name": { type: "string" },
  sku: { type: "string" },
  "sku-capacity": { type: "string" },
  capacity: { type: "string" },
  "rai-policy": { type: "string" },
  "no-wait": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const TABLE: [string, (d: any) => unknown][] = [
  ["Name", (d) => d.name],
  ["Model", (d) => `${d.properties.model.format}/${d.properties.model.name}@${d.properties.model.version}`],
  ["Sku", (d) => `${d.sku.name} ${d.sku.capacity}`],
  ["State", (d) => d.properties.provisioningState],
];

export async function deploymentCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values: v } = parseArgs({ args: rest, options: OPTIONS });
  if (!sub || sub === "--help" || sub === "-h" || v.help) {
    process.stdout.write(HELP);
    return sub ? 0 : 2;
  }
  const base = accountPath(v.subscription ?? "00000000-0000-0000-0000-000000000000", v["resource-group"] ?? "ingot", v.name ?? "ingot");
  const need = (flag: keyof typeof v): string => {
    const value = v[flag];
    if (typeof value !== "string" || !value) throw new CliError(`ingot deployment ${sub}: --${flag} is required (see ingot deployment --help).`, 2);
    return value;
  };
  const client = () => new ArmClient({ endpoint: v.endpoint, token: v.token, dataDir: v["data-dir"], database: v.database });
  switch (sub) {
    case "list": {
      const { body } = await client().call("GET", `${base}/deployments`);
      printOutput(v.output, body.value, TABLE);
      return 0;
    }
    case "show": {
      const { body } = await client().call("GET", `${base}/deployments/${encodeURIComponent(need("deployment-name"))}`);
      printOutput(v.output, body, TABLE);
      return 0;
    }
    case "delete": {
      await client().call("DELETE", `${base}/deployments/${encodeURIComponent(need("deployment-name"))}`);
      return 0;
    }
    case "create": {
      const name = need("deployment-name");
      const capacityText = v["sku-capacity"] ?? v.capacity ?? "1";
      const capacity = Number(capacityText);
      if (!Number.isInteger(capacity)) throw new CliError(`--sku-capacity must be an integer, got '${capacityText}'.`, 2);
      const model: Record<string, string> = { format: need("model-format"), name: need("model-name") };
      if (v["model-version"]) model.version = v["model-version"];
      if (v["model-source"]) model.source = v["model-source"];
      const arm = client();
      const path = `${base}/deployments/${encodeURIComponent(name)}`;
      let { body } = await arm.call("PUT", path, { sku: { name: v["sku-name"] ?? v.sku ?? "Standard", capacity }, properties: { model, ...(v["rai-policy"] ? { raiPolicyName: v["rai-policy"] } : {}) } });
      if (!v["no-wait"]) body = await waitUntilSettled(arm, path, body);
      printOutput(v.output, body, TABLE);
      return body.properties.provisioningState === "Failed" ? 1 : 0;
    }
    default:
      throw new CliError(`ingot deployment: unknown subcommand '${sub}'. Use create, list, show or delete.`, 2);
  }
}

/** Polls the deployment, drawing its download/load progress on stderr, until Succeeded or Failed. */
async function waitUntilSettled(arm: ArmClient, path: string, initial: any): Promise<any> {
  let body = initial;
  const line = new ProgressLine();
  const meter = new RateMeter(10_000);
  while (!["Succeeded", "Failed", "Canceled"].includes(body.properties.provisioningState)) {
    const p = body.properties.provisioningDetails ?? {};
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const detail: string[] = [];
    if (p.totalBytes) {
      meter.add(Date.now(), p.bytes ?? 0);
      const rate = meter.rate();
      detail.push(`(${mb(p.bytes ?? 0)}/${mb(p.totalBytes)} MB)`);
      if (rate) detail.push(`${mb(rate)} MB/s`, `ETA ${formatEta((p.totalBytes - (p.bytes ?? 0)) / rate)}`);
    }
    const state = `${body.properties.provisioningState}${p.phase ? ` ${p.phase}` : ""}`;
    line.update({ label: `${body.name}: ${state}`, fraction: typeof p.percentComplete === "number" ? p.percentComplete / 100 : undefined, detail: detail.join("  "), key: state });
    await new Promise((r) => setTimeout(r, 500));
    body = (await arm.call("GET", path)).body;
  }
  const state = body.properties.provisioningState;
  line.end(state === "Succeeded" ? `${body.name}: Succeeded` : `${body.name}: ${state}: ${body.properties.provisioningDetails?.error ?? "see the deployment's operation for the reason"}`);
  return body;
}
