// The catalog entry and deployment through which Ingot serves a bench model: a local GGUF
// as `file:` weights (Ingot's bring-your-own-model path).
import type { CatalogModel } from "../src/core/catalog/catalog.ts";
import type { ModelRef } from "../src/core/ports/index.ts";

export const BENCH_DEPLOYMENT = "bench";

export function benchModelRef(): ModelRef {
  return { format: "Custom", name: "bench", version: "1" };
}

export function benchCatalogModel(modelPath: string, contextLength: number): CatalogModel {
  return {
    ...benchModelRef(),
    capabilities: ["chatCompletion", "completion"],
    contextLength,
    weights: `file:${modelPath}`,
    skus: [{ name: "GlobalStandard", usageName: "Ingot.GlobalStandard.bench", minCapacity: 1, maxCapacity: 10000, defaultCapacity: 1000 }],
    lifecycleStatus: "GenerallyAvailable",
    license: "MIT",
  };
}
