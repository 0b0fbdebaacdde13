// The only routes an anonymous caller may reach. The request pipeline (server.ts) authenticates
// every other route for its surface, and refuses a route that declares no surface: a route
// added without thinking about access is closed, not open.

export interface PublicRoute {
  method: "GET" | "POST";
  /** The route's pattern exactly as registered (Fastify's routeOptions.url). */
  url: string;
  /** Why it must answer without credentials. */
  why: string;
}

export const PUBLIC_ROUTES: readonly PublicRoute[] = [
  // Token service: callers come here to get the credential the other routes ask for.
  { method: "POST", url: "/:tenant/oauth2/v2.0/token", why: "token endpoint (client credentials)" },
  { method: "POST", url: "/:tenant/oauth2/token", why: "token endpoint (v1)" },
  { method: "GET", url: "/:tenant/v2.0/.well-known/openid-configuration", why: "OpenID discovery, read by MSAL before it has a token" },
  { method: "GET", url: "/:tenant/.well-known/openid-configuration", why: "OpenID discovery (v1)" },
  { method: "GET", url: "/:tenant/discovery/v2.0/keys", why: "public signing keys, to verify tokens" },
  { method: "GET", url: "/:tenant/discovery/keys", why: "public signing keys (v1)" },
  { method: "GET", url: "/common/discovery/instance", why: "MSAL instance discovery" },
  { method: "GET", url: "/:tenant/oauth2/v2.0/authorize", why: "says that there is no interactive sign-in" },
  // ARM's cloud metadata: `az cloud register` reads the login endpoint from it before anyone has signed in.
  { method: "GET", url: "/metadata/endpoints", why: "ARM cloud metadata (az cloud register)" },
  { method: "GET", url: "//metadata/endpoints", why: "the same, as az asks for it after an endpoint with a trailing slash" },
  // Health: load balancers probe without credentials. /readyz answers status only unless an administrator asks.
  { method: "GET", url: "/healthz", why: "liveness probe" },
  { method: "GET", url: "/readyz", why: "readiness probe (status only for anonymous callers)" },
  // The portal's static files: the sign-in page must load before the user has signed in.
  { method: "GET", url: "/", why: "portal page" },
  { method: "GET", url: "/assets/*", why: "portal assets" },
  // The one-time code of the link `ingot up` prints is the credential: it buys an admin token once.
  { method: "POST", url: "/portal/signin", why: "portal sign-in link (one-time code → token)" },
];

const KEYS = new Set(PUBLIC_ROUTES.map((r) => `${r.method} ${r.url}`));

/** Whether a registered route (method, pattern) is public. HEAD is GET without the body. */
export function isPublicRoute(method: string, url: string | undefined): boolean {
  if (url === undefined) return false;
  const m = method === "HEAD" ? "GET" : method;
  return KEYS.has(`${m} ${url}`);
}
