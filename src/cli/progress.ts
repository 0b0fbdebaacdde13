// Progress on stderr for the CLI's long waits (model downloads, deployments, fine-tuning jobs).
// On a terminal one line is redrawn in place with \r (with a bar); otherwise a plain line is
// printed per update worth reading — a new key (phase, status, step when steps are few) or at
// least one more percent — so logs and tests can follow it.

/** Where progress goes: stderr by default. */
export interface ProgressSink {
  write(text: string): void;
  tty: boolean;
  /** Terminal width, to keep the redrawn line on one row. */
  columns?: number;
}

export function stderrSink(): ProgressSink {
  return { write: (t) => process.stderr.write(t), tty: Boolean(process.stderr.isTTY), columns: process.stderr.columns };
}

export interface ProgressUpdate {
  /** Text before the bar, e.g. "downloading  tiny-chat". */
  label: string;
  /** Done so far, 0..1, when known. */
  fraction?: number;
  /** Text after the percentage. */
  detail?: string;
  /** A change here always prints (a new phase or status). */
  key?: string;
}

export interface ProgressOptions {
  /** Plain mode: print again after this many percent (default 1). */
  percentStep?: number;
  /** Plain mode without a fraction: at most one line per this many ms while only the detail changes (default 2000). */
  plainIntervalMs?: number;
  /** Terminal: redraw at most this often (default 100 ms). */
  ttyIntervalMs?: number;
  /** For tests. */
  now?: () => number;
}

const BAR_WIDTH = 24;

export function bar(fraction: number, width = BAR_WIDTH): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  const partial = f * width - full >= 0.5 && full < width ? "-" : "";
  return `[${"#".repeat(full)}${partial}${" ".repeat(width - full - partial.length)}]`;
}

export const percent = (fraction: number) => `${(100 * Math.min(1, Math.max(0, fraction))).toFixed(1).padStart(5)}%`;

/** m:ss or h:mm:ss; "?" when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Units per second over a sliding window of (time, total) samples. */
export class RateMeter {
  readonly #windowMs: number;
  #samples: { t: number; v: number }[] = [];

  constructor(windowMs = 15_000) {
    this.#windowMs = windowMs;
  }

  add(t: number, value: number): void {
    const last = this.#samples.at(-1);
    if (last && value < last.v) this.#samples = []; // restarted (e.g. a job resumed from a checkpoint)
    if (last && last.v === value) return; // only changes are samples: the time a value was first seen
    this.#samples.push({ t, v: value });
    while (this.#samples.length > 2 && t - this.#samples[0].t > this.#windowMs) this.#samples.shift();
  }

  /** Per second; undefined until two samples are far enough apart. */
  rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.t - first.t < 200) return undefined;
    return ((last.v - first.v) * 1000) / (last.t - first.t);
  }
}

export class ProgressLine {
  readonly #sink: ProgressSink;
  readonly #percentStep: number;
  readonly #plainIntervalMs: number;
  readonly #ttyIntervalMs: number;
  readonly #now: () => number;
  #lastKey: string | undefined;
  #lastPercent = -Infinity;
  #lastAt = -Infinity;
  #lastText = "";
  /** The line drawn on the terminal now, to redraw after a log line. */
  #drawn = "";

  constructor(sink: ProgressSink = stderrSink(), opts: ProgressOptions = {}) {
    this.#sink = sink;
    this.#percentStep = opts.percentStep ?? 1;
    this.#plainIntervalMs = opts.plainIntervalMs ?? 2000;
    this.#ttyIntervalMs = opts.ttyIntervalMs ?? 100;
    this.#now = opts.now ?? Date.now;
  }

  update(u: ProgressUpdate): void {
    const now = this.#now();
    const keyChanged = u.key !== this.#lastKey;
    if (this.#sink.tty) {
      const text = [u.label, u.fraction !== undefined ? `${bar(u.fraction)} ${percent(u.fraction)}` : "", u.detail ?? ""].filter(Boolean).join("  ");
      if (!keyChanged && (text === this.#drawn || now - this.#lastAt < this.#ttyIntervalMs)) return;
      this.#draw(text);
    } else {
      const text = [u.label, u.fraction !== undefined ? percent(u.fraction) : "", u.detail ?? ""].filter(Boolean).join("  ");
      const pct = u.fraction !== undefined ? Math.floor(100 * u.fraction) : undefined;
      const worth =
        keyChanged ||
        (pct !== undefined ? pct - this.#lastPercent >= this.#percentStep : text !== this.#lastText && now - this.#lastAt >= this.#plainIntervalMs);
      if (!worth) return;
      this.#sink.write(`${text}\n`);
      this.#lastText = text;
      if (pct !== undefined) this.#lastPercent = pct;
    }
    this.#lastKey = u.key;
    this.#lastAt = now;
  }

  /** A line of its own above the progress line (an event, a message). */
  log(text: string): void {
    if (this.#sink.tty && this.#drawn) {
      const drawn = this.#drawn;
      this.#sink.write(`\r\u001b[K${text}\n`);
      this.#drawn = "";
      this.#draw(drawn);
    } else this.#sink.write(`${text}\n`);
  }

  /** Clears the redrawn line, then prints `final` (if any) on a line of its own. */
  end(final?: string): void {
    if (this.#sink.tty && this.#drawn) this.#sink.write("\r\u001b[K");
    this.#drawn = "";
    if (final !== undefined) this.#sink.write(`${final}\n`);
  }

  #draw(text: string): void {
    const columns = this.#sink.columns;
    const width = (columns !== undefined && columns >= 20 ? columns : 120) - 1;
    const shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.#sink.write(`\r${shown}\u001b[K`);
    this.#drawn = text;
  }
}
