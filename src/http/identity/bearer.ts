// Bearer tokens on requests: the management plane's Principal (ARM wording), and data-plane
// calls made with a token instead of a key (Azure OpenAI wording).
import type { FastifyRequest } from "fastify";
import { IngotError, isIngotError } from "../../core/errors.ts";
import type { AccountRecord } from "../../core/ports/index.ts";
import { accountScope } from "../../core/identity/roles.ts";
import type { IdentityService } from "../../core/identity/service.ts";
import type { Action, Principal } from "../../core/identity/types.ts";
import { looksLikeJwt } from "../../lib/jwt.ts";

/** What token auth needs of an account: its place in the ARM hierarchy. */
type AccountRef = Pick<AccountRecord, "name" | "subscription" | "resourceGroup">;

/** The token in `Authorization: Bearer <token>`, or undefined when there is none. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth !== "string") return undefined;
  const m = /^bearer\s+(\S+)\s*$/i.exec(auth);
  return m?.[1];
}

/**
 * The caller of a management (ARM) request, from its bearer token; throws ARM's 401 errors
 * (AuthenticationFailed, InvalidAuthenticationToken, ExpiredAuthenticationToken,
 * InvalidAuthenticationTokenAudience). Then call `identity.authorize(principal, scope, action, operation)`.
 */
export function managementPrincipal(identity: IdentityService, request: FastifyRequest): Principal {
  const auth = request.headers.authorization;
  if (typeof auth !== "string" || !auth.trim())
    throw new IngotError(
      "unauthorized",
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is missing. Send 'Authorization: Bearer <token>' with a token from `ingot token` (or `ingot sp create` credentials at the token endpoint).",
    );
  const token = bearerToken(request);
  if (!token)
    throw new IngotError("unauthorized", "AuthenticationFailedInvalidHeader", "Authentication failed. The 'Authorization' header is provided in an invalid format. Use 'Authorization: Bearer <token>'.");
  return identity.verifyToken(token, "management");
}

/** The account a data-plane token addresses: the Host's first label when it names an account (myacct.localhost:8080), else the default. */
export function accountForHost(request: FastifyRequest, getAccount: (name: string) => AccountRef | undefined, defaultAccount = "ingot"): AccountRef | undefined {
  const host = request.hostname;
  const label = host.includes(".") && !/^[\d.]+$/.test(host) ? host.split(".")[0] : undefined;
  return (label ? getAccount(label) : undefined) ?? getAccount(defaultAccount);
}

const DATA_ACTIONS: Record<string, string> = {
  "chat/completions": "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
  completions: "Microsoft.CognitiveServices/accounts/OpenAI/deployments/completions/action",
  embeddings: "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
};

/** The Azure data action a route needs, for the PermissionDenied message. */
function dataActionOf(action: Action, path: string): string {
  if (action === "authoring") {
    if (path.includes("fine_tuning") || path.includes("fine-tunes")) return "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/write";
    return "Microsoft.CognitiveServices/accounts/OpenAI/files/import/action";
  }
  for (const [suffix, dataAction] of Object.entries(DATA_ACTIONS)) if (path.endsWith(suffix)) return dataAction;
  return path.includes("/models") ? "Microsoft.CognitiveServices/accounts/MaaS/*" : "Microsoft.CognitiveServices/accounts/OpenAI/deployments/*/action";
}

/**
 * Data-plane auth with a token: verifies it for the Cognitive Services audience and checks the
 * principal's role on the target account. Returns the account name; throws Azure OpenAI's 401s.
 */
export function authenticateDataPlaneToken(
  identity: IdentityService,
  getAccount: (name: string) => AccountRef | undefined,
  request: FastifyRequest,
  token: string,
  action: Action,
): string {
  let principal: Principal;
  try {
    principal = identity.verifyToken(token, "cognitiveservices");
  } catch (e) {
    const why = isIngotError(e) ? ` ${e.message}` : "";
    throw new IngotError(
      "unauthorized",
      "401",
      `Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.${why}`,
    );
  }
  const account = accountForHost(request, getAccount);
  if (!account) throw new IngotError("unauthorized", "401", "Unauthorized. No account serves this host.");
  const scope = accountScope(account.subscription, account.resourceGroup, account.name);
  const path = request.url.split("?")[0];
  const dataAction = dataActionOf(action, path);
  try {
    identity.authorize(principal, scope, action, dataAction);
  } catch (e) {
    if (isIngotError(e) && e.code === "InvalidAuthenticationTokenTenant") throw new IngotError("unauthorized", "401", `Unauthorized. ${e.message}`);
    throw new IngotError(
      "unauthorized",
      "PermissionDenied",
      `The principal \`${principal.objectId}\` lacks the required data action \`${dataAction}\` to perform \`${request.method} ${request.routeOptions.url ?? path}\` operation. Assign it 'Cognitive Services OpenAI User' (or Contributor) on ${scope}.`,
    );
  }
  return account.name;
}

export { looksLikeJwt };
