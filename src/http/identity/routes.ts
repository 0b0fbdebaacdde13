// The token service, shaped like Microsoft Entra ID's: the OAuth2 client-credentials token
// endpoint (v2 and v1), the OpenID discovery documents MSAL reads, the signing keys, and
// instance discovery. Point an SDK credential's `authorityHost` at Ingot's https URL.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { IngotError, isIngotError } from "../../core/errors.ts";
import { ADFS_TENANT } from "../../core/identity/service.ts";
import type { IdentityService } from "../../core/identity/service.ts";
import { aadErrors } from "../../core/identity/errors.ts";

export type BaseUrlOf = (request: FastifyRequest) => string;

/** This Ingot's origin as the client reached it (scheme and Host header), e.g. https://127.0.0.1:8443. */
export const requestBaseUrl: BaseUrlOf = (request) => `${request.protocol}://${request.host}`;

const COMMON_TENANTS = new Set(["common", "organizations", "consumers"]);
const IDENTITY = { config: { surface: "identity" as const } };

export function registerIdentityRoutes(app: FastifyInstance, identity: IdentityService, baseUrlOf: BaseUrlOf = requestBaseUrl): void {
  // Own plugin scope: the form parser and the AAD error shape apply to these routes only.
  app.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    scope.setErrorHandler((error, request, reply) => {
      const e = isIngotError(error)
        ? error
        : new IngotError("invalid_request", "invalid_request", `AADSTS900144: The request could not be read (${(error as Error).message}). Send the parameters as application/x-www-form-urlencoded.`);
      sendAadError(request, reply, e);
    });

    const tokenHandler = async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
      const form = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, unknown>;
      const str = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : undefined);
      let clientId = str("client_id");
      let clientSecret = str("client_secret");
      // client_secret_basic: the credentials in an HTTP Basic header instead of the body.
      const basic = /^basic\s+(.+)$/i.exec(request.headers.authorization ?? "");
      if (basic) {
        const [id, ...secret] = Buffer.from(basic[1], "base64").toString("utf8").split(":");
        clientId ??= decodeURIComponent(id);
        clientSecret ??= decodeURIComponent(secret.join(":"));
      }
      const grantType = str("grant_type");
      if (grantType === undefined) throw aadErrors.missingParameter("grant_type");
      const result = identity.clientCredentials({
        tenant: request.params.tenant,
        clientId,
        clientSecret,
        scope: str("scope"),
        resource: str("resource"),
        grantType,
        // ARM SDKs ask for `{endpoint}/.default`; pointed at Ingot, that is Ingot's own URL.
        selfResource: `${request.protocol}://${request.host}`,
      });
      reply.header("cache-control", "no-store, no-cache").header("pragma", "no-cache");
      return result;
    };
    scope.post("/:tenant/oauth2/v2.0/token", IDENTITY, tokenHandler);
    scope.post("/:tenant/oauth2/token", IDENTITY, tokenHandler);

    scope.get<{ Params: { tenant: string } }>("/:tenant/v2.0/.well-known/openid-configuration", IDENTITY, async (request) =>
      openIdConfiguration(baseUrlOf(request), tenantForDiscovery(identity, request.params.tenant), "v2.0"),
    );
    scope.get<{ Params: { tenant: string } }>("/:tenant/.well-known/openid-configuration", IDENTITY, async (request) =>
      openIdConfiguration(baseUrlOf(request), tenantForDiscovery(identity, request.params.tenant), "v1"),
    );

    const keys = async () => identity.jwks();
    scope.get("/:tenant/discovery/v2.0/keys", IDENTITY, keys);
    scope.get("/:tenant/discovery/keys", IDENTITY, keys);

    // MSAL's instance discovery (asked of login.microsoftonline.com unless the client sets
    // disableInstanceDiscovery); answered here for clients that are pointed at Ingot for it.
    scope.get<{ Querystring: { authorization_endpoint?: string } }>("/common/discovery/instance", IDENTITY, async (request) => {
      const base = baseUrlOf(request);
      const host = new URL(base).host;
      const tenant = /^https?:\/\/[^/]+\/([^/]+)\//.exec(request.query.authorization_endpoint ?? "")?.[1] ?? "common";
      return {
        tenant_discovery_endpoint: `${base}/${tenant}/v2.0/.well-known/openid-configuration`,
        "api-version": "1.1",
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      };
    });

    scope.get<{ Params: { tenant: string } }>("/:tenant/oauth2/v2.0/authorize", IDENTITY, async () => {
      throw new IngotError(
        "invalid_request",
        "unsupported_response_type",
        "AADSTS70000: Ingot's token service has no interactive sign-in. Use a service principal (ingot sp create) with the client-credentials grant, or `ingot token` for the local admin.",
      );
    });
  });
}

/** The tenant as a discovery document names it: a known tenant id, or the `{tenantid}` placeholder for common. */
function tenantForDiscovery(identity: IdentityService, tenant: string): string {
  if (COMMON_TENANTS.has(tenant.toLowerCase())) return "{tenantid}";
  // ADFS-style authority (`{base}/adfs`): MSAL trusts it without instance discovery on the internet.
  if (tenant.toLowerCase() === ADFS_TENANT) return ADFS_TENANT;
  const known = identity.knownTenant(tenant);
  if (!known) throw new IngotError("invalid_request", "invalid_tenant", aadErrors.tenantNotFound(tenant).message);
  return known;
}

function openIdConfiguration(base: string, tenant: string, version: "v1" | "v2.0"): Record<string, unknown> {
  const v2 = version === "v2.0";
  const oauth = `${base}/${tenant}/oauth2${v2 ? "/v2.0" : ""}`;
  return {
    token_endpoint: `${oauth}/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
    jwks_uri: `${base}/${tenant}/discovery${v2 ? "/v2.0" : ""}/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "token id_token", "token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    // MSAL accepts an issuer on the authority's own origin; the tokens themselves carry
    // Entra ID's v1 issuer (https://sts.windows.net/{tid}/), which is what ARM checks.
    issuer: v2 ? `${base}/${tenant}/v2.0` : tenant === ADFS_TENANT ? `${base}/${ADFS_TENANT}` : `https://sts.windows.net/${tenant}/`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${oauth}/authorize`,
    device_authorization_endpoint: `${oauth}/devicecode`,
    end_session_endpoint: `${oauth}/logout`,
    grant_types_supported: ["client_credentials"],
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "appid", "idtyp", "name", "ver"],
    tenant_region_scope: null,
    cloud_instance_name: new URL(base).host,
    cloud_graph_host_name: new URL(base).host,
    msgraph_host: new URL(base).host,
  };
}

/** Entra ID's error body: error, error_description (with trace ids), error_codes, timestamp. */
function sendAadError(request: FastifyRequest, reply: FastifyReply, e: IngotError): void {
  const traceId = request.id;
  const header = request.headers["client-request-id"];
  const correlationId = typeof header === "string" && header ? header : randomUUID();
  const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  const code = Number(/^AADSTS(\d+)/.exec(e.message)?.[1] ?? 0);
  reply
    .code(e.status)
    .header("cache-control", "no-store, no-cache")
    .header("x-ms-request-id", traceId)
    .send({
      error: e.code,
      error_description: `${e.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: code ? [code] : [],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      ...(code ? { error_uri: `https://login.microsoftonline.com/error?code=${code}` } : {}),
    });
}
