// The official ARM SDK pointed at a test server, as a user does: a service principal with a
// role, an @azure/identity credential whose authority is Ingot, and only `endpoint` changed.
import { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { ClientSecretCredential } from "@azure/identity";
import type { TestServer } from "./harness.ts";

export const SUB = "00000000-0000-0000-0000-000000000000";
export const RG = "ingot";
/** Poll fast: a local server finishes in milliseconds. */
export const POLL = { updateIntervalInMs: 100 };

export function armSdkClient(server: TestServer, displayName: string, role = "Contributor"): CognitiveServicesManagementClient {
  const sp = server.ingot.identity.createServicePrincipal({ displayName, role, scope: `/subscriptions/${SUB}` });
  const credential = new ClientSecretCredential(sp.tenant, sp.appId, sp.password, { authorityHost: server.url, disableInstanceDiscovery: true });
  // The SDK then asks for a token for `${endpoint}/.default`, which Ingot serves.
  return new CognitiveServicesManagementClient(credential, SUB, { endpoint: server.url });
}
