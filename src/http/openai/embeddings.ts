// Embeddings: wire ↔ core for `/embeddings` (Azure OpenAI, v1 and model inference).
import { errors } from "../../core/errors.ts";
import type { EmbeddingRequest, EmbeddingResult } from "../../core/generation/types.ts";
import { asBody, optNumber, optString } from "../validate.ts";

const MAX_INPUTS = 2048;

export function parseEmbeddingRequest(raw: unknown, deployment: string): EmbeddingRequest & { encoding: "float" | "base64" } {
  const body = asBody(raw);
  const input = body.input;
  if (input === undefined) throw errors.missing("input");
  const inputs = typeof input === "string" ? [input] : input;
  if (!Array.isArray(inputs) || inputs.some((s) => typeof s !== "string"))
    throw errors.invalid("Invalid 'input': expected a string or an array of strings.", "input", "invalid_type");
  if (inputs.length === 0 || inputs.length > MAX_INPUTS) throw errors.invalid(`Invalid 'input': send between 1 and ${MAX_INPUTS} strings.`, "input");
  if (inputs.some((s) => s.length === 0)) throw errors.invalid("Invalid 'input': strings must not be empty.", "input");
  const encoding = optString(body, "encoding_format") ?? "float";
  if (encoding !== "float" && encoding !== "base64") throw errors.invalid(`Invalid value: '${encoding}'. Supported values are: 'float' and 'base64'.`, "encoding_format");
  return { deployment, inputs: inputs as string[], dimensions: optNumber(body, "dimensions", { min: 1, integer: true }), encoding };
}

export function embeddingsJson(result: EmbeddingResult, encoding: "float" | "base64") {
  return {
    object: "list",
    model: result.model,
    data: result.vectors.map((v, index) => ({
      object: "embedding",
      index,
      embedding: encoding === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
    })),
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}
