// Models registered for every account at run time (a local GGUF brought with `ingot models
// add`): the rules for adding and removing them, whoever asks (the CLI goes through the
// Ingot.Catalog management routes). A name taken in the catalog is a conflict; removing a
// model is refused while any deployment serves it, as for custom models.
import { IngotError, errors } from "../errors.ts";
import type { ModelRef } from "../ports/index.ts";
import type { DeploymentRecord } from "../ports/index.ts";
import type { Catalog, CatalogModel } from "./catalog.ts";

const describe = (ref: ModelRef) => `${ref.format}/${ref.name} version ${ref.version}`;

export class SharedModels {
  #catalog: Catalog;
  #deploymentsOf: (ref: ModelRef) => DeploymentRecord[];

  constructor(catalog: Catalog, deployments: { deploymentsOf(ref: ModelRef): DeploymentRecord[] }) {
    this.#catalog = catalog;
    this.#deploymentsOf = (ref) => deployments.deploymentsOf(ref);
  }

  /** Throws a conflict (ModelAlreadyExists) when the format, name and version are taken. */
  checkFree(ref: ModelRef): void {
    if (!this.#catalog.has(ref)) return;
    const registered = this.#catalog.isRegistered(ref);
    throw errors.conflict(
      "ModelAlreadyExists",
      `${describe(ref)} already exists${registered ? " (registered; remove it first with ingot models remove)" : " in the shipped catalog"}. Choose another name or version.`,
    );
  }

  register(model: CatalogModel): CatalogModel {
    this.checkFree(model);
    const registry = this.#catalog.registry;
    if (!registry) throw errors.internal("This Ingot has no model registry: models cannot be registered.");
    registry.register(model);
    return this.#catalog.find(model);
  }

  /**
   * Unregisters a model registered for every account. Shipped models and an account's custom
   * (fine-tuned) models are not removable here (400); a deployed model is refused (409
   * ModelInUse) and kept. Returns undefined when there is no such model.
   */
  remove(ref: ModelRef): CatalogModel | undefined {
    if (!this.#catalog.has(ref)) return undefined;
    const model = this.#catalog.find(ref);
    if (!this.#catalog.isRegistered(ref))
      throw errors.armInvalid("ModelNotRemovable", `${describe(ref)} is part of the shipped catalog and cannot be removed.`);
    const owner = this.#catalog.ownerOf(ref);
    if (owner !== undefined)
      throw errors.armInvalid(
        "ModelNotRemovable",
        `${describe(ref)} is a custom model of account '${owner}': delete it with DELETE /openai/models/{model} using that account's key.`,
      );
    const serving = this.#deploymentsOf(ref);
    if (serving.length)
      throw new IngotError(
        "conflict",
        "ModelInUse",
        `${describe(ref)} cannot be removed while it is deployed (${serving.map((d) => `'${d.name}' in account '${d.account}'`).join(", ")}). Delete the deployments first.`,
      );
    this.#catalog.registry?.remove(ref);
    return model;
  }
}
