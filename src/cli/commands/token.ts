// `ingot token`: an access token for the local admin, read straight from the data dir (no
// server needed) — what `az account get-access-token --query accessToken -o tsv` gives on Azure.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { audienceForResource, DEFAULT_SUBSCRIPTION_ID, IdentityService } from "../../core/identity/service.ts";
import { SqliteIdentityStore } from "../../store/sqlite/identity-store.ts";
import { SqliteStore } from "../../store/sqlite/store.ts";
import { UsageError } from "./up.ts";

const HELP = `Usage: ingot token [options]

Prints an access token for the local admin (Owner of everything) on a line of its own, for
'Authorization: Bearer <token>'. Works whether or not the server is running.

  curl -H "Authorization: Bearer $(ingot token)" https://127.0.0.1:8080/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts?api-version=2024-10-01

Options:
  --data-dir DIR     the server's data dir (default ./.ingot)
  --resource URL     https://management.azure.com (default) for ARM, or
                     https://cognitiveservices.azure.com for the data plane (also --scope URL/.default)
  --lifetime SECS    token lifetime in seconds (default 3600)
  --output FORMAT    tsv (default: the token alone) or json (az's accessToken/expiresOn/tenant shape)
`;

/** The identity service over a data dir's database, defaults ensured; close() when done. */
export function openIdentity(dataDir: string): { identity: IdentityService; close(): void } {
  mkdirSync(dataDir, { recursive: true });
  const store = new SqliteStore(join(dataDir, "ingot.db"));
  const identity = new IdentityService(new SqliteIdentityStore(store.database));
  identity.ensureDefaults();
  return { identity, close: () => store.close() };
}

export async function tokenCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      resource: { type: "string" },
      scope: { type: "string" },
      lifetime: { type: "string" },
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
  const lifetime = values.lifetime === undefined ? 3600 : Number(values.lifetime);
  if (!Number.isInteger(lifetime) || lifetime <= 0) throw new UsageError(`--lifetime must be a positive number of seconds, got '${values.lifetime}'`);
  const output = values.output ?? "tsv";
  if (output !== "tsv" && output !== "json") throw new UsageError(`--output must be tsv or json, got '${output}'`);

  const { identity, close } = openIdentity(values["data-dir"] ?? "./.ingot");
  try {
    const admin = identity.admin();
    const token = identity.issueToken(admin, aud, lifetime);
    if (output === "tsv") {
      process.stdout.write(`${token}\n`);
    } else {
      const expires = Math.floor(Date.now() / 1000) + lifetime;
      const local = new Date(expires * 1000);
      process.stdout.write(
        `${JSON.stringify(
          {
            accessToken: token,
            expiresOn: local.toISOString().replace("T", " ").replace(/\.\d+Z$/, ".000000"),
            expires_on: expires,
            subscription: DEFAULT_SUBSCRIPTION_ID,
            tenant: admin.tenantId,
            tokenType: "Bearer",
          },
          null,
          2,
        )}\n`,
      );
    }
  } finally {
    close();
  }
  return 0;
}
