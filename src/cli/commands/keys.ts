// `ingot keys list|regenerate`: like `az cognitiveservices account keys list|regenerate`.
import { parseArgs } from "node:util";
import { accountPath, ArmClient, CliError, printOutput } from "../arm-client.ts";

const HELP = `Usage: ingot keys <list|regenerate> [options]

  -n, --name ACCOUNT          account name (default ingot)
  -g, --resource-group RG     resource group (default ingot)
  --subscription ID           subscription (default 00000000-0000-0000-0000-000000000000)
  --key-name Key1|Key2        which key to regenerate (regenerate only)
  --endpoint URL              Ingot's address (default INGOT_ENDPOINT, else the server running
                              on --data-dir, else http://127.0.0.1:8080)
  --token TOKEN               bearer token (default INGOT_TOKEN, else one from the running server,
                              with the local admin credential it keeps in --data-dir)
  --data-dir DIR              data dir of the running local server (default ./.ingot)
  --database URL              instead: sign the token with this PostgreSQL database's key
                              (default INGOT_DATABASE_URL; the URL given to 'ingot up --database')
  -o, --output json|table|tsv output format (default json)

Examples:
  ingot keys list -o table
  ingot keys regenerate --key-name Key2
`;

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values: v } = parseArgs({
    args: rest,
    options: {
      name: { type: "string", short: "n" },
      "resource-group": { type: "string", short: "g" },
      subscription: { type: "string" },
      "key-name": { type: "string" },
      endpoint: { type: "string" },
      token: { type: "string" },
      "data-dir": { type: "string" },
      database: { type: "string" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (!sub || sub === "--help" || sub === "-h" || v.help) {
    process.stdout.write(HELP);
    return sub ? 0 : 2;
  }
  const base = accountPath(v.subscription ?? "00000000-0000-0000-0000-000000000000", v["resource-group"] ?? "ingot", v.name ?? "ingot");
  const arm = new ArmClient({ endpoint: v.endpoint, token: v.token, dataDir: v["data-dir"], database: v.database });
  if (sub === "list") {
    printOutput(v.output, (await arm.call("POST", `${base}/listKeys`)).body);
    return 0;
  }
  if (sub === "regenerate") {
    if (!v["key-name"]) throw new CliError("ingot keys regenerate: --key-name Key1|Key2 is required.", 2);
    printOutput(v.output, (await arm.call("POST", `${base}/regenerateKey`, { keyName: v["key-name"] })).body);
    return 0;
  }
  throw new CliError(`ingot keys: unknown subcommand '${sub}'. Use list or regenerate.`, 2);
}
