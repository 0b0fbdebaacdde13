// Sampling parameters common to chat and legacy completions.
import type { Sampling } from "../../core/generation/types.ts";
import type { Body } from "../validate.ts";
import { logitBias, optNumber } from "../validate.ts";

export function sampling(body: Body): Sampling {
  return {
    temperature: optNumber(body, "temperature", { min: 0, max: 2 }) ?? 1,
    topP: optNumber(body, "top_p", { min: 0, max: 1 }) ?? 1,
    seed: optNumber(body, "seed", { integer: true }),
    presencePenalty: optNumber(body, "presence_penalty", { min: -2, max: 2 }) ?? 0,
    frequencyPenalty: optNumber(body, "frequency_penalty", { min: -2, max: 2 }) ?? 0,
    logitBias: logitBias(body),
  };
}
