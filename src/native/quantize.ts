// Quantizes a GGUF through libllama in a child process (see quantize-child.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// enum llama_ftype values (llama.h).
export const LLAMA_FTYPE = { ALL_F32: 0, MOSTLY_F16: 1, MOSTLY_Q8_0: 7, MOSTLY_Q4_K_M: 15 } as const;

export type QuantType = 'q8_0' | 'q4_k_m';

export const QUANT_FTYPE: Record<QuantType, number> = {
  q8_0: LLAMA_FTYPE.MOSTLY_Q8_0,
  q4_k_m: LLAMA_FTYPE.MOSTLY_Q4_K_M,
};

const CHILD = fileURLToPath(new URL('./quantize-child.ts', import.meta.url));

export interface QuantizeOptions {
  /** Quantizer threads; keep small (1-2) on small machines. */
  threads?: number;
}

/** Writes `output` as a `type` quantization of `input`. Rejects with libllama's log tail on failure. */
export async function quantizeGguf(input: string, output: string, type: QuantType, opts: QuantizeOptions = {}): Promise<void> {
  const threads = Math.max(1, Math.min(opts.threads ?? 2, 2));
  const job = JSON.stringify({ input, output, ftype: QUANT_FTYPE[type], threads });
  // process.execPath is the Node 24 running us, which runs .ts directly.
  const child = spawn(process.execPath, ['--no-warnings', CHILD, job], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
    throw new Error(`quantizing ${input} to ${type} failed: the quantizer ${how}\n${log.trim().split('\n').slice(-15).join('\n')}`);
  }
}
