// Authentication per surface, run by the request pipeline (server.ts) before routing.
// Data plane: an account key in `api-key` or `Authorization: Bearer`; a Bearer value that is a
// JWT is an Ingot token instead, checked against the caller's role on the account.
// Management plane: a bearer token (managementPrincipal). Server status: an administrator.
import type { FastifyRequest } from "fastify";
import { errors, IngotError } from "../core/errors.ts";
import { scopeSegments } from "../core/identity/roles.ts";
import type { IdentityService } from "../core/identity/service.ts";
import type { Principal } from "../core/identity/types.ts";
import { authenticateDataPlaneToken, bearerToken, looksLikeJwt, managementPrincipal } from "./identity/bearer.ts";
import type { AccountService } from "../core/accounts/service.ts";

export function keyFrom(request: FastifyRequest): string | undefined {
  const apiKey = request.headers["api-key"];
  if (typeof apiKey === "string" && apiKey) return apiKey;
  // Azure AI services' key header (the Content Safety client sends it).
  const subscriptionKey = request.headers["ocp-apim-subscription-key"];
  if (typeof subscriptionKey === "string" && subscriptionKey) return subscriptionKey;
  const auth = request.headers.authorization;
  if (typeof auth === "string" && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
  return undefined;
}

export function authenticate(accounts: AccountService, request: FastifyRequest, identity?: IdentityService): void {
  const token = identity && !request.headers["api-key"] && !request.headers["ocp-apim-subscription-key"] ? bearerToken(request) : undefined;
  if (identity && token && looksLikeJwt(token)) {
    request.account = authenticateDataPlaneToken(identity, (name) => accounts.get(name), request, token, request.routeOptions.config?.action ?? "inference");
    return;
  }
  const account = accounts.authenticate(keyFrom(request));
  if (!account) throw errors.unauthorized();
  // Addressed to another account by host name (acct.localhost), a key of this one opens nothing.
  const addressed = request.hostname.includes(".") && !/^[\d.]+$/.test(request.hostname) ? request.hostname.split(".")[0] : undefined;
  if (addressed && addressed !== account && accounts.get(addressed)) throw errors.unauthorized();
  request.account = account;
}

/**
 * Whether `principal` administers this whole Ingot: Owner at "/". Server
 * status (readiness details, Prometheus metrics) spans every account, so an account-level
 * role is not enough.
 */
export function isAdministrator(identity: IdentityService, principal: Principal): boolean {
  return identity.roleAssignments(principal.objectId).some((a) => {
    if (a.role !== "Owner") return false;
    // Only '/': server status lists every subscription's deployments, so an Owner of one subscription must not see it.
    return scopeSegments(a.scope).length === 0;
  });
}

/** The administrator calling, from a management bearer token; undefined when there is none or it is not an admin's. */
export function optionalAdministrator(identity: IdentityService, request: FastifyRequest): Principal | undefined {
  if (!bearerToken(request)) return undefined;
  try {
    const principal = managementPrincipal(identity, request);
    return isAdministrator(identity, principal) ? principal : undefined;
  } catch {
    return undefined;
  }
}

/** Server-wide operations (/metrics): an administrator's management token, else 401/403 saying what to send. */
export function requireAdministrator(identity: IdentityService, request: FastifyRequest): Principal {
  if (!bearerToken(request))
    throw new IngotError(
      "unauthorized",
      "401",
      "This endpoint needs an administrator: send 'Authorization: Bearer <token>' with a management token of an Owner at '/' (`ingot token`), or scrape the --metrics-address listener (loopback by default).",
    );
  const principal = managementPrincipal(identity, request);
  if (!isAdministrator(identity, principal))
    throw new IngotError("forbidden", "403", `The principal '${principal.objectId}' is not an administrator of this Ingot: server status needs the Owner role at '/'.`);
  return principal;
}
