// Identity errors, worded as ARM and Microsoft Entra ID (AAD) word them so that SDKs and
// scripts that match on codes or messages behave as they do against Azure.
import { IngotError } from "../errors.ts";

export const MANAGEMENT_AUDIENCES = ["https://management.core.windows.net/", "https://management.core.windows.net", "https://management.azure.com/", "https://management.azure.com"];
export const COGNITIVE_SERVICES_AUDIENCES = ["https://cognitiveservices.azure.com", "https://cognitiveservices.azure.com/", "https://ai.azure.com", "https://ai.azure.com/"];

/** .NET's invariant "G" format (M/d/yyyy h:mm:ss AM), which ARM uses in its token messages. */
export function dotnetUtc(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}

export const armAuthErrors = {
  invalidToken: (why: string) =>
    new IngotError("unauthorized", "InvalidAuthenticationToken", `The access token is invalid. ${why}`),
  expired: (expMs: number, nowMs: number) =>
    new IngotError(
      "unauthorized",
      "ExpiredAuthenticationToken",
      `The access token expiry UTC time '${dotnetUtc(expMs)}' is earlier than current UTC time '${dotnetUtc(nowMs)}'.`,
    ),
  wrongAudience: (aud: string, allowed: string[]) =>
    new IngotError(
      "unauthorized",
      "InvalidAuthenticationTokenAudience",
      `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${allowed.map((a) => `'${a}'`).join(",")}.`,
    ),
  wrongTenant: (tokenTenant: string, subscriptionTenant: string) =>
    new IngotError(
      "unauthorized",
      "InvalidAuthenticationTokenTenant",
      `The access token is from the wrong issuer 'https://sts.windows.net/${tokenTenant}/'. It must match the tenant 'https://sts.windows.net/${subscriptionTenant}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${subscriptionTenant}' to get the token.`,
    ),
  authorizationFailed: (objectId: string, operation: string, scope: string) =>
    new IngotError(
      "forbidden",
      "AuthorizationFailed",
      `The client '${objectId}' with object id '${objectId}' does not have authorization to perform action '${operation}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    ),
};

/**
 * Token-endpoint errors: `code` is the OAuth2 `error`, the message starts with the AADSTS
 * number (the http layer lifts it into `error_codes`). invalid_client is 401, the rest 400.
 */
export const aadErrors = {
  missingParameter: (name: string) =>
    new IngotError("invalid_request", "invalid_request", `AADSTS900144: The request body must contain the following parameter: '${name}'.`),
  unsupportedGrant: (grant: string) =>
    new IngotError(
      "invalid_request",
      "unsupported_grant_type",
      `AADSTS70003: The app requested an unsupported grant type '${grant}'. This token endpoint serves grant_type=client_credentials (a service principal's appId and password, from 'ingot sp create').`,
    ),
  noTenant: () =>
    new IngotError(
      "invalid_request",
      "invalid_request",
      "AADSTS50059: No tenant-identifying information found in either the request or implied by any provided credentials. Use the tenant id (the 'tenant' printed by 'ingot sp create') in the authority URL instead of 'common' or 'organizations'.",
    ),
  tenantNotFound: (tenant: string) =>
    new IngotError(
      "invalid_request",
      "invalid_request",
      `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  appNotFound: (appId: string, tenant: string) =>
    new IngotError(
      "invalid_request",
      "unauthorized_client",
      `AADSTS700016: Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  missingSecret: () =>
    new IngotError("unauthorized", "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  invalidSecret: (appId: string) =>
    new IngotError(
      "unauthorized",
      "invalid_client",
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
    ),
  invalidScope: (scope: string) =>
    new IngotError(
      "invalid_request",
      "invalid_scope",
      `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  resourceNotFound: (resource: string, tenant: string) =>
    new IngotError(
      "invalid_request",
      "invalid_resource",
      `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. Ingot issues tokens for https://management.azure.com and https://cognitiveservices.azure.com (or https://ai.azure.com).`,
    ),
};
