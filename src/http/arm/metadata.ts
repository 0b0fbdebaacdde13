// What a cloud-aware client reads from Azure Resource Manager before and right after signing in:
// the cloud metadata (`GET /metadata/endpoints`, read by `az cloud register
// --endpoint-resource-manager`), and Microsoft.Resources' subscription and tenant lists
// (read by `az login`). With these, Debian's azure-cli treats Ingot as an Azure Stack Hub–style
// private cloud: its login endpoint is Ingot's ADFS-style authority `{base}/adfs`, which MSAL
// accepts without asking Microsoft's instance discovery on the internet.
import type { FastifyInstance } from "fastify";
import { errors } from "../../core/errors.ts";
import type { Principal } from "../../core/identity/types.ts";
import type { AppContext } from "../context.ts";
import { armKit, baseUrlOf } from "./kit.ts";

/** Microsoft.Resources' api-versions for subscriptions and tenants (az 2.45 sends 2019-11-01; older profiles 2016-06-01). */
export const SUBSCRIPTION_API_VERSIONS = [
  "2014-04-01-preview", "2015-01-01", "2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01",
];

/** The metadata shape changed in 2019-05-01: earlier versions answer one object, later ones a list of clouds. */
const FIRST_LIST_VERSION = "2019-05-01";
export const METADATA_API_VERSIONS = ["2015-01-01", "2018-01-01", FIRST_LIST_VERSION, "2020-06-01", "2022-09-01"];

/** `GET /metadata/endpoints` in both shapes, for the Ingot at `base` (its origin, no trailing slash). */
export function cloudMetadata(base: string, apiVersion: string): unknown {
  const login = `${base}/adfs`;
  // The token audience az asks for: this ARM itself (the token endpoint serves it as the management API).
  const audiences = [`${base}/`, "https://management.azure.com/"];
  // No Graph in Ingot: the audience is only a name az requires a cloud to have (`az ad` is not served).
  const graph = "https://graph.windows.net/";
  if (apiVersion < FIRST_LIST_VERSION) {
    return { galleryEndpoint: `${base}/`, graphEndpoint: graph, portalEndpoint: `${base}/`, authentication: { loginEndpoint: login, audiences } };
  }
  return [
    {
      name: "Ingot",
      portal: `${base}/`,
      resourceManager: `${base}/`,
      gallery: `${base}/`,
      graph,
      graphAudience: graph,
      authentication: { loginEndpoint: login, audiences, tenant: "adfs", identityProvider: "ADFS" },
      suffixes: {},
    },
  ];
}

export function registerArmMetadataRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    // Before sign-in: public (public-routes.ts). az joins a registered endpoint with a trailing
    // slash and the path, so it asks for `//metadata/endpoints`.
    for (const url of ["/metadata/endpoints", "//metadata/endpoints"]) {
      app.get<{ Querystring: { "api-version"?: string } }>(url, { config: { surface: "arm" } }, async (request) => {
        const version = request.query["api-version"];
        if (!version) throw errors.armInvalid("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required. Use ?api-version=2015-01-01 (what az cloud register sends) or 2022-09-01.", "api-version");
        if (!METADATA_API_VERSIONS.includes(version) && !ctx.settings.skipApiVersionCheck)
          throw errors.armInvalid("InvalidApiVersionParameter", `The api-version '${version}' is invalid. The supported versions are '${METADATA_API_VERSIONS.join(", ")}'.`, "api-version");
        return cloudMetadata(baseUrlOf(request), version);
      });
    }

    const kit = armKit(app, ctx);
    const checkVersion = (value: unknown, skip: boolean) => {
      if (value === undefined || value === "")
        throw errors.armInvalid("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests. Use e.g. ?api-version=2019-11-01.", "api-version");
      if (skip || (typeof value === "string" && SUBSCRIPTION_API_VERSIONS.includes(value))) return;
      throw errors.armInvalid(
        "NoRegisteredProviderFound",
        `No registered resource provider found for API version '${String(value)}' for type 'subscriptions'. The supported api-versions are '${SUBSCRIPTION_API_VERSIONS.join(", ")}'.`,
        "api-version",
      );
    };
    const tenantName = (tenant: string) => (tenant === ctx.identity.admin().tenantId ? "Ingot" : `Ingot tenant ${tenant.slice(0, 8)}`);
    const subscriptionBody = (principal: Principal, id: string) => ({
      id: `/subscriptions/${id}`,
      authorizationSource: "RoleBased",
      managedByTenants: [],
      subscriptionId: id,
      tenantId: principal.tenantId,
      displayName: `Ingot subscription ${id}`,
      state: "Enabled",
      subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "Ingot_2024-01-01", spendingLimit: "Off" },
    });

    kit.route("GET", "/subscriptions", ({ principal }) => ({ value: ctx.identity.visibleSubscriptions(principal).map((s) => subscriptionBody(principal, s)), count: { type: "Total", value: ctx.identity.visibleSubscriptions(principal).length } }), { checkApiVersion: checkVersion });

    kit.route<{ subscription: string }>("GET", "/subscriptions/:subscription", ({ principal, params }) => {
      const id = ctx.identity.visibleSubscriptions(principal).find((s) => s.toLowerCase() === params.subscription.toLowerCase());
      if (!id) throw errors.armNotFound(`/subscriptions/${params.subscription}`);
      return subscriptionBody(principal, id);
    }, { checkApiVersion: checkVersion });

    // A principal belongs to one tenant in Ingot.
    kit.route("GET", "/tenants", ({ principal }) => ({
      value: [{ id: `/tenants/${principal.tenantId}`, tenantId: principal.tenantId, tenantCategory: "Home", displayName: tenantName(principal.tenantId), countryCode: "US", domains: [], tenantType: "AAD", defaultDomain: "ingot.local" }],
    }), { checkApiVersion: checkVersion });
  });
}
