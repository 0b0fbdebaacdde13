// Files (datasets for fine-tuning, results): shared vocabulary of the files service, its
// store, and the fine-tuning jobs that read them (reference §4.1–4.3).

export type FilePurpose = "fine-tune" | "fine-tune-results" | "assistants" | "assistants_output" | "batch" | "batch_output";

/** OpenAI's statuses: `uploaded` while validating, then `processed` or `error` (reference §7.3). */
export type FileStatus = "uploaded" | "pending" | "running" | "processed" | "error" | "deleted";

/** The dataset shape found on validation. */
export type DatasetFormat = "chat" | "prompt_completion";

export interface FileRecord {
  id: string;
  account: string;
  purpose: FilePurpose;
  filename: string;
  bytes: number;
  status: FileStatus;
  /** What is wrong, with line numbers (first errors, then a count), when status is `error`. */
  statusDetails: string | null;
  /** Set for processed fine-tune files. */
  format: DatasetFormat | null;
  examples: number | null;
  createdAt: number;
  /** Hex sha256 of the content, once it is complete. */
  sha256?: string | null;
  /** When the file is deleted by itself (`expires_after`); null: kept until deleted. */
  expiresAt?: number | null;
}

/** What fine-tuning needs of the files service. */
export interface FileSource {
  /** The file, or undefined when the account has no such (undeleted) file. */
  get(account: string, id: string): FileRecord | undefined;
  /** Local path of the file's content (complete and immutable once the record exists). */
  pathOf(id: string): string;
  /** The same, for any blob store: a shared store's content is copied to local disk first. */
  localPathOf?(id: string): Promise<string>;
  /** Stores a job's output (results.csv) as a `fine-tune-results` file; returns its record. */
  putResult(account: string, filename: string, content: string | Uint8Array): Promise<FileRecord>;
}
