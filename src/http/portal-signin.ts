// POST /portal/signin {code} → an admin token: how the portal redeems the one-time sign-in
// link `ingot up` prints. Public by nature (the caller has no credential yet); the code is the
// credential, good once and for minutes (core/identity/signin-codes.ts).
import type { FastifyInstance } from "fastify";
import { IngotError, errors } from "../core/errors.ts";
import type { IdentityService } from "../core/identity/service.ts";
import type { SignInCodes } from "../core/identity/signin-codes.ts";

export const PORTAL_SIGNIN_PATH = "/portal/signin";
/** Lifetime of the token a link buys, as `ingot token` gives by default. */
const TOKEN_LIFETIME_SECONDS = 3600;

export function registerPortalSignInRoutes(app: FastifyInstance, identity: IdentityService, codes: SignInCodes): void {
  app.post(PORTAL_SIGNIN_PATH, { config: { surface: "ops" as const } }, async (request, reply) => {
    const code = (request.body as { code?: unknown } | null | undefined)?.code;
    if (code === undefined) throw errors.missing("code");
    if (typeof code !== "string" || code.length === 0 || code.length > 200)
      throw errors.invalid("Invalid 'code': send the sign-in code from the link 'ingot up' printed (the part after ?signin=).", "code");
    if (!codes.redeem(code))
      throw new IngotError(
        "unauthorized",
        "SignInLinkInvalid",
        `This sign-in link was already used or has expired (a link works once, for ${Math.round(codes.ttlMs / 60_000)} minutes). Restart 'ingot up' for a new link, or sign in with the output of 'ingot token'.`,
        { param: "code" },
      );
    reply.header("cache-control", "no-store");
    return { token_type: "Bearer", expires_in: TOKEN_LIFETIME_SECONDS, access_token: identity.adminToken("management", TOKEN_LIFETIME_SECONDS) };
  });
}
