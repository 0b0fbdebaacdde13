// `ingot token`: an access token for the local admin, asked of the running server's token
// endpoint with the credential it keeps in its data dir — what `az account get-access-token
// --query accessToken -o tsv` gives on Azure. Nothing is opened or created in the data dir.
import { parseArgs } from "node:util";
import { audienceForResource, DEFAULT_SUBSCRIPTION_ID } from "../../core/identity/service.ts";
import { databaseToken, DEFAULT_DATA_DIR, localToken } from "../local-access.ts";
import { UsageError } from "./up.ts";

const HELP = `Usage: ingot token [options]

Prints an access token for the local admin (a service principal that is Owner of everything)
on a line of its own, for 'Authorization: Bearer <token>'. The token comes from the running
server's token endpoint (POST /{tenant}/oauth2/v2.0/token), with the credential the server
keeps in its data dir (local-admin.json, readable by its owner only); the server must be running.

  curl -H "Authorization: Bearer $(ingot token)" http://127.0.0.1:8080/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts?api-version=2024-10-01

Options:
  --data-dir DIR     the running server's data dir (default ./.ingot)
  --database URL     instead: sign the token with the signing key in this PostgreSQL database
                     (env INGOT_DATABASE_URL), as every replica on it does; no server needed
  --endpoint URL     reach that server at URL instead of the address it wrote in its data dir
  --resource URL     https://management.azure.com (default) for ARM, or
                     https://cognitiveservices.azure.com for the data plane (also --scope URL/.default)
  --output FORMAT    tsv (default: the token alone) or json (az's accessToken/expiresOn/tenant shape)
`;

export async function tokenCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      database: { type: "string" },
      resource: { type: "string" },
      scope: { type: "string" },
      endpoint: { type: "string" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const resource = values.resource ?? values.scope ?? "https://management.azure.com";
  const aud = audienceForResource(resource);
  if (!aud) throw new UsageError(`--resource '${resource}' is not served by Ingot: use https://management.azure.com or https://cognitiveservices.azure.com.`);
  const output = values.output ?? "tsv";
  if (output !== "tsv" && output !== "json") throw new UsageError(`--output must be tsv or json, got '${output}'`);

  const databaseUrl = values.database ?? (process.env.INGOT_DATABASE_URL || undefined);
  const token = databaseUrl
    ? databaseToken(databaseUrl, aud.includes("management") ? "management" : aud.includes("storage") ? "storage" : "cognitiveservices")
    : await localToken({ dataDir: values["data-dir"] ?? DEFAULT_DATA_DIR, endpoint: values.endpoint, resource: resource.replace(/\/\.default$/, "") });
  if (output === "tsv") {
    process.stdout.write(`${token.accessToken}\n`);
  } else {
    const expires = Math.floor(Date.now() / 1000) + token.expiresIn;
    const local = new Date(expires * 1000);
    process.stdout.write(
      `${JSON.stringify(
        {
          accessToken: token.accessToken,
          expiresOn: local.toISOString().replace("T", " ").replace(/\.\d+Z$/, ".000000"),
          expires_on: expires,
          subscription: DEFAULT_SUBSCRIPTION_ID,
          tenant: token.tenant,
          tokenType: "Bearer",
        },
        null,
        2,
      )}\n`,
    );
  }
  return 0;
}
