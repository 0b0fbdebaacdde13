// Data-plane auth: an account key in `api-key` or `Authorization: Bearer`.
import type { FastifyRequest } from "fastify";
import { errors } from "../core/errors.ts";
import type { AccountService } from "../core/accounts/keys.ts";

export function keyFrom(request: FastifyRequest): string | undefined {
  const apiKey = request.headers["api-key"];
  if (typeof apiKey === "string" && apiKey) return apiKey;
  const auth = request.headers.authorization;
  if (typeof auth === "string" && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
  return undefined;
}

export function authenticate(accounts: AccountService, request: FastifyRequest): void {
  const account = accounts.authenticate(keyFrom(request));
  if (!account) throw errors.unauthorized();
  request.account = account;
}
