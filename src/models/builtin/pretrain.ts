// Pre-training of the built-in chat model: a full fine-tune of the random-weight F32
// model on the built-in corpus (pretrain-child.ts, in a child process), then the file is
// rebuilt from the base's own metadata and the trained tensors, because
// llama_model_save_to_file drops the chat template and general.* keys and adds ~150
// junk hparam keys. A random-weight base barely learns through LoRA; this one does.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { str, u32 } from '../../gguf/format.ts';
import { readGguf } from '../../gguf/reader.ts';
import { writeGguf } from '../../gguf/writer.ts';
import type { GgufTensorToWrite, WrittenFile } from '../../gguf/writer.ts';
import type { PretrainJob } from './pretrain-data.ts';

const CHILD = fileURLToPath(new URL('./pretrain-child.ts', import.meta.url));

export type PretrainRecipe = Omit<PretrainJob, 'input' | 'output' | 'vocab'>;

/** Bump when pre-training code changes what a recipe produces (built-in models are cached by recipe). */
export const PRETRAIN_VERSION = 1;

/**
 * tiny-chat's recipe (part of its cache key): 1,100 steps of 256 tokens, ~55 s with one
 * thread here. Packing 3 conversations per window triples the examples seen. Nearly half
 * the questions ask for facts of two fixed tables ("the code of unit 12"), so the model
 * learns to read the number it is asked about — the skill fact fine-tuning needs and
 * that 1,100 steps of copying tasks alone did not teach: LoRA recall of 20 unguessable
 * facts after 45 epochs went from 0.5–0.9 (4 seeds, no tables) to 0.95–1.0 (6 seeds).
 */
export const TINY_CHAT_PRETRAIN: PretrainRecipe = {
  steps: 1100, lr: 2e-3, lrFloor: 0.1, warmup: 30, weightDecay: 0, seed: 1729, pack: 3, window: 256,
  mix: { attribute: 0.3, whoWhere: 0.05, repeat: 0.07, spell: 0.03, sum: 0.05, greeting: 0.05, facts: 0.45, numbered: 0.75, system: 0.5 },
};

export interface PretrainProgress {
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  ms: number;
}

/** Pre-trains `input` (F32) into `out` (written atomically). Rejects with the child's log tail on failure. */
export async function pretrainModel(
  input: string,
  out: string,
  recipe: PretrainRecipe,
  onProgress?: (p: PretrainProgress) => void,
): Promise<WrittenFile> {
  const base = await readGguf(input);
  const vocab = (base.metadata['tokenizer.ggml.tokens'] as { value: readonly unknown[] } | undefined)?.value.length ?? 0;
  const trained = `${out}.trained-${randomBytes(6).toString('hex')}`;
  const job: PretrainJob = { ...recipe, input, output: trained, vocab };
  try {
    await runChild(job, onProgress);
    return await rebuild(input, trained, out, recipe);
  } finally {
    await unlink(trained).catch(() => {});
  }
}

async function runChild(job: PretrainJob, onProgress?: (p: PretrainProgress) => void): Promise<void> {
  const child = spawn(process.execPath, ['--no-warnings', CHILD, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString('utf8');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        onProgress?.(JSON.parse(line) as PretrainProgress);
      } catch {
        // not a progress line
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-8000);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
    throw new Error(`pre-training ${job.input} failed: the trainer ${how}\n${log.trim().split('\n').slice(-15).join('\n')}`);
  }
}

/** The base's metadata and tensor order, with the trained file's tensor data. */
async function rebuild(basePath: string, trainedPath: string, out: string, recipe: PretrainRecipe): Promise<WrittenFile> {
  const base = await readGguf(basePath);
  const trained = await readGguf(trainedPath);
  const byName = new Map(trained.tensors.map((t) => [t.name, t]));
  const fh = await open(trainedPath, 'r');
  try {
    const tensors: GgufTensorToWrite[] = base.tensors.map((t) => {
      const src = byName.get(t.name);
      if (!src || src.type !== t.type || src.dims.join() !== t.dims.join()) throw new Error(`the trained model's ${t.name} does not match the base`);
      return {
        name: t.name,
        dims: t.dims,
        type: t.type,
        data: async function* () {
          const chunk = 8 << 20;
          for (let off = 0; off < src.bytes; off += chunk) {
            const buf = Buffer.alloc(Math.min(chunk, src.bytes - off));
            await fh.read(buf, 0, buf.length, src.offset + off);
            yield buf;
          }
        },
      };
    });
    const metadata = {
      ...base.metadata,
      'ingot.pretrain.steps': u32(recipe.steps),
      'ingot.pretrain.recipe': str(JSON.stringify(recipe)),
    };
    return await writeGguf(out, { metadata, tensors });
  } finally {
    await fh.close();
  }
}
