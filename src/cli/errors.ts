// The CLI's error: a message for stderr and the exit code (1: failed, 2: usage).
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}
