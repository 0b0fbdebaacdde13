// Usage history: what each deployment processed, per minute, for the usage charts and
// Azure Monitor's metrics API. Counted by the generation service, kept by a UsageStore.

/** One request's contribution to a minute bucket of a deployment. */
export interface UsageIncrement {
  account: string;
  deployment: string;
  model: string;
  /** Start of the minute (ms since epoch). */
  minute: number;
  /** HTTP status the request ended with: 200, or 429 when the rate limit refused it. */
  status: number;
  promptTokens: number;
  completionTokens: number;
  requests: number;
}

/** A stored bucket: the sum of increments with the same account, deployment, model, minute and status. */
export type UsageBucket = UsageIncrement;
