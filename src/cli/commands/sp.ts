// `ingot sp`: service principals, as `az ad sp create-for-rbac` makes them. Works on an
// existing data dir's database directly (Ingot has no directory API, Microsoft Graph, yet);
// the server sees new principals at once (same database). A data dir without one is an error.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isIngotError } from "../../core/errors.ts";
import { DEFAULT_SUBSCRIPTION_ID, IdentityService } from "../../core/identity/service.ts";
import { ROLE_NAMES } from "../../core/identity/roles.ts";
import { SqliteIdentityStore } from "../../store/sqlite/identity-store.ts";
import { SqliteStore } from "../../store/sqlite/store.ts";
import { CliError } from "../errors.ts";
import { UsageError } from "./up.ts";

const HELP = `Usage: ingot sp <create|list|delete> [options]

  ingot sp create --name NAME --role ROLE --scopes SCOPE [--output json]
      Creates a service principal with ROLE at SCOPE and prints, as az does,
      {"appId", "displayName", "password", "tenant"} (the password is shown once, stored hashed).
      Use them with @azure/identity's ClientSecretCredential(tenant, appId, password,
      { authorityHost: "https://<ingot host:port>", disableInstanceDiscovery: true }).
      A NAME that already exists in the tenant gets a new password and the extra role.
  ingot sp list [--tenant ID]
  ingot sp delete --id APPID

Options for create:
  --name NAME            display name (default ingot-sp-<timestamp>)
  --role ROLE            ${ROLE_NAMES.join(" | ")}
  --scopes SCOPE         where the role applies (also --scope): "/", /subscriptions/{id},
                         /subscriptions/{id}/resourceGroups/{group}, or an account id
                         /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.CognitiveServices/accounts/{name}
                         (default /subscriptions/<--subscription or ${DEFAULT_SUBSCRIPTION_ID}>)
  --tenant new|ID        put the principal in another tenant: 'new' makes one (its id is printed
                         as "tenant"); default is the local admin's tenant
  --subscription ID      register subscription ID to that tenant (it must not belong to another);
                         a subscription first named in --scopes joins the principal's tenant anyway
  --output json          the output format (json is the only one, as az's default)
Common:
  --data-dir DIR         the server's data dir (default ./.ingot)
`;

/**
 * The identity service over an existing data dir's database (for `ingot sp`, which has no API
 * yet); close() when done. A data dir without a database is an error: nothing is created.
 */
export function openIdentity(dataDir: string): { identity: IdentityService; close(): void } {
  const db = join(dataDir, "ingot.db");
  if (!existsSync(db))
    throw new CliError(`No Ingot data in '${dataDir}' (no ingot.db). Pass the --data-dir of your server, or start one with 'ingot up --data-dir ${dataDir}'.`);
  const store = new SqliteStore(db);
  const identity = new IdentityService(new SqliteIdentityStore(store.database));
  identity.ensureDefaults();
  return { identity, close: () => store.close() };
}

export async function spCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: "string", short: "n" },
      "display-name": { type: "string" },
      role: { type: "string" },
      scopes: { type: "string" },
      scope: { type: "string" },
      tenant: { type: "string" },
      subscription: { type: "string" },
      id: { type: "string" },
      output: { type: "string", short: "o" },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.output !== undefined && values.output !== "json") throw new UsageError(`--output ${values.output} is not supported; use --output json.`);
  if (!["create", "list", "delete"].includes(sub)) throw new UsageError(`unknown subcommand 'sp ${sub}'. Try: ingot sp --help`);

  const { identity, close } = openIdentity(values["data-dir"] ?? "./.ingot");
  try {
    if (sub === "create") {
      if (!values.role) throw new UsageError(`--role is required: one of ${ROLE_NAMES.map((r) => `'${r}'`).join(", ")}.`);
      const tenantId = values.tenant === "new" ? identity.createTenant() : values.tenant;
      if (values.subscription) identity.registerSubscription(values.subscription, tenantId ?? identity.admin().tenantId);
      const scope = values.scopes ?? values.scope ?? `/subscriptions/${values.subscription ?? DEFAULT_SUBSCRIPTION_ID}`;
      const sp = identity.createServicePrincipal({ displayName: values.name ?? values["display-name"], role: values.role, scope, tenantId });
      process.stderr.write(
        "The output includes credentials that you must protect. Be sure that you do not include these credentials in your code or check the credentials into your source control.\n",
      );
      const { appId, displayName, password, tenant } = sp;
      process.stdout.write(`${JSON.stringify({ appId, displayName, password, tenant }, null, 2)}\n`);
    } else if (sub === "list") {
      const rows = identity.servicePrincipals(values.tenant).map((p) => ({
        appId: p.appId,
        displayName: p.displayName,
        id: p.objectId,
        appOwnerOrganizationId: p.tenantId,
        roles: identity.roleAssignments(p.objectId).map((a) => ({ role: a.role, scope: a.scope })),
      }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else {
      if (!values.id) throw new UsageError("--id APPID is required.");
      if (!identity.deleteServicePrincipal(values.id)) {
        process.stderr.write(`ingot: no service principal with appId or object id '${values.id}'.\n`);
        return 1;
      }
    }
    return 0;
  } catch (e) {
    if (!isIngotError(e)) throw e;
    process.stderr.write(`ingot: ${e.code}: ${e.message}\n`);
    return 1;
  } finally {
    close();
  }
}
