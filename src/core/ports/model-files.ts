// The ModelFiles port: resolves a catalog model to verified local weights and checks that
// it fits. Implemented by models/model-files.ts (LocalModelFiles).
import type { ModelRef } from "./resource-store.ts";

/** A verified local weights file. */
export interface WeightsFile {
  path: string;
  sha256: string;
  sizeBytes?: number;
}

/** Where model weights come from: resolves a catalog model to a verified local file. */
export interface ModelFiles {
  /**
   * The model's weights; for a LoRA custom model (`lora:` weights) `path` is its base's
   * weights and `adapter` the adapter file, checked against the base.
   */
  ensure(model: ModelRef, onProgress?: (p: WeightsProgress) => void): Promise<WeightsFile & { adapter?: WeightsFile }>;
  /** Throws an IngotError saying what to do when the model would not fit in free memory. */
  checkFits(path: string, contextLength: number, sequences: number, modelName: string): Promise<void>;
  /** The same for one more adapter context (the adapter plus its own KV cache) on a base already loaded. */
  checkAdapterFits(basePath: string, adapterPath: string, contextLength: number, sequences: number, modelName: string): Promise<void>;
  /** Deletes the file behind a removed custom model's weights URI (its `lora:` adapter); other schemes are left alone. */
  discard(weights: string): Promise<void>;
}

/** Progress of fetching weights (download, verification, building a built-in model). */
export interface WeightsProgress {
  phase: "downloading" | "verifying" | "building" | "ready";
  bytes: number;
  totalBytes?: number;
}
