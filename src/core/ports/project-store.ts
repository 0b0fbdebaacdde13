// The ProjectStore port: Foundry projects of an account. Implemented by
// store/sqlite/project-store.ts (SqliteProjectStore).
import type { ProjectRecord } from "../accounts/projects.ts";

export interface ProjectStore {
  getProject(account: string, name: string): ProjectRecord | undefined;
  listProjects(account: string): ProjectRecord[];
  putProject(project: ProjectRecord): void;
  deleteProject(account: string, name: string): void;
  deleteProjects(account: string): void;
}
