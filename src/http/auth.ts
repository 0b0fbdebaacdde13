// Data-plane auth: an account key in `api-key` or `Authorization: Bearer`; a Bearer value
// that is a JWT is an Ingot token instead, checked against the caller's role on the account.
import type { FastifyRequest } from "fastify";
import { errors } from "../core/errors.ts";
import type { IdentityService } from "../core/identity/service.ts";
import { authenticateDataPlaneToken, bearerToken, looksLikeJwt } from "./identity/bearer.ts";
import type { AccountService } from "../core/accounts/service.ts";

export function keyFrom(request: FastifyRequest): string | undefined {
  const apiKey = request.headers["api-key"];
  if (typeof apiKey === "string" && apiKey) return apiKey;
  const auth = request.headers.authorization;
  if (typeof auth === "string" && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
  return undefined;
}

export function authenticate(accounts: AccountService, request: FastifyRequest, identity?: IdentityService): void {
  const token = identity && !request.headers["api-key"] ? bearerToken(request) : undefined;
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
