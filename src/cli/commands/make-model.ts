// `ingot dev make-model`: build a deterministic random-weight GGUF.
import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MODEL_TYPES, buildModel } from '../../models/builtin/builder.ts';
import type { ModelType } from '../../models/builtin/builder.ts';
import { SHAPES, isShapeName, paramCount } from '../../models/builtin/shapes.ts';

const HELP = `Usage: ingot dev make-model --shape SHAPE --seed N --type TYPE --out FILE [--threads N]

Builds a GGUF model with random weights drawn from a seeded generator: the same
shape, seed and type always give a byte-identical file.

Options:
  --shape SHAPE   ${Object.keys(SHAPES).join(' | ')}
  --seed N        non-negative integer
  --type TYPE     ${MODEL_TYPES.join(' | ')} (quantized types go through libllama)
  --out FILE      where to write the .gguf (written to a temp name, then renamed)
  --threads N     quantizer threads, 1 or 2 (default 2)
  -h, --help      show this help
`;

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      shape: { type: 'string' },
      seed: { type: 'string' },
      type: { type: 'string' },
      out: { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { help: true as const };
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const { shape, seed, type, out } = values;
  if (!shape) throw new Error('--shape is required');
  if (!isShapeName(shape)) throw new Error(`unknown --shape "${shape}"; known: ${Object.keys(SHAPES).join(', ')}`);
  if (seed === undefined) throw new Error('--seed is required');
  if (!/^\d+$/.test(seed) || !Number.isSafeInteger(Number(seed))) throw new Error(`--seed must be a non-negative integer, got "${seed}"`);
  if (!type) throw new Error('--type is required');
  if (!(MODEL_TYPES as readonly string[]).includes(type)) throw new Error(`unknown --type "${type}"; known: ${MODEL_TYPES.join(', ')}`);
  if (!out) throw new Error('--out is required');
  const threads = values.threads === undefined ? 2 : Number(values.threads);
  if (threads !== 1 && threads !== 2) throw new Error('--threads must be 1 or 2');
  return { help: false as const, shape, seed: Number(seed), type: type as ModelType, out: resolve(out), threads };
}

/** Where the command prints; tests pass their own. */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export async function makeModelCommand(argv: string[], io: CommandIo = STDIO): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION.
    const msg = (e as Error).message;
    io.err(`ingot dev make-model: ${msg}\nRun "ingot dev make-model --help" for usage.\n`);
    return 2;
  }
  if (args.help) {
    io.out(HELP);
    return 0;
  }
  const shape = SHAPES[args.shape];
  const params = (paramCount(shape) / 1e6).toFixed(2);
  io.err(`building ${args.shape} (${params} M params), seed ${args.seed}, ${args.type} → ${args.out}\n`);
  const t0 = performance.now();
  try {
    await mkdir(dirname(args.out), { recursive: true });
    const r = await buildModel({ shape: args.shape, seed: args.seed, type: args.type, out: args.out, threads: args.threads });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    io.out(`${r.path}\nsha256 ${r.sha256}\nbytes  ${r.bytes}\ntime   ${secs} s\n`);
    return 0;
  } catch (e) {
    io.err(`ingot dev make-model: ${(e as Error).message}\n`);
    return 1;
  }
}
