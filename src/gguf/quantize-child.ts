// Child-process entry: quantizes one GGUF with libllama's llama_model_quantize.
// It runs in its own process because a GGML_ASSERT aborts the whole process and
// because the call is synchronous (it would block the caller's event loop).
// argv[2]: JSON { input, output, ftype, threads }.
import koffi from 'koffi';
import { findLlamaLibs } from './llama-lib.ts';

interface Job {
  input: string;
  output: string;
  ftype: number;
  threads: number;
}

// llama_model_quantize_params as in llama.h of node-llama-cpp 3.22.1 (llama.cpp
// release v0.5.0), x86-64/arm64: 64 bytes; offsets checked with offsetof in C.
const QuantizeParams = koffi.struct('llama_model_quantize_params', {
  nthread: 'int32_t',
  ftype: 'int32_t', // enum llama_ftype
  output_tensor_type: 'int32_t', // enum ggml_type
  token_embedding_type: 'int32_t', // enum ggml_type
  allow_requantize: 'bool',
  quantize_output_tensor: 'bool',
  only_copy: 'bool',
  pure: 'bool',
  keep_split: 'bool',
  dry_run: 'bool',
  imatrix: 'void *',
  kv_overrides: 'void *',
  tt_overrides: 'void *',
  prune_layers: 'void *',
  max_buf_size: 'size_t',
});

function checkLayout(): void {
  const want: Record<string, number> = { ftype: 4, allow_requantize: 16, dry_run: 21, imatrix: 24, max_buf_size: 56 };
  for (const [field, off] of Object.entries(want)) {
    if (koffi.offsetof(QuantizeParams, field) !== off) throw new Error(`struct layout: ${field} not at ${off}`);
  }
  if (koffi.sizeof(QuantizeParams) !== 64) throw new Error('struct layout: size is not 64');
}

function main(): number {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  checkLayout();
  const libs = findLlamaLibs();
  const ggml = koffi.load(libs.ggml);
  const llama = koffi.load(libs.llama);
  // Registers the CPU backend (best variant for this CPU); libllama needs one to load models.
  ggml.func('void ggml_backend_load_all_from_path(const char *dir)')(libs.dir);
  llama.func('void llama_backend_init(void)')();
  const defaults = llama.func('llama_model_quantize_params llama_model_quantize_default_params(void)');
  const quantize = llama.func('uint32_t llama_model_quantize(const char *inp, const char *out, const llama_model_quantize_params *params)');

  const params = defaults() as Record<string, unknown>;
  // The library's own defaults double as a check that this layout matches the binary.
  if (params.ftype !== 7 || params.quantize_output_tensor !== true || params.dry_run !== false) {
    throw new Error(`unexpected llama_model_quantize_default_params: ${JSON.stringify(params)}`);
  }
  params.nthread = job.threads;
  params.ftype = job.ftype;
  params.max_buf_size = 256 * 1024 * 1024; // bound the rows held in memory (default 8 GiB)
  const rc = quantize(job.input, job.output, params);
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
