// Persistence of what a Foundry project holds on its project endpoint: the connections users
// add and the dataset versions (src/core/projects/).
import type { ConnectionRecord } from "../projects/connections.ts";
import type { DatasetVersionRecord } from "../projects/datasets.ts";

export interface ProjectDataStore {
  listConnections(account: string, project: string): ConnectionRecord[];
  putConnection(c: ConnectionRecord): void;
  deleteConnection(account: string, project: string, name: string): boolean;
  listDatasetVersions(account: string, project: string, name?: string): DatasetVersionRecord[];
  putDatasetVersion(d: DatasetVersionRecord): void;
  deleteDatasetVersion(account: string, project: string, name: string, version: string): boolean;
}
