// Messages between LlamaCppTrainer (parent) and worker.ts (child). The job goes in argv;
// the child writes one JSON message per line to fd 3, synchronously, so that messages
// flow while libllama's training call blocks the child's event loop.
import type { DatasetInspection, TrainerEvent, TrainingSpec } from '../../core/ports/trainer.ts';

export const EVENTS_FD = 3;

export type WorkerJob =
  | { mode: 'train'; spec: TrainingSpec }
  | { mode: 'inspect'; baseModelPath: string; file: string; contextLength: number };

export type WorkerMessage =
  | TrainerEvent
  | { type: 'inspection'; result: DatasetInspection }
  | { type: 'log'; message: string }
  | { type: 'error'; message: string };
