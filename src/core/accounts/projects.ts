// Foundry projects: child resources of an AIServices account (accounts/{a}/projects/{p}),
// each with its project endpoint /api/projects/{p}. Every account has a default project.
import { errors } from "../errors.ts";
import type { AccountRecord, ProjectStore } from "../ports/index.ts";

export const DEFAULT_PROJECT = "default";
const PROJECT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$/;

export interface ProjectRecord {
  account: string;
  name: string;
  displayName: string;
  description: string;
  isDefault: boolean;
  createdAt: number;
}

export class ProjectService {
  #store: ProjectStore;
  #clock: () => number;

  constructor(store: ProjectStore, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
  }

  /** The account's default project, created when first needed (AIServices accounts only). */
  ensureDefault(account: AccountRecord): void {
    if (account.kind !== "AIServices" || this.#store.listProjects(account.name).some((p) => p.isDefault)) return;
    this.#store.putProject({ account: account.name, name: DEFAULT_PROJECT, displayName: "Default project", description: "", isDefault: true, createdAt: this.#clock() });
  }

  list(account: AccountRecord): ProjectRecord[] {
    this.ensureDefault(account);
    return this.#store.listProjects(account.name);
  }

  get(account: AccountRecord, name: string): ProjectRecord | undefined {
    this.ensureDefault(account);
    return this.#store.listProjects(account.name).find((p) => p.name.toLowerCase() === name.toLowerCase());
  }

  createOrUpdate(account: AccountRecord, name: string, input: { displayName?: unknown; description?: unknown }): { project: ProjectRecord; created: boolean } {
    if (account.kind !== "AIServices")
      throw errors.armInvalid("InvalidRequest", `Account '${account.name}' is of kind ${account.kind}, which cannot hold projects. Create projects in an AIServices account (properties.allowProjectManagement is true there).`);
    if (!PROJECT_NAME.test(name))
      throw errors.armInvalid("InvalidResourceName", `Project name '${name}' is invalid. Use 2 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.`, "name");
    for (const [field, value] of [["displayName", input.displayName], ["description", input.description]] as const)
      if (value !== undefined && typeof value !== "string") throw errors.armInvalid("InvalidRequestContent", `properties.${field} must be a string.`, `properties.${field}`);
    const existing = this.get(account, name);
    const project: ProjectRecord = {
      account: account.name,
      name: existing?.name ?? name,
      displayName: (input.displayName as string | undefined) ?? existing?.displayName ?? name,
      description: (input.description as string | undefined) ?? existing?.description ?? "",
      isDefault: existing?.isDefault ?? false,
      createdAt: existing?.createdAt ?? this.#clock(),
    };
    this.#store.putProject(project);
    return { project, created: !existing };
  }

  /** Deletes a project; false when there was none. The default project stays while its account does. */
  delete(account: AccountRecord, name: string): boolean {
    const p = this.get(account, name);
    if (!p) return false;
    if (p.isDefault) throw errors.armInvalid("CannotDeleteDefaultProject", `Project '${p.name}' is the account's default project and is deleted with the account only. Delete other projects, or the account.`);
    this.#store.deleteProject(account.name, p.name);
    return true;
  }

  deleteAll(account: string): void {
    this.#store.deleteProjects(account);
  }
}
