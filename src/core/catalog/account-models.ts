// What the data plane's models API shows an account (GET/DELETE /openai/models, /openai/v1/
// models): the catalog models it can run (open weights) and its own custom models, each
// under one id; and deleting a custom model, with its adapter file, once nothing deploys it.
import { IngotError, errors } from "../errors.ts";
import type { ModelFiles } from "../ports/index.ts";
import type { DeploymentService } from "../deployments/service.ts";
import type { Catalog, CatalogModel } from "./catalog.ts";

/** When shipped catalog entries were "created" (their ARM systemData says the same). */
const CATALOG_CREATED_AT = Date.UTC(2026, 0, 1);

export interface AccountModel {
  /** What clients name it by: the model name (a non-default version adds `-<version>`). */
  id: string;
  model: CatalogModel;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** A custom model of this account (fine-tuned model or checkpoint): deletable. */
  custom: boolean;
  /** For a custom model: its base's id. */
  baseId?: string;
}

export class AccountModels {
  #catalog: Catalog;
  #deployments: DeploymentService;
  #files: Pick<ModelFiles, "discard">;

  constructor(catalog: Catalog, deployments: DeploymentService, files: Pick<ModelFiles, "discard">) {
    this.#catalog = catalog;
    this.#deployments = deployments;
    this.#files = files;
  }

  /** Catalog models with open weights, then models registered for every account or for this one. */
  list(account: string): AccountModel[] {
    const out: AccountModel[] = [];
    for (const model of this.#catalog.list()) {
      if (model.weights === "none") continue;
      const registered = this.#catalog.isRegistered(model) ? this.#catalog.registry?.get(model) : undefined;
      if (registered && registered.account !== null && registered.account !== account) continue;
      const custom = registered?.account === account;
      out.push({
        id: this.#idOf(model),
        model,
        createdAt: registered?.createdAt ?? CATALOG_CREATED_AT,
        custom,
        ...(model.baseModel ? { baseId: this.#idOf(model.baseModel) } : {}),
      });
    }
    return out;
  }

  get(account: string, id: string): AccountModel {
    const found = this.list(account).find((m) => m.id === id);
    if (!found) throw new IngotError("not_found", "model_not_found", `The model '${id}' does not exist or you do not have access to it. List the models with GET /openai/models.`, { param: "model" });
    return found;
  }

  /** Deletes a custom model: refused while deployed (409); its adapter file goes unless another model uses it. */
  async delete(account: string, id: string): Promise<AccountModel> {
    const found = this.get(account, id);
    if (!found.custom)
      throw errors.invalid(`Model '${id}' is a base model; only custom (fine-tuned) models can be deleted.`, "model", "OperationNotSupported");
    this.#deployments.removeCustomModel(account, found.model);
    const weights = found.model.weights;
    if (!this.#catalog.list().some((m) => m.weights === weights)) await this.#files.discard(weights);
    return found;
  }

  #idOf(ref: { format: string; name: string; version: string }): string {
    return this.#catalog.isDefaultVersion(ref) ? ref.name : `${ref.name}-${ref.version}`;
  }
}
