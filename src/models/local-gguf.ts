// A local GGUF as a catalog entry (`ingot models add`): what the file says about itself gives
// the defaults (capabilities, context, license), the caller's choices are checked against it,
// and the file is hashed, and copied into the weights cache unless it is linked in place.
// Used by the server (the Ingot.Catalog route that registers it) and by the CLI (to say what
// is wrong with its flags before anything is sent).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, stat, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { errors } from "../core/errors.ts";
import type { CatalogModel } from "../core/catalog/catalog.ts";
import { CAPABILITIES, usageNameFor } from "../core/catalog/model.ts";
import { validateCatalogModel } from "../core/catalog/validate.ts";
import type { Capability } from "../core/generation/service.ts";
import { detectedCapabilities, inspectGguf } from "./inspect.ts";
import type { GgufSummary } from "./inspect.ts";

export interface LocalModelRequest {
  format: string;
  name: string;
  version: string;
  /** Absolute path of the .gguf file. */
  path: string;
  /** Reference the file in place instead of copying it into the cache. */
  link?: boolean;
  capabilities?: string[];
  contextLength?: number;
  license?: string;
  description?: string;
}

/** How a field is named to the caller: `--context-length` for the CLI, `properties.contextLength` for the API. */
export type FieldLabel = (field: "path" | "name" | "format" | "version" | "capabilities" | "contextLength" | "license" | "description") => string;

/** The file's GGUF summary; a missing, non-regular or non-GGUF file is a 400 that says what to do. */
export async function inspectLocalGguf(path: string, shownAs = path): Promise<GgufSummary> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    throw errors.invalid(`${shownAs} does not exist`, "path", "InvalidModelFile");
  }
  if (!isFile) throw errors.invalid(`${shownAs} is not a file`, "path", "InvalidModelFile");
  try {
    return await inspectGguf(path);
  } catch (e) {
    throw errors.invalid(
      `${shownAs} is not a usable GGUF model (${(e as Error).message}). Convert it with llama.cpp's convert_hf_to_gguf.py, or pick the .gguf file of a GGUF repository.`,
      "path",
      "InvalidModelFile",
    );
  }
}

/**
 * The validated catalog entry for `req`, with `weights` as given (`file:<stored path>`) and
 * the file's sha256 and size; throws a 400 naming the field by `label`.
 */
export function localModelEntry(req: LocalModelRequest, info: GgufSummary, label: FieldLabel, stored: { weights: string; sha256: string; sizeBytes: number }): CatalogModel {
  let capabilities: Capability[] = detectedCapabilities(info);
  if (req.capabilities !== undefined) {
    capabilities = req.capabilities.map((c) => c.trim()).filter(Boolean) as Capability[];
    const bad = capabilities.find((c) => !CAPABILITIES.includes(c));
    if (bad || capabilities.length === 0)
      throw errors.invalid(`${label("capabilities")}: '${bad ?? ""}' is not a capability (use a comma-separated list of ${CAPABILITIES.join(", ")})`, "capabilities");
  }
  let contextLength = Math.min(info.trainedContext ?? 4096, 4096);
  if (req.contextLength !== undefined) {
    contextLength = req.contextLength;
    if (!Number.isSafeInteger(contextLength) || contextLength < 1) throw errors.invalid(`${label("contextLength")} must be a positive integer, got '${req.contextLength}'`, "contextLength");
    if (info.trainedContext && contextLength > info.trainedContext)
      throw errors.invalid(
        `${label("contextLength")} ${contextLength} exceeds the ${info.trainedContext} tokens this model was trained for; use at most ${info.trainedContext}`,
        "contextLength",
      );
  }
  const link = req.link === true;
  const raw = {
    format: req.format,
    name: req.name,
    version: req.version,
    publisher: req.format,
    description: req.description ?? `${info.name ?? basename(req.path)} (${info.architecture}), registered from ${req.path} by ingot models add${link ? " (referenced in place)" : ""}.`,
    capabilities,
    contextLength,
    ...(info.trainedContext ? { maxContextLength: Math.max(info.trainedContext, contextLength) } : {}),
    weights: stored.weights,
    sha256: stored.sha256,
    sizeBytes: stored.sizeBytes,
    skus: ["GlobalStandard", "Standard"].map((s) => ({ name: s, usageName: usageNameFor(req.format, req.name, s), minCapacity: 1, maxCapacity: 1000000, defaultCapacity: 500 })),
    lifecycleStatus: "GenerallyAvailable",
    license: req.license ?? info.license ?? "unspecified",
    engine: "llamacpp",
  };
  try {
    return validateCatalogModel(raw, "@@");
  } catch (e) {
    // validateCatalogModel names fields as `@@.name`; say them the caller's way.
    const message = (e as Error).message.replace(/@@\.(\w+)/g, (_, f: string) => label(f as Parameters<FieldLabel>[0]));
    throw errors.invalid(message, null);
  }
}

/** Hashes the file in place (`link`) or copies it into `modelsDir/<sha256>.gguf` while hashing; an identical file already there is kept. */
export async function storeLocalGguf(path: string, modelsDir: string, link: boolean): Promise<{ weights: string; sha256: string; sizeBytes: number }> {
  if (link) {
    const hash = createHash("sha256");
    let sizeBytes = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) {
      hash.update(chunk as Buffer);
      sizeBytes += (chunk as Buffer).length;
    }
    return { weights: `file:${path}`, sha256: hash.digest("hex"), sizeBytes };
  }
  const tmp = join(modelsDir, `.add-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.tmp`);
  const hash = createHash("sha256");
  let sizeBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(path, { highWaterMark: 8 << 20 }), tap, createWriteStream(tmp));
    const sha256 = hash.digest("hex");
    const stored = join(modelsDir, `${sha256}.gguf`);
    const existing = await stat(stored).catch(() => undefined);
    if (existing?.size === sizeBytes) await unlink(tmp);
    else await rename(tmp, stored);
    return { weights: `file:${stored}`, sha256, sizeBytes };
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
