// Argument parsing shared by the data-plane commands (files, jobs, chat): strict flags, usage
// errors (exit 2) that say what to type instead, and the closest known name for a typo.
import { parseArgs } from "node:util";
import { CliError } from "./arm-client.ts";

export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;
export type Values = Record<string, string | boolean | undefined>;

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The known name closest to `word`, when it is close enough to be a typo. */
export function closest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dd = distance(word, k);
    if (dd < bestD) [best, bestD] = [k, dd];
  }
  return best !== undefined && (bestD <= Math.max(1, Math.floor(word.length / 3)) || (word.length >= 3 && best.startsWith(word))) ? best : undefined;
}

/**
 * Parses `args` strictly. `command` is what the user typed ("ingot files upload"), used in the
 * messages. Unknown flags and stray arguments are CliErrors with exit code 2.
 */
export function parseCommand(command: string, args: string[], options: OptionSpec, maxPositionals = 0): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    const message = (e as Error).message;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? "";
      const names = Object.keys(options).map((n) => `--${n}`);
      const hint = flag.startsWith("--") ? closest(flag.split("=")[0], names) : undefined;
      throw new CliError(`${command}: unknown option '${flag}'.${hint ? ` Did you mean '${hint}'?` : ""} Run '${command} --help' to see its options.`, 2);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new CliError(`${command}: ${message.replace(/^Option '([^']+)' argument missing$/, "option '$1' needs a value")}. Run '${command} --help' to see its options.`, 2);
    }
    if (code.startsWith("ERR_PARSE_ARGS")) throw new CliError(`${command}: ${message} Run '${command} --help'.`, 2);
    throw e;
  }
  if (parsed.positionals.length > maxPositionals)
    throw new CliError(`${command}: unexpected argument '${parsed.positionals[maxPositionals]}'. Run '${command} --help' to see its options.`, 2);
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

/** A required string flag. */
export function required(command: string, values: Values, flag: string, example: string): string {
  const v = values[flag];
  if (typeof v !== "string" || v === "") throw new CliError(`${command}: --${flag} is required, e.g. ${example}. Run '${command} --help'.`, 2);
  return v;
}

/** An optional numeric flag, checked. */
export function numberFlag(command: string, values: Values, flag: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = values[flag];
  if (v === undefined) return undefined;
  const n = Number(v);
  const ok = typeof v === "string" && v.trim() !== "" && Number.isFinite(n) && (!opts.integer || Number.isInteger(n)) && (opts.min === undefined || n >= opts.min) && (opts.max === undefined || n <= opts.max);
  if (!ok) {
    const range = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}` : opts.min !== undefined ? ` of at least ${opts.min}` : "";
    throw new CliError(`${command}: --${flag} must be ${opts.integer ? "an integer" : "a number"}${range}; got '${String(v)}'.`, 2);
  }
  return n;
}

/** Dispatches to a subcommand, with help and "did you mean" for unknown ones. */
export async function dispatch(
  command: string,
  argv: string[],
  help: string,
  subcommands: Record<string, (args: string[]) => Promise<number>>,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    process.stderr.write(help);
    return 2;
  }
  if (sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(help);
    return 0;
  }
  const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
  if (!run) {
    const names = Object.keys(subcommands);
    const hint = sub.startsWith("-") ? undefined : closest(sub, names);
    const what = sub.startsWith("-") ? `'${sub}' needs a subcommand before it` : `unknown subcommand '${sub}'`;
    throw new CliError(`${command}: ${what}.${hint ? ` Did you mean '${command} ${hint}'?` : ""} Use one of: ${names.join(", ")} (see '${command} --help').`, 2);
  }
  return run(rest);
}

/** `--output`, checked before any work is done. */
export function outputFormat(command: string, values: Values, allowed = ["json", "table", "tsv"]): string | undefined {
  const o = values.output;
  if (o === undefined) return undefined;
  if (typeof o !== "string" || !allowed.includes(o)) throw new CliError(`${command}: --output must be ${allowed.join(", ").replace(/, ([^,]+)$/, " or $1")}; got '${String(o)}'.`, 2);
  return o;
}
