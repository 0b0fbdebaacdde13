// Child-process entry: quantizes one GGUF with libllama's llama_model_quantize.
// It runs in its own process because a GGML_ASSERT aborts the whole process and
// because the call is synchronous (it would block the caller's event loop).
// argv[2]: JSON { input, output, ftype, threads }.
import { loadLibllama } from './libllama.ts';

interface Job {
  input: string;
  output: string;
  ftype: number;
  threads: number;
}

function main(): number {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  // Binding registers the CPU backend (best variant for this CPU); libllama needs one to load models.
  const lib = loadLibllama();
  const params = lib.quantizeDefaultParams();
  // The library's own defaults double as a check that this layout matches the binary.
  if (params.ftype !== 7 || params.quantize_output_tensor !== true || params.dry_run !== false) {
    throw new Error(`unexpected llama_model_quantize_default_params: ${JSON.stringify(params)}`);
  }
  params.nthread = job.threads;
  params.ftype = job.ftype;
  params.max_buf_size = 256 * 1024 * 1024; // bound the rows held in memory (default 8 GiB)
  const rc = lib.quantize(job.input, job.output, params);
  if (rc !== 0) {
    process.stderr.write(`llama_model_quantize returned ${rc}\n`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  process.stderr.write(`quantize failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
}
