// The WorkspaceStore port: Azure Machine Learning workspaces (Microsoft.MachineLearningServices).
// Implemented by store/sqlite/workspace-store.ts (SqliteWorkspaceStore). Names are
// case-insensitive, as ARM resource names are.
import type { WorkspaceRecord } from "../ml/workspaces.ts";

export interface WorkspaceStore {
  getWorkspace(subscription: string, resourceGroup: string, name: string): WorkspaceRecord | undefined;
  /** A subscription's workspaces, or one resource group's when `resourceGroup` is given. */
  /** By properties.workspaceId (the GUID), case-insensitively. */
  getWorkspaceById(workspaceId: string): WorkspaceRecord | undefined;
  listWorkspaces(subscription: string, resourceGroup?: string): WorkspaceRecord[];
  putWorkspace(workspace: WorkspaceRecord): void;
  deleteWorkspace(subscription: string, resourceGroup: string, name: string): void;
}
