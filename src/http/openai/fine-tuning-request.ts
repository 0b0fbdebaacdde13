// Parsing a create-job body (reference §4.4): OpenAI's fields, `method.supervised`, Azure ML's
// hyperparameter names (seed 004 sends them as strings), and Ingot's LoRA extras. The wire
// shape ends here: the job service takes the validated values (CreateJobInput).
import { errors } from "../../core/errors.ts";
import type { CreateJobInput, RequestedHyperparameters } from "../../core/finetuning/types.ts";

const SUFFIX = /^[A-Za-z0-9_-]{1,40}$/;

function str(body: Record<string, unknown>, field: string, required: boolean): string | null {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw errors.missing(field);
    return null;
  }
  if (typeof v !== "string" || !v) throw errors.invalid(`Invalid '${field}': expected a non-empty string.`, field);
  return v;
}

/** A number, a numeric string (Azure ML sends "1"), or "auto"; undefined when absent. */
function hyper(value: unknown, name: string, rule: { integer: boolean; min: number; max: number }): number | "auto" | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "auto") return "auto";
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || n < rule.min || n > rule.max)
    throw errors.invalid(
      `Invalid '${name}': expected ${rule.integer ? "an integer" : "a number"} from ${rule.min} to ${rule.max}, or "auto"; got ${JSON.stringify(value)}.`,
      `hyperparameters.${name}`,
    );
  return n;
}

export function parseCreateJob(raw: unknown): CreateJobInput {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw errors.invalid("The request body must be a JSON object.");
  const body = raw as Record<string, unknown>;
  const model = str(body, "model", true)!;
  const trainingFile = str(body, "training_file", true)!;
  const validationFile = str(body, "validation_file", false);

  let hp = body.hyperparameters as Record<string, unknown> | undefined;
  const method = body.method as { type?: unknown; supervised?: { hyperparameters?: Record<string, unknown> } } | undefined;
  if (method !== undefined && method !== null) {
    if (typeof method !== "object") throw errors.invalid("Invalid 'method': expected an object like {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\": {…}}}.", "method");
    if (method.type !== "supervised")
      throw errors.invalid(`Fine-tuning method '${String(method.type)}' is not supported by Ingot yet; use {"type": "supervised"}.`, "method.type");
    hp = { ...(hp ?? {}), ...(method.supervised?.hyperparameters ?? {}) };
  }
  if (hp !== undefined && hp !== null && (typeof hp !== "object" || Array.isArray(hp))) throw errors.invalid("Invalid 'hyperparameters': expected an object.", "hyperparameters");
  const h = hp ?? {};
  const known = ["n_epochs", "batch_size", "learning_rate_multiplier", "num_train_epochs", "per_device_train_batch_size", "learning_rate", "rank", "lora_rank", "alpha", "lora_alpha"];
  for (const k of Object.keys(h))
    if (!known.includes(k)) throw errors.invalid(`Unknown hyperparameter '${k}'. Supported: n_epochs, batch_size, learning_rate_multiplier (or num_train_epochs, per_device_train_batch_size, learning_rate), rank, alpha.`, `hyperparameters.${k}`);
  const epochs = hyper(h.n_epochs ?? h.num_train_epochs, "n_epochs", { integer: true, min: 1, max: 50 });
  const batch = hyper(h.batch_size ?? h.per_device_train_batch_size, "batch_size", { integer: true, min: 1, max: 256 });
  const lrm = hyper(h.learning_rate_multiplier, "learning_rate_multiplier", { integer: false, min: 1e-6, max: 100 });
  const lr = hyper(h.learning_rate, "learning_rate", { integer: false, min: 1e-9, max: 1 });
  const rank = hyper(h.rank ?? h.lora_rank, "rank", { integer: true, min: 1, max: 256 });
  const alpha = hyper(h.alpha ?? h.lora_alpha, "alpha", { integer: false, min: 1e-3, max: 1024 });
  const requested: RequestedHyperparameters = {
    n_epochs: epochs ?? "auto",
    batch_size: batch ?? "auto",
    learning_rate_multiplier: lrm ?? "auto",
    ...(typeof lr === "number" ? { learning_rate: lr } : {}),
    ...(typeof rank === "number" ? { rank } : {}),
    ...(typeof alpha === "number" ? { alpha } : {}),
  };

  const suffix = str(body, "suffix", false);
  if (suffix !== null && !SUFFIX.test(suffix)) throw errors.invalid(`Invalid 'suffix': at most 40 characters of letters, digits, '-' and '_'; got '${suffix}'.`, "suffix");
  let seed = Math.floor(Math.random() * 2 ** 31);
  if (body.seed !== undefined && body.seed !== null) {
    if (typeof body.seed !== "number" || !Number.isInteger(body.seed) || body.seed < 0 || body.seed > 2 ** 31 - 1) throw errors.invalid("Invalid 'seed': expected an integer from 0 to 2147483647.", "seed");
    seed = body.seed;
  }
  let validationSplit = 0;
  if (body.validation_split !== undefined && body.validation_split !== null) {
    const v = body.validation_split;
    if (typeof v !== "number" || !(v > 0 && v <= 0.5)) throw errors.invalid("Invalid 'validation_split': expected a fraction above 0 and at most 0.5 of the training examples to hold out.", "validation_split");
    if (validationFile) throw errors.invalid("Give either 'validation_file' or 'validation_split', not both.", "validation_split");
    validationSplit = v;
  }
  let metadata: Record<string, string> | null = null;
  if (body.metadata !== undefined && body.metadata !== null) {
    if (typeof body.metadata !== "object" || Array.isArray(body.metadata) || Object.values(body.metadata).some((v) => typeof v !== "string"))
      throw errors.invalid("Invalid 'metadata': expected an object of string values.", "metadata");
    metadata = body.metadata as Record<string, string>;
  }
  return { model, trainingFile, validationFile, validationSplit, requested, suffix, seed, metadata };
}
