// The OnlineEndpointStore port: Azure ML managed online endpoints and their deployments.
// Endpoint names are unique across workspaces (their scoring URL is global, as Azure's per-region
// DNS name is); deployment names are unique per endpoint. Names compare case-insensitively.
// Implemented by store/sqlite/online-store.ts.
import type { OnlineDeploymentRecord, OnlineEndpointRecord } from "../ml/online.ts";

export interface OnlineEndpointStore {
  /** By name alone, in any workspace. */
  getEndpoint(name: string): OnlineEndpointRecord | undefined;
  listEndpoints(workspaceId: string): OnlineEndpointRecord[];
  putEndpoint(endpoint: OnlineEndpointRecord): void;
  /** Deletes the endpoint and its deployments. */
  deleteEndpoint(name: string): void;
  getDeployment(endpoint: string, name: string): OnlineDeploymentRecord | undefined;
  listDeployments(endpoint: string): OnlineDeploymentRecord[];
  putDeployment(deployment: OnlineDeploymentRecord): void;
  deleteDeployment(endpoint: string, name: string): void;
}
