// The ContentClassifier port: what content filtering asks of a classifier (issue 14). The
// embedded default (core/safety/, in process, no download) and the guard-model backend (a chat
// deployment asked with Ingot's prompt) both implement it. Blocklists and protected material
// are matched by core rules, not by classifiers.

/** Azure's four harm categories, as the annotations name them. */
export const HARM_CATEGORIES = ["hate", "sexual", "violence", "self_harm"] as const;
export type HarmCategory = (typeof HARM_CATEGORIES)[number];

/** The annotations' four levels. */
export type SeverityLevel = "safe" | "low" | "medium" | "high";

/**
 * Content Safety's scale is 0–7 (EightSeverityLevels); FourSeverityLevels reports 0, 2, 4, 6.
 * Annotations: 0–1 safe, 2–3 low, 4–5 medium, 6–7 high.
 */
export function severityLevel(score: number): SeverityLevel {
  if (score >= 6) return "high";
  if (score >= 4) return "medium";
  if (score >= 2) return "low";
  return "safe";
}

export interface Classification {
  /** Severity per harm category, 0–7. */
  harm: Record<HarmCategory, number>;
  /** A jailbreak / prompt-injection attack was detected; present only when it was asked for. */
  jailbreak?: boolean;
  /** What classified it ("embedded", "guard:<deployment>"), for logs and metrics. */
  source: string;
}

export interface ClassifyOptions {
  /** Prompts are checked for jailbreaks as well; completions are not. */
  side: "prompt" | "completion";
  detectJailbreak: boolean;
  signal?: AbortSignal;
}

export interface ContentClassifier {
  /** Classifies `text`; throws (never answers "safe") when it could not classify. */
  classify(text: string, options: ClassifyOptions): Promise<Classification>;
}
