// `ingot sp`: service principals, as `az ad sp create-for-rbac` makes them, through the running
// server's Ingot.Identity routes (src/http/arm/principals.ts; Ingot has no Microsoft Graph),
// signed in as the local admin like every other command.
import { parseArgs } from "node:util";
import { DEFAULT_SUBSCRIPTION_ID } from "../../core/identity/service.ts";
import { ROLE_NAMES } from "../../core/identity/roles.ts";
import { ArmClient, ArmError } from "../arm-client.ts";
import { UsageError } from "./up.ts";

const BASE = "/providers/Ingot.Identity/servicePrincipals";

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
Common (the running server):
  --data-dir DIR         the running server's data dir (default ./.ingot): its address and the
                         local admin credential it keeps there
  --endpoint URL         Ingot's address (default INGOT_ENDPOINT, else the one in --data-dir)
  --token TOKEN          bearer token of an Owner or Contributor at "/" (default INGOT_TOKEN, else
                         from the server's token endpoint)
`;

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
      database: { type: "string" },
      endpoint: { type: "string" },
      token: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.output !== undefined && values.output !== "json") throw new UsageError(`--output ${values.output} is not supported; use --output json.`);
  if (!["create", "list", "delete"].includes(sub)) throw new UsageError(`unknown subcommand 'sp ${sub}'. Try: ingot sp --help`);

  const arm = new ArmClient({ endpoint: values.endpoint, token: values.token, dataDir: values["data-dir"], database: values.database });
  try {
    if (sub === "create") {
      if (!values.role) throw new UsageError(`--role is required: one of ${ROLE_NAMES.map((r) => `'${r}'`).join(", ")}.`);
      const { body: sp } = await arm.call("POST", BASE, {
        displayName: values.name ?? values["display-name"],
        role: values.role,
        scope: values.scopes ?? values.scope ?? `/subscriptions/${values.subscription ?? DEFAULT_SUBSCRIPTION_ID}`,
        ...(values.tenant ? { tenant: values.tenant } : {}),
        ...(values.subscription ? { subscription: values.subscription } : {}),
      });
      process.stderr.write(
        "The output includes credentials that you must protect. Be sure that you do not include these credentials in your code or check the credentials into your source control.\n",
      );
      const { appId, displayName, password, tenant } = sp;
      process.stdout.write(`${JSON.stringify({ appId, displayName, password, tenant }, null, 2)}\n`);
    } else if (sub === "list") {
      const { body } = await arm.call("GET", `${BASE}${values.tenant ? `?tenant=${encodeURIComponent(values.tenant)}` : ""}`);
      process.stdout.write(`${JSON.stringify(body?.value ?? [], null, 2)}\n`);
    } else {
      if (!values.id) throw new UsageError("--id APPID is required.");
      const r = await arm.call("DELETE", `${BASE}/${encodeURIComponent(values.id)}`);
      if (r.status === 204) {
        process.stderr.write(`ingot: no service principal with appId or object id '${values.id}'.\n`);
        return 1;
      }
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ArmError) || !e.code) throw e;
    process.stderr.write(`ingot: ${e.code}: ${e.detail}\n`);
    return 1;
  }
}
