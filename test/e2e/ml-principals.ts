// Test helper for the Azure ML end-to-end tests: a service principal with a role on the test
// server (its management-plane token, its @azure/identity credential, and the ML SDK client
// as it), and an ARM call with a bearer token, which each ML test file had written for itself.
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { ClientSecretCredential } from "@azure/identity";
import { SUB } from "./arm-sdk-client.ts";
import type { TestServer } from "./harness.ts";

export interface MlPrincipal {
  /** A management-plane bearer token, issued by the server directly. */
  token: string;
  /** Its client secret against Ingot's authority, as a user's code holds it. */
  credential: ClientSecretCredential;
  /** The ML SDK client pointed at the server, signing in as this principal. */
  client(): AzureMachineLearningWorkspaces;
}

export function mlPrincipal(server: TestServer, displayName: string, role = "Contributor", scope = `/subscriptions/${SUB}`): MlPrincipal {
  const sp = server.ingot.identity.createServicePrincipal({ displayName, role, scope });
  const token = server.ingot.identity.issueToken({ tenantId: sp.tenant, objectId: sp.objectId, kind: "servicePrincipal", appId: sp.appId, displayName: sp.displayName }, "management");
  const credential = new ClientSecretCredential(sp.tenant, sp.appId, sp.password, { authorityHost: server.url, disableInstanceDiscovery: true });
  return { token, credential, client: () => new AzureMachineLearningWorkspaces(credential, SUB, { endpoint: server.url }) };
}

/** An ARM request as `token`: `api-version` joins the path's query (none when null); a body goes as JSON. */
export function armFetch(server: TestServer, token: string, method: string, path: string, body: unknown, apiVersion: string | null): Promise<Response> {
  const query = apiVersion === null ? "" : `${path.includes("?") ? "&" : "?"}api-version=${apiVersion}`;
  return fetch(`${server.url}${path}${query}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
