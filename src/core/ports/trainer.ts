// The Trainer port: what runs one fine-tuning job (reference §4, issue "Fine-tuning").
// Implemented by src/trainers/llamacpp (LoRA through libllama, in a child process).

export interface Hyperparameters {
  epochs: number;
  /** Examples per optimizer step. */
  batchSize: number;
  /** Absolute learning rate (the base rate × learning_rate_multiplier). */
  learningRate: number;
  learningRateMultiplier: number;
  /** LoRA rank and alpha. */
  rank: number;
  alpha: number;
  seed: number;
}

export interface TrainingSpec {
  jobId: string;
  /** GGUF of the base model (F32/F16/Q8_0). */
  baseModelPath: string;
  /** Tokens per training window (each example is padded to it). */
  contextLength: number;
  /** JSONL, already validated: chat (`messages`, optional `weight` on assistant turns) or prompt/completion. */
  trainingFile: string;
  validationFile?: string;
  /** Fraction of the training examples held out for validation when there is no validation file (0 = none). */
  validationSplit: number;
  hyperparameters: Hyperparameters;
  /** Continue from this adapter (continuous fine-tuning of a custom model). */
  initialAdapter?: string;
  /** Resume after a crash or a pause: the checkpoint written at the end of `epoch` (1-based). */
  resume?: { adapterPath: string; epoch: number; step: number; trainedTokens: number };
  /** Checkpoints and the final adapter are written here. */
  outDir: string;
  threads: number;
}

export interface StepMetrics {
  step: number;
  epoch: number;
  trainLoss: number;
  trainMeanTokenAccuracy: number;
  validLoss?: number;
  validMeanTokenAccuracy?: number;
  /** On the whole validation set (at epoch ends). */
  fullValidLoss?: number;
  fullValidMeanTokenAccuracy?: number;
}

export type TrainerEvent =
  | { type: "started"; totalSteps: number; trainExamples: number; validExamples: number; tokensPerEpoch: number }
  | { type: "step"; metrics: StepMetrics; trainedTokens: number; elapsedMs: number }
  | { type: "checkpoint"; epoch: number; step: number; adapterPath: string; metrics: StepMetrics }
  | { type: "done"; adapterPath: string; trainedTokens: number };

export interface DatasetInspection {
  examples: number;
  /** Trained (unmasked) tokens per example, in file order. */
  tokens: number[];
  /** All tokens of each example as rendered for training (prompt included): sizes the training window. */
  lengths: number[];
  /** Examples longer than the context: 1-based line numbers and their token counts. */
  tooLong: { line: number; tokens: number }[];
}

export interface TrainingRun {
  readonly pid: number | undefined;
  /** Ends after `done`; throws an Error with the reason when training fails or the process dies. */
  events: AsyncIterable<TrainerEvent>;
  /** Stops within seconds; `events` then ends without `done`. */
  cancel(): Promise<void>;
}

export interface Trainer {
  /** Tokenizes a dataset as training would (chat template of the base), to check lengths before queueing. */
  inspect(baseModelPath: string, file: string, contextLength: number): Promise<DatasetInspection>;
  start(spec: TrainingSpec): TrainingRun;
}
