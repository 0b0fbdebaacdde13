// The model catalog: data files under catalog/ (not code) describing what can be deployed.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { errors } from "../errors.ts";
import type { Capability } from "../generation/service.ts";
import type { ModelRef } from "../ports.ts";

export interface CatalogModel {
  format: string;
  name: string;
  version: string;
  capabilities: Capability[];
  contextLength: number;
  /** `builtin:<name>` for models Ingot builds itself. */
  weights: string;
  skus: { name: string; minCapacity: number; maxCapacity: number; defaultCapacity: number }[];
  lifecycleStatus: string;
  license: string;
}

export class Catalog {
  readonly models: CatalogModel[];

  constructor(models: CatalogModel[]) {
    this.models = models;
  }

  static fromDirectory(dir: string): Catalog {
    const models = readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .flatMap((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).models as CatalogModel[]);
    return new Catalog(models);
  }

  find(ref: ModelRef): CatalogModel {
    const model = this.models.find((m) => m.format === ref.format && m.name === ref.name && m.version === ref.version);
    if (!model) throw errors.invalid(`Model ${ref.format}/${ref.name} version ${ref.version} is not in the catalog.`, "properties.model", "DeploymentModelNotSupported");
    return model;
  }
}
