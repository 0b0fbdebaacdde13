// The ServerlessEndpointStore port: Azure ML serverless endpoints, one per workspace (by its
// workspaceId GUID) and name, with their two keys. Names are case-insensitive and unique across
// workspaces (an endpoint's URL carries its name). Keys are matched by their hash, as account
// keys are. Implemented by store/sqlite/serverless-store.ts.
import type { ServerlessEndpointRecord } from "../ml/serverless.ts";

export interface ServerlessKeyHashes {
  primary: string;
  secondary: string;
}

export interface ServerlessEndpointStore {
  getEndpoint(workspaceId: string, name: string): ServerlessEndpointRecord | undefined;
  /** The endpoint of this name in any workspace (names are global). */
  findEndpointByName(name: string): ServerlessEndpointRecord | undefined;
  listEndpoints(workspaceId: string): ServerlessEndpointRecord[];
  /** Inserts or replaces the endpoint with its keys; `hashes` are what requests are matched by. */
  putEndpoint(record: ServerlessEndpointRecord, hashes: ServerlessKeyHashes): void;
  deleteEndpoint(workspaceId: string, name: string): void;
  /** The endpoint one of whose keys has this hash. */
  endpointForKeyHash(hash: string): ServerlessEndpointRecord | undefined;
}
