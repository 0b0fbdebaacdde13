// What a GGUF says about itself, for registering a local file (`ingot models add`): its
// architecture, trained context, whether it is an embeddings model, whether it has a chat template.
import { stat } from "node:fs/promises";
import type { Capability } from "../core/generation/service.ts";
import { metaGet } from "../gguf/format.ts";
import { readGguf } from "../gguf/reader.ts";
import { dimensionsOf } from "./memory.ts";

export interface GgufSummary {
  architecture: string;
  /** general.name, if the file has one. */
  name: string | undefined;
  trainedContext: number | undefined;
  embeddings: boolean;
  hasChatTemplate: boolean;
  license: string | undefined;
  sizeBytes: number;
  tensors: number;
}

// Encoder-only architectures llama.cpp serves as embedding models.
const EMBEDDING_ARCHS = new Set(["bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "modern-bert", "neo-bert", "t5encoder", "gemma-embedding"]);

export async function inspectGguf(path: string): Promise<GgufSummary> {
  const [info, st] = await Promise.all([readGguf(path), stat(path)]);
  const d = dimensionsOf(info.metadata);
  const pooling = metaGet(info.metadata, `${d.architecture}.pooling_type`);
  const str = (k: string) => {
    const v = metaGet(info.metadata, k);
    return typeof v === "string" && v ? v : undefined;
  };
  return {
    architecture: d.architecture,
    name: str("general.name"),
    trainedContext: d.trainedContext,
    // pooling_type 0 is NONE; any pooling means the model was converted to produce sentence vectors.
    embeddings: EMBEDDING_ARCHS.has(d.architecture) || (typeof pooling === "number" && pooling > 0),
    hasChatTemplate: str("tokenizer.chat_template") !== undefined,
    license: str("general.license"),
    sizeBytes: st.size,
    tensors: info.tensors.length,
  };
}

export function detectedCapabilities(s: GgufSummary): Capability[] {
  return s.embeddings ? ["embeddings"] : ["chatCompletion", "completion"];
}
