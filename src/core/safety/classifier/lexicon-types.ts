// Shape of a category lexicon. Weights are Content Safety's 0–7 severities for a bare mention of
// the phrase in a neutral sentence; context (intent, instructions, targets, benign domains) moves
// the severity up or down in score.ts.

/** "act" phrases describe doing the harm and take intent/instruction boosts; "topic" phrases name
 * a subject ("suicide", "terrorism") that is discussed far more often than threatened; "state"
 * phrases describe the speaker's state with a negation that is part of the meaning ("I don't see
 * any reason to live"), so a nearby "not" does not lower them. */
export type PhraseKind = "act" | "topic" | "state";

export type Entry = readonly [pattern: string, weight: number, kind?: PhraseKind];

export interface CategoryLexicon {
  entries: readonly Entry[];
  /**
   * Benign senses: when a match contains one of the key words and one of the listed words is
   * within 3 words after it or 2 before it (same sentence), the match is another sense of the word
   * ("kill the process", "shoot a photo") and counts for nothing.
   */
  senses: Readonly<Record<string, readonly string[]>>;
}
