// The recent output of one runner slot (all its processes, restarts included): what the runner
// wrote to stdout/stderr plus the engine's own lines about it (start, loaded, exit, requests).
// Bounded: the oldest lines go first. Azure ML's getLogs returns the tail of it.
const MAX_LINES = 2000;
const MAX_LINE_CHARS = 2000;

export class RunnerLog {
  #lines: string[] = [];
  #partial = "";

  /** Raw output of the process; split into lines, each stamped with the time it completed. */
  write(chunk: string): void {
    const parts = (this.#partial + chunk).split(/\r?\n/);
    this.#partial = parts.pop() ?? "";
    if (this.#partial.length > MAX_LINE_CHARS) {
      parts.push(this.#partial);
      this.#partial = "";
    }
    for (const p of parts) this.#push(p);
  }

  /** One line of the engine's own. */
  note(line: string): void {
    this.#push(`[ingot] ${line}`);
  }

  /** The last `n` lines (all when n is undefined), newline-terminated. */
  tail(n?: number): string {
    const lines = this.#partial ? [...this.#lines, this.#partial] : this.#lines;
    const out = n === undefined ? lines : n <= 0 ? [] : lines.slice(-n);
    return out.length ? `${out.join("\n")}\n` : "";
  }

  #push(line: string): void {
    this.#lines.push(`${new Date().toISOString()} ${line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line}`);
    if (this.#lines.length > MAX_LINES) this.#lines.splice(0, this.#lines.length - MAX_LINES);
  }
}
