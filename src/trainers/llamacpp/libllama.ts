// koffi bindings to the libllama/libggml that node-llama-cpp 3.22.1 ships (llama.cpp
// release v0.5.0): just what training needs. Struct layouts were checked with offsetof
// against that release's headers (x86-64/arm64) and are re-checked at load time, because
// the training workarounds (see session.ts) depend on this exact build: keep
// node-llama-cpp pinned.
import koffi from 'koffi';
import type { LibraryHandle, TypeObject } from 'koffi';
import { dirname, join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { findLlamaLibs } from '../../gguf/llama-lib.ts';

// Opaque handles are koffi pointer values.
export type Ptr = unknown;

// enum ggml_op values used by the hooks (ggml.h of this release).
export const GGML_OP = { NONE: 0, MUL_MAT: 29, CROSS_ENTROPY_LOSS: 96, CROSS_ENTROPY_LOSS_BACK: 97, OPT_STEP_ADAMW: 98 } as const;
const GGML_TYPE_I32 = 26;

// struct ggml_tensor field offsets (336 bytes in all).
export const TENSOR = { type: 0, ne: 16, nb: 48, op: 80, flags: 148, src: 152, data: 248, name: 256 } as const;

export const ModelParams = koffi.struct('ingot_llama_model_params', {
  devices: 'void *',
  tensor_buft_overrides: 'void *',
  n_gpu_layers: 'int32_t',
  split_mode: 'int32_t',
  load_mode: 'int32_t',
  lazy_mode: 'int32_t',
  main_gpu: 'int32_t',
  tensor_split: 'void *',
  progress_callback: 'void *',
  progress_callback_user_data: 'void *',
  kv_overrides: 'void *',
  vocab_only: 'bool',
  check_tensors: 'bool',
  use_extra_bufts: 'bool',
  no_host: 'bool',
  no_alloc: 'bool',
  load_mtp: 'bool',
});

export const ContextParams = koffi.struct('ingot_llama_context_params', {
  n_ctx: 'uint32_t',
  n_batch: 'uint32_t',
  n_ubatch: 'uint32_t',
  n_seq_max: 'uint32_t',
  n_rs_seq: 'uint32_t',
  n_outputs_max: 'uint32_t',
  n_outputs_max_per_seq: 'uint32_t',
  n_threads: 'int32_t',
  n_threads_batch: 'int32_t',
  ctx_type: 'int32_t',
  rope_scaling_type: 'int32_t',
  pooling_type: 'int32_t',
  attention_type: 'int32_t',
  flash_attn_type: 'int32_t',
  rope_freq_base: 'float',
  rope_freq_scale: 'float',
  yarn_ext_factor: 'float',
  yarn_attn_factor: 'float',
  yarn_beta_fast: 'float',
  yarn_beta_slow: 'float',
  yarn_orig_ctx: 'uint32_t',
  defrag_thold: 'float',
  cb_eval: 'void *',
  cb_eval_user_data: 'void *',
  type_k: 'int32_t',
  type_v: 'int32_t',
  abort_callback: 'void *',
  abort_callback_data: 'void *',
  embeddings: 'bool',
  offload_kqv: 'bool',
  no_perf: 'bool',
  op_offload: 'bool',
  swa_full: 'bool',
  kv_unified: 'bool',
  samplers: 'void *',
  n_samplers: 'size_t',
  ctx_other: 'void *',
});

export const OptParams = koffi.struct('ingot_llama_opt_params', {
  n_ctx_train: 'uint32_t',
  param_filter: 'void *',
  param_filter_ud: 'void *',
  get_opt_pars: 'void *',
  get_opt_pars_ud: 'void *',
  optimizer_type: 'int32_t',
});

export const OptimizerParams = koffi.struct('ingot_ggml_opt_optimizer_params', {
  alpha: 'float', beta1: 'float', beta2: 'float', eps: 'float', wd: 'float',
  sgd_alpha: 'float', sgd_wd: 'float',
});

export const Batch = koffi.struct('ingot_llama_batch', {
  n_tokens: 'int32_t',
  token: 'void *',
  embd: 'void *',
  pos: 'void *',
  n_seq_id: 'void *',
  seq_id: 'void *',
  logits: 'void *',
});

export const ChatMessage = koffi.struct('ingot_llama_chat_message', { role: 'const char *', content: 'const char *' });

// bool cb_eval(struct ggml_tensor * t, bool ask, void * user_data)
export const EvalCallback = koffi.proto('bool ingot_cb_eval(void *t, bool ask, void *ud)');
export const ParamFilter = koffi.proto('bool ingot_param_filter(void *t, void *ud)');

function checkLayouts(): void {
  const want: [TypeObject, Record<string, number>, number][] = [
    [ModelParams, { load_mode: 24, progress_callback: 48, vocab_only: 72, use_extra_bufts: 74, load_mtp: 77 }, 80],
    [ContextParams, { n_threads: 28, flash_attn_type: 52, cb_eval: 88, type_k: 104, type_v: 108, embeddings: 128, kv_unified: 133, ctx_other: 152 }, 160],
    [OptParams, { param_filter: 8, optimizer_type: 40 }, 48],
    [OptimizerParams, { wd: 16 }, 28],
    [Batch, { token: 8, logits: 48 }, 56],
  ];
  for (const [type, fields, size] of want) {
    for (const [f, off] of Object.entries(fields)) {
      if (koffi.offsetof(type, f) !== off) throw new Error(`struct layout: ${type.name}.${f} not at ${off}`);
    }
    if (koffi.sizeof(type) !== size) throw new Error(`struct layout: ${type.name} is not ${size} bytes`);
  }
}

/** The bound functions (one set per process). */
export interface LlamaLib {
  dir: string;
  cpuVariant: string;
  // libllama
  backendInit(): void;
  modelDefaultParams(): Record<string, unknown>;
  contextDefaultParams(): Record<string, unknown>;
  modelLoad(path: string, params: Record<string, unknown>): Ptr;
  modelFree(model: Ptr): void;
  modelSave(model: Ptr, path: string): void;
  modelGetVocab(model: Ptr): Ptr;
  modelChatTemplate(model: Ptr): string | null;
  initFromModel(model: Ptr, params: Record<string, unknown>): Ptr;
  free(ctx: Ptr): void;
  nCtx(ctx: Ptr): number;
  vocabNTokens(vocab: Ptr): number;
  vocabBos(vocab: Ptr): number;
  vocabEos(vocab: Ptr): number;
  vocabEot(vocab: Ptr): number;
  vocabPad(vocab: Ptr): number;
  vocabAddBos(vocab: Ptr): boolean;
  tokenize(vocab: Ptr, text: string, parseSpecial: boolean): number[];
  chatApplyTemplate(tmpl: string, messages: { role: string; content: string }[], addAssistant: boolean): string;
  adapterInit(model: Ptr, path: string): Ptr;
  setAdapters(ctx: Ptr, adapters: Ptr[], scales: number[]): number;
  decodeOne(ctx: Ptr, token: number): number;
  optInit(ctx: Ptr, model: Ptr, params: Record<string, unknown>): void;
  optEpoch(ctx: Ptr, dataset: Ptr, resultTrain: Ptr, resultEval: Ptr, idataSplit: number, cbTrain: Ptr, cbEval: Ptr): void;
  // libggml-base
  setParam(t: Ptr): void;
  nbytes(t: Ptr): number;
  datasetInit(ctxLen: number, ndata: number): Ptr;
  datasetData(ds: Ptr): Ptr;
  datasetLabels(ds: Ptr): Ptr;
  datasetFree(ds: Ptr): void;
  getData(t: Ptr): Ptr;
  resultInit(): Ptr;
  resultFree(r: Ptr): void;
  resultReset(r: Ptr): void;
  tensorGet(t: Ptr, out: Uint8Array, offset: number, size: number): void;
  constantOptimizerParams: Ptr;
}

let cached: LlamaLib | undefined;

/** Picks a CPU variant deterministically where asked (see INGOT_LLAMA_CPU_VARIANT), else the best one for this CPU. */
function loadBackends(ggml: LibraryHandle, dir: string): string {
  const variant = process.env.INGOT_LLAMA_CPU_VARIANT;
  if (variant) {
    const file = join(dir, `libggml-cpu-${variant}.so`);
    if (!existsSync(file)) throw new Error(`INGOT_LLAMA_CPU_VARIANT=${variant}: no ${file}`);
    const reg = ggml.func('void *ggml_backend_load(const char *path)')(file);
    if (!reg) throw new Error(`ggml_backend_load(${file}) failed (does this CPU support ${variant}?)`);
    return variant;
  }
  ggml.func('void ggml_backend_load_all_from_path(const char *dir)')(dir);
  return 'best';
}

export function loadLlama(): LlamaLib {
  if (cached) return cached;
  checkLayouts();
  const libs = findLlamaLibs();
  const baseFile = readdirSync(libs.dir).find((f) => /^libggml-base\.(so|dylib)$/.test(f) || f === 'ggml-base.dll');
  if (!baseFile) throw new Error(`no libggml-base next to ${libs.llama}`);
  const ggml = koffi.load(libs.ggml);
  const base = koffi.load(join(dirname(libs.llama), baseFile));
  const llama = koffi.load(libs.llama);
  const cpuVariant = loadBackends(ggml, libs.dir);

  const f = {
    backendInit: llama.func('void llama_backend_init(void)'),
    modelDefault: llama.func('ingot_llama_model_params llama_model_default_params(void)'),
    ctxDefault: llama.func('ingot_llama_context_params llama_context_default_params(void)'),
    modelLoad: llama.func('void *llama_model_load_from_file(const char *path, ingot_llama_model_params params)'),
    modelFree: llama.func('void llama_model_free(void *model)'),
    modelSave: llama.func('void llama_model_save_to_file(void *model, const char *path)'),
    modelVocab: llama.func('void *llama_model_get_vocab(void *model)'),
    modelTemplate: llama.func('const char *llama_model_chat_template(void *model, const char *name)'),
    init: llama.func('void *llama_init_from_model(void *model, ingot_llama_context_params params)'),
    free: llama.func('void llama_free(void *ctx)'),
    nCtx: llama.func('uint32_t llama_n_ctx(void *ctx)'),
    nTokens: llama.func('int32_t llama_vocab_n_tokens(void *vocab)'),
    bos: llama.func('int32_t llama_vocab_bos(void *vocab)'),
    eos: llama.func('int32_t llama_vocab_eos(void *vocab)'),
    eot: llama.func('int32_t llama_vocab_eot(void *vocab)'),
    pad: llama.func('int32_t llama_vocab_pad(void *vocab)'),
    addBos: llama.func('bool llama_vocab_get_add_bos(void *vocab)'),
    tokenize: llama.func('int32_t llama_tokenize(void *vocab, const char *text, int32_t len, _Out_ int32_t *tokens, int32_t max, bool add_special, bool parse_special)'),
    chatTemplate: llama.func('int32_t llama_chat_apply_template(const char *tmpl, const ingot_llama_chat_message *chat, size_t n, bool add_ass, _Out_ uint8_t *buf, int32_t len)'),
    adapterInit: llama.func('void *llama_adapter_lora_init(void *model, const char *path)'),
    setAdapters: llama.func('int32_t llama_set_adapters_lora(void *ctx, void **adapters, size_t n, float *scales)'),
    batchGetOne: llama.func('ingot_llama_batch llama_batch_get_one(int32_t *tokens, int32_t n)'),
    decode: llama.func('int32_t llama_decode(void *ctx, ingot_llama_batch batch)'),
    optInit: llama.func('void llama_opt_init(void *ctx, void *model, ingot_llama_opt_params params)'),
    optEpoch: llama.func('void llama_opt_epoch(void *ctx, void *ds, void *rtrain, void *reval, int64_t split, void *cbt, void *cbe)'),
    setParam: base.func('void ggml_set_param(void *t)'),
    nbytes: base.func('size_t ggml_nbytes(void *t)'),
    dsInit: base.func('void *ggml_opt_dataset_init(int type_data, int type_label, int64_t ne_datapoint, int64_t ne_label, int64_t ndata, int64_t ndata_shard)'),
    dsData: base.func('void *ggml_opt_dataset_data(void *ds)'),
    dsLabels: base.func('void *ggml_opt_dataset_labels(void *ds)'),
    dsFree: base.func('void ggml_opt_dataset_free(void *ds)'),
    getData: base.func('void *ggml_get_data(void *t)'),
    resultInit: base.func('void *ggml_opt_result_init(void)'),
    resultFree: base.func('void ggml_opt_result_free(void *r)'),
    resultReset: base.func('void ggml_opt_result_reset(void *r)'),
    tensorGet: base.func('void ggml_backend_tensor_get(void *t, _Out_ uint8_t *data, size_t offset, size_t size)'),
  };

  const lib: LlamaLib = {
    dir: libs.dir,
    cpuVariant,
    backendInit: () => f.backendInit(),
    modelDefaultParams: () => f.modelDefault() as Record<string, unknown>,
    contextDefaultParams: () => f.ctxDefault() as Record<string, unknown>,
    modelLoad: (path, params) => f.modelLoad(path, params),
    modelFree: (m) => f.modelFree(m),
    modelSave: (m, path) => f.modelSave(m, path),
    modelGetVocab: (m) => f.modelVocab(m),
    modelChatTemplate: (m) => f.modelTemplate(m, null) as string | null,
    initFromModel: (m, params) => f.init(m, params),
    free: (c) => f.free(c),
    nCtx: (c) => f.nCtx(c) as number,
    vocabNTokens: (v) => f.nTokens(v) as number,
    vocabBos: (v) => f.bos(v) as number,
    vocabEos: (v) => f.eos(v) as number,
    vocabEot: (v) => f.eot(v) as number,
    vocabPad: (v) => f.pad(v) as number,
    vocabAddBos: (v) => f.addBos(v) as boolean,
    tokenize(vocab, text, parseSpecial) {
      const bytes = Buffer.byteLength(text, 'utf8');
      let out = new Int32Array(bytes + 8);
      let n = f.tokenize(vocab, text, bytes, out, out.length, false, parseSpecial) as number;
      if (n < 0) {
        out = new Int32Array(-n);
        n = f.tokenize(vocab, text, bytes, out, out.length, false, parseSpecial) as number;
      }
      if (n < 0) throw new Error('llama_tokenize failed');
      return Array.from(out.subarray(0, n));
    },
    chatApplyTemplate(tmpl, messages, addAssistant) {
      let size = 2 * messages.reduce((a, m) => a + Buffer.byteLength(m.content) + m.role.length, 0) + 256;
      for (let tries = 0; tries < 2; tries++) {
        const buf = new Uint8Array(size);
        const n = f.chatTemplate(tmpl, messages, messages.length, addAssistant, buf, size) as number;
        if (n < 0) throw new Error('llama_chat_apply_template does not know this chat template');
        if (n <= size) return Buffer.from(buf.buffer, 0, n).toString('utf8');
        size = n;
      }
      throw new Error('llama_chat_apply_template: output keeps growing');
    },
    adapterInit: (m, path) => f.adapterInit(m, path),
    setAdapters(ctx, adapters, scales) {
      return f.setAdapters(ctx, adapters, adapters.length, new Float32Array(scales)) as number;
    },
    decodeOne(ctx, token) {
      const tokens = new Int32Array([token]);
      return f.decode(ctx, f.batchGetOne(tokens, 1)) as number;
    },
    optInit: (ctx, m, params) => f.optInit(ctx, m, params),
    optEpoch: (ctx, ds, rt, re, split, cbt, cbe) => f.optEpoch(ctx, ds, rt, re, split, cbt, cbe),
    setParam: (t) => f.setParam(t),
    nbytes: (t) => Number(f.nbytes(t)),
    datasetInit: (ctxLen, ndata) => f.dsInit(GGML_TYPE_I32, GGML_TYPE_I32, ctxLen, ctxLen, ndata, 1),
    datasetData: (ds) => f.dsData(ds),
    datasetLabels: (ds) => f.dsLabels(ds),
    datasetFree: (ds) => f.dsFree(ds),
    getData: (t) => f.getData(t),
    resultInit: () => f.resultInit(),
    resultFree: (r) => f.resultFree(r),
    resultReset: (r) => f.resultReset(r),
    tensorGet: (t, out, offset, size) => f.tensorGet(t, out, offset, size),
    constantOptimizerParams: base.symbol('ggml_opt_get_constant_optimizer_params'),
  };
  lib.backendInit();
  cached = lib;
  return lib;
}

// Tensor field readers (t is a `struct ggml_tensor *`, as the BigInt address koffi gives
// callbacks). Pointers are read as uint64: decoding 'void *' inside a callback leaks a few
// KB per call in koffi 3.3.4, and so does every koffi.view (see ViewCache).
export function tensorOp(t: Ptr): number {
  return koffi.decode(t, TENSOR.op, 'int32_t') as number;
}
export function tensorName(t: Ptr): string {
  return koffi.decode(t, TENSOR.name, 'char', -1) as string;
}
export function tensorSrc(t: Ptr, i: number): bigint {
  return BigInt(koffi.decode(t, TENSOR.src + 8 * i, 'uint64_t') as number | bigint);
}
export function tensorData(t: Ptr): bigint {
  return BigInt(koffi.decode(t, TENSOR.data, 'uint64_t') as number | bigint);
}
export function tensorNe(t: Ptr): number[] {
  return [0, 1, 2, 3].map((i) => Number(koffi.decode(t, TENSOR.ne + 8 * i, 'int64_t')));
}
export function address(p: Ptr): bigint {
  if (typeof p === 'bigint') return p;
  if (typeof p === 'number') return BigInt(p);
  return p ? koffi.address(p) : 0n;
}

/**
 * Typed-array views over native memory, made once per (address, length): koffi.view
 * leaks ~250 bytes per call, which adds up over thousands of steps. The buffers seen
 * (gradients, optimizer inputs, logits) keep their addresses from step to step.
 */
export class ViewCache {
  #views = new Map<string, ArrayBuffer>();
  #buffer(addr: bigint, bytes: number): ArrayBuffer {
    const key = `${addr}:${bytes}`;
    let ab = this.#views.get(key);
    if (!ab) {
      // A handful of addresses in practice; forget them all if that ever stops being true.
      if (this.#views.size > 4096) this.#views.clear();
      ab = koffi.view(addr, bytes);
      this.#views.set(key, ab);
    }
    return ab;
  }
  /** Views made so far (a steady count means the buffers kept their addresses). */
  get size(): number {
    return this.#views.size;
  }
  floats(addr: bigint, count: number): Float32Array {
    return new Float32Array(this.#buffer(addr, count * 4));
  }
  ints(addr: bigint, count: number): Int32Array {
    return new Int32Array(this.#buffer(addr, count * 4));
  }
  bytes(addr: bigint, count: number): Uint8Array {
    return new Uint8Array(this.#buffer(addr, count));
  }
}
export { koffi };
