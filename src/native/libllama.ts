// koffi bindings to the libllama/libggml that node-llama-cpp 3.22.1 ships (llama.cpp release
// v0.5.0): the one place where Ingot declares native structs and functions. The runner
// (decode, sample, embed, LoRA), the trainer (training, tokenizer, chat template) and the
// quantizer all bind through loadLibllama(); each process binds once.
//
// Why not node-llama-cpp's own context in the runner: every decode and every sampling there
// is an async native call on the libuv threadpool, with promise locks and a batch dispatcher
// between tokens (two thread hand-offs and ~0.3–0.5 ms of JS per token; measured in
// bench/experiments/abab.ts). A runner is a process of its own, so it can call llama_decode
// synchronously on its main thread: that thread becomes ggml's thread 0, nothing else runs
// between two decodes but sampling and one IPC write. node-llama-cpp still loads the
// vocabulary (tokenizer, chat template) and the native libraries there, which koffi then
// shares (same files, so dlopen hands back the same handles and one ggml backend registry).
//
// Struct layouts are those of llama.h/ggml.h at that release (x86-64/arm64), checked with
// offsetof against the headers and re-checked at load, because the training workarounds
// (see trainers/llamacpp/session.ts) depend on this exact build: keep node-llama-cpp pinned.
import koffi from "koffi";
import type { LibraryHandle, TypeObject } from "koffi";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findLlamaLibs } from "./llama-lib.ts";

/** An opaque native pointer as koffi hands it out (null when the C function returned NULL). */
export type Ptr = unknown;

// enum ggml_op values used by the training hooks (ggml.h of this release).
export const GGML_OP = { NONE: 0, MUL_MAT: 29, CROSS_ENTROPY_LOSS: 96, CROSS_ENTROPY_LOSS_BACK: 97, OPT_STEP_ADAMW: 98 } as const;
const GGML_TYPE_I32 = 26;

// struct ggml_tensor field offsets (336 bytes in all).
export const TENSOR = { type: 0, ne: 16, nb: 48, op: 80, flags: 148, src: 152, data: 248, name: 256 } as const;

export const LLAMA_FLASH_ATTN_ENABLED = 1;
export const LLAMA_POOLING_NONE = 0;
export const LLAMA_POOLING_RANK = 4;
/** sizeof(llama_token_data): id (int32), logit (float), p (float). */
export const TOKEN_DATA_BYTES = 12;

export const ModelParams = koffi.struct("ingot_llama_model_params", {
  devices: "void *",
  tensor_buft_overrides: "void *",
  n_gpu_layers: "int32_t",
  split_mode: "int32_t",
  load_mode: "int32_t",
  lazy_mode: "int32_t",
  main_gpu: "int32_t",
  tensor_split: "void *",
  progress_callback: "void *",
  progress_callback_user_data: "void *",
  kv_overrides: "void *",
  vocab_only: "bool",
  check_tensors: "bool",
  use_extra_bufts: "bool",
  no_host: "bool",
  no_alloc: "bool",
  load_mtp: "bool",
});

export const ContextParams = koffi.struct("ingot_llama_context_params", {
  n_ctx: "uint32_t",
  n_batch: "uint32_t",
  n_ubatch: "uint32_t",
  n_seq_max: "uint32_t",
  n_rs_seq: "uint32_t",
  n_outputs_max: "uint32_t",
  n_outputs_max_per_seq: "uint32_t",
  n_threads: "int32_t",
  n_threads_batch: "int32_t",
  ctx_type: "int32_t",
  rope_scaling_type: "int32_t",
  pooling_type: "int32_t",
  attention_type: "int32_t",
  flash_attn_type: "int32_t",
  rope_freq_base: "float",
  rope_freq_scale: "float",
  yarn_ext_factor: "float",
  yarn_attn_factor: "float",
  yarn_beta_fast: "float",
  yarn_beta_slow: "float",
  yarn_orig_ctx: "uint32_t",
  defrag_thold: "float",
  cb_eval: "void *",
  cb_eval_user_data: "void *",
  type_k: "int32_t",
  type_v: "int32_t",
  abort_callback: "void *",
  abort_callback_data: "void *",
  embeddings: "bool",
  offload_kqv: "bool",
  no_perf: "bool",
  op_offload: "bool",
  swa_full: "bool",
  kv_unified: "bool",
  samplers: "void *",
  n_samplers: "size_t",
  ctx_other: "void *",
});

export const Batch = koffi.struct("ingot_llama_batch", {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
});

export const OptParams = koffi.struct("ingot_llama_opt_params", {
  n_ctx_train: "uint32_t",
  param_filter: "void *",
  param_filter_ud: "void *",
  get_opt_pars: "void *",
  get_opt_pars_ud: "void *",
  optimizer_type: "int32_t",
});

export const OptimizerParams = koffi.struct("ingot_ggml_opt_optimizer_params", {
  alpha: "float", beta1: "float", beta2: "float", eps: "float", wd: "float",
  sgd_alpha: "float", sgd_wd: "float",
});

export const ChatMessage = koffi.struct("ingot_llama_chat_message", { role: "const char *", content: "const char *" });
const ChainParams = koffi.struct("ingot_llama_chain_params", { no_perf: "bool" });
const LogitBias = koffi.struct("ingot_llama_logit_bias", { token: "int32_t", bias: "float" });

const ThreadpoolParams = koffi.struct("ingot_ggml_threadpool_params", {
  cpumask: koffi.array("bool", 512),
  n_threads: "int",
  prio: "int",
  poll: "uint32_t",
  strict_cpu: "bool",
  paused: "bool",
});

const QuantizeParams = koffi.struct("ingot_llama_model_quantize_params", {
  nthread: "int32_t",
  ftype: "int32_t", // enum llama_ftype
  output_tensor_type: "int32_t", // enum ggml_type
  token_embedding_type: "int32_t", // enum ggml_type
  allow_requantize: "bool",
  quantize_output_tensor: "bool",
  only_copy: "bool",
  pure: "bool",
  keep_split: "bool",
  dry_run: "bool",
  imatrix: "void *",
  kv_overrides: "void *",
  tt_overrides: "void *",
  prune_layers: "void *",
  max_buf_size: "size_t",
});

// bool cb_eval(struct ggml_tensor * t, bool ask, void * user_data)
export const EvalCallback = koffi.proto("bool ingot_cb_eval(void *t, bool ask, void *ud)");
export const ParamFilter = koffi.proto("bool ingot_param_filter(void *t, void *ud)");
const TpNew = koffi.proto("void *ingot_tp_new(ingot_ggml_threadpool_params *p)");
const TpFree = koffi.proto("void ingot_tp_free(void *tp)");

function checkLayouts(): void {
  const want: [string, TypeObject, Record<string, number>, number][] = [
    ["llama_model_params", ModelParams, { load_mode: 24, progress_callback: 48, vocab_only: 72, use_extra_bufts: 74, load_mtp: 77 }, 80],
    ["llama_context_params", ContextParams, { n_threads: 28, flash_attn_type: 52, cb_eval: 88, type_k: 104, type_v: 108, embeddings: 128, kv_unified: 133, ctx_other: 152 }, 160],
    ["llama_opt_params", OptParams, { param_filter: 8, optimizer_type: 40 }, 48],
    ["ggml_opt_optimizer_params", OptimizerParams, { wd: 16 }, 28],
    ["llama_batch", Batch, { token: 8, logits: 48 }, 56],
    ["llama_logit_bias", LogitBias, { bias: 4 }, 8],
    ["ggml_threadpool_params", ThreadpoolParams, { n_threads: 512, poll: 520, paused: 525 }, 528],
    ["llama_model_quantize_params", QuantizeParams, { ftype: 4, allow_requantize: 16, dry_run: 21, imatrix: 24, max_buf_size: 56 }, 64],
  ];
  for (const [name, type, fields, size] of want) {
    for (const [f, off] of Object.entries(fields)) {
      if (koffi.offsetof(type, f) !== off) throw new Error(`libllama struct layout: ${name}.${f} is not at ${off}`);
    }
    if (koffi.sizeof(type) !== size) throw new Error(`libllama struct layout: ${name} is not ${size} bytes`);
  }
}

/** The bound functions (one set per process). */
export interface LlamaLib {
  /** The folder of the shared libraries. */
  dir: string;
  /** Which CPU backend is in use: "preloaded" (node-llama-cpp registered it), a variant forced with INGOT_LLAMA_CPU_VARIANT, or "best". */
  cpuVariant: string;
  // models and contexts
  modelDefaultParams(): Record<string, unknown>;
  contextDefaultParams(): Record<string, unknown>;
  modelLoad(path: string, params: Record<string, unknown>): Ptr;
  modelFree(model: Ptr): void;
  modelSave(model: Ptr, path: string): void;
  modelVocab(model: Ptr): Ptr;
  modelChatTemplate(model: Ptr): string | null;
  modelNEmbdOut(model: Ptr): number;
  modelNClsOut(model: Ptr): number;
  initFromModel(model: Ptr, params: Record<string, unknown>): Ptr;
  free(ctx: Ptr): void;
  nCtx(ctx: Ptr): number;
  poolingType(ctx: Ptr): number;
  memory(ctx: Ptr): Ptr;
  memorySeqRm(mem: Ptr, seq: number, p0: number, p1: number): boolean;
  memoryClear(mem: Ptr, data: boolean): void;
  // vocabulary and chat template
  vocabNTokens(vocab: Ptr): number;
  vocabIsEog(vocab: Ptr, token: number): boolean;
  vocabBos(vocab: Ptr): number;
  vocabEos(vocab: Ptr): number;
  vocabEot(vocab: Ptr): number;
  vocabPad(vocab: Ptr): number;
  vocabAddBos(vocab: Ptr): boolean;
  tokenize(vocab: Ptr, text: string, parseSpecial: boolean): number[];
  chatApplyTemplate(tmpl: string, messages: { role: string; content: string }[], addAssistant: boolean): string;
  // decoding
  decode(ctx: Ptr, batch: Record<string, unknown>): number;
  decodeOne(ctx: Ptr, token: number): number;
  logitsIth(ctx: Ptr, i: number): Ptr;
  embeddingsIth(ctx: Ptr, i: number): Ptr;
  embeddingsSeq(ctx: Ptr, seq: number): Ptr;
  // LoRA adapters
  adapterInit(model: Ptr, path: string): Ptr;
  adapterFree(adapter: Ptr): void;
  setAdapters(ctx: Ptr, adapters: Ptr[], scales: number[]): number;
  // samplers
  chainInit(): Ptr;
  chainAdd(chain: Ptr, sampler: Ptr): void;
  samplerFree(sampler: Ptr): void;
  samplerClone(sampler: Ptr): Ptr;
  samplerApply(sampler: Ptr, curP: Ptr): void;
  samplerAccept(sampler: Ptr, token: number): void;
  samplerSample(sampler: Ptr, ctx: Ptr, idx: number): number;
  greedy(): Ptr;
  dist(seed: number): Ptr;
  topK(k: number): Ptr;
  topP(p: number, minKeep: number): Ptr;
  minP(p: number, minKeep: number): Ptr;
  temp(t: number): Ptr;
  penalties(lastN: number, repeat: number, freq: number, present: number): Ptr;
  logitBias(nVocab: number, biases: { token: number; bias: number }[]): Ptr;
  grammar(vocab: Ptr, gbnf: string, root: string): Ptr;
  // threads
  /** A persistent ggml threadpool (threads wait polling between graphs, as llama-bench's do). */
  threadpoolNew(threads: number, poll: number): Ptr;
  threadpoolFree(tp: Ptr): void;
  /** Puts the pool's workers to sleep until the next graph wakes them; absent if the CPU backend does not export it. */
  threadpoolPause?: (tp: Ptr) => void;
  attachThreadpool(ctx: Ptr, tp: Ptr, tpBatch: Ptr): void;
  // training (libllama's llama_opt_* and libggml-base)
  optInit(ctx: Ptr, model: Ptr, params: Record<string, unknown>): void;
  optEpoch(ctx: Ptr, dataset: Ptr, resultTrain: Ptr, resultEval: Ptr, idataSplit: number, cbTrain: Ptr, cbEval: Ptr): void;
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
  // quantization
  quantizeDefaultParams(): Record<string, unknown>;
  /** llama_model_quantize: 0 on success. */
  quantize(input: string, output: string, params: Record<string, unknown>): number;
}

let cached: LlamaLib | undefined;

function baseLibrary(dir: string): LibraryHandle {
  const file = readdirSync(dir).find((f) => /^libggml-base\.(so|dylib)$/.test(f) || f === "ggml-base.dll");
  if (!file) throw new Error(`no libggml-base in ${dir}`);
  return koffi.load(join(dir, file));
}

/**
 * Registers a CPU backend unless one is there already (node-llama-cpp's getLlama() registers
 * its own in the runner): a variant where asked (INGOT_LLAMA_CPU_VARIANT, for deterministic
 * training), else the best one for this CPU.
 */
function ensureCpuBackend(ggml: LibraryHandle, dir: string, devByType: (type: number) => Ptr): string {
  // GGML_BACKEND_DEVICE_TYPE_CPU = 0.
  if (devByType(0)) return "preloaded";
  const variant = process.env.INGOT_LLAMA_CPU_VARIANT;
  if (variant) {
    const file = join(dir, `libggml-cpu-${variant}.so`);
    if (!existsSync(file)) throw new Error(`INGOT_LLAMA_CPU_VARIANT=${variant}: no ${file}`);
    const reg = ggml.func("void *ggml_backend_load(const char *path)")(file);
    if (!reg) throw new Error(`ggml_backend_load(${file}) failed (does this CPU support ${variant}?)`);
    return variant;
  }
  ggml.func("void ggml_backend_load_all_from_path(const char *dir)")(dir);
  return "best";
}

/** Binds libllama (once per process). In the runner, node-llama-cpp's getLlama() runs first. */
export function loadLibllama(): LlamaLib {
  if (cached) return cached;
  checkLayouts();
  const libs = findLlamaLibs();
  const ggml = koffi.load(libs.ggml);
  const base = baseLibrary(libs.dir);
  const llama = koffi.load(libs.llama);
  const devByType = ggml.func("void *ggml_backend_dev_by_type(int type)");
  const cpuVariant = ensureCpuBackend(ggml, libs.dir, (t) => devByType(t));
  const cpuDev = devByType(0);
  if (!cpuDev) throw new Error(`no ggml CPU backend could be loaded from ${libs.dir}`);
  const cpuReg = ggml.func("void *ggml_backend_dev_backend_reg(void *dev)")(cpuDev);
  const procAddress = ggml.func("void *ggml_backend_reg_get_proc_address(void *reg, const char *name)");
  const tpNewPtr = procAddress(cpuReg, "ggml_threadpool_new");
  const tpFreePtr = procAddress(cpuReg, "ggml_threadpool_free");
  // ggml_threadpool_pause is not among the backend registry's procedures: take it from the
  // CPU backend variant ggml loaded (dlopen of a loaded path returns that library).
  const cpuLib = existsSync("/proc/self/maps")
    ? readFileSync("/proc/self/maps", "utf8").match(/\/\S*libggml-cpu[^/\s]*\.so/)?.[0]
    : undefined;
  const tpPause = cpuLib ? koffi.load(cpuLib).func("void ggml_threadpool_pause(void *tp)") : undefined;

  const f = {
    backendInit: llama.func("void llama_backend_init(void)"),
    modelDefault: llama.func("ingot_llama_model_params llama_model_default_params(void)"),
    ctxDefault: llama.func("ingot_llama_context_params llama_context_default_params(void)"),
    modelLoad: llama.func("void *llama_model_load_from_file(const char *path, ingot_llama_model_params params)"),
    modelFree: llama.func("void llama_model_free(void *model)"),
    modelSave: llama.func("void llama_model_save_to_file(void *model, const char *path)"),
    modelVocab: llama.func("void *llama_model_get_vocab(void *model)"),
    modelTemplate: llama.func("const char *llama_model_chat_template(void *model, const char *name)"),
    nEmbdOut: llama.func("int32_t llama_model_n_embd_out(void *model)"),
    nClsOut: llama.func("uint32_t llama_model_n_cls_out(void *model)"),
    init: llama.func("void *llama_init_from_model(void *model, ingot_llama_context_params params)"),
    free: llama.func("void llama_free(void *ctx)"),
    nCtx: llama.func("uint32_t llama_n_ctx(void *ctx)"),
    pooling: llama.func("int llama_pooling_type(void *ctx)"),
    memory: llama.func("void *llama_get_memory(void *ctx)"),
    seqRm: llama.func("bool llama_memory_seq_rm(void *mem, int32_t seq, int32_t p0, int32_t p1)"),
    memClear: llama.func("void llama_memory_clear(void *mem, bool data)"),
    nTokens: llama.func("int32_t llama_vocab_n_tokens(void *vocab)"),
    isEog: llama.func("bool llama_vocab_is_eog(void *vocab, int32_t token)"),
    bos: llama.func("int32_t llama_vocab_bos(void *vocab)"),
    eos: llama.func("int32_t llama_vocab_eos(void *vocab)"),
    eot: llama.func("int32_t llama_vocab_eot(void *vocab)"),
    pad: llama.func("int32_t llama_vocab_pad(void *vocab)"),
    addBos: llama.func("bool llama_vocab_get_add_bos(void *vocab)"),
    tokenize: llama.func("int32_t llama_tokenize(void *vocab, const char *text, int32_t len, _Out_ int32_t *tokens, int32_t max, bool add_special, bool parse_special)"),
    chatTemplate: llama.func("int32_t llama_chat_apply_template(const char *tmpl, const ingot_llama_chat_message *chat, size_t n, bool add_ass, _Out_ uint8_t *buf, int32_t len)"),
    batchGetOne: llama.func("ingot_llama_batch llama_batch_get_one(int32_t *tokens, int32_t n)"),
    decode: llama.func("int32_t llama_decode(void *ctx, ingot_llama_batch batch)"),
    logitsIth: llama.func("void *llama_get_logits_ith(void *ctx, int32_t i)"),
    embdIth: llama.func("void *llama_get_embeddings_ith(void *ctx, int32_t i)"),
    embdSeq: llama.func("void *llama_get_embeddings_seq(void *ctx, int32_t seq)"),
    adapterInit: llama.func("void *llama_adapter_lora_init(void *model, const char *path)"),
    adapterFree: llama.func("void llama_adapter_lora_free(void *adapter)"),
    setAdapters: llama.func("int32_t llama_set_adapters_lora(void *ctx, void **adapters, size_t n, float *scales)"),
    chainDefault: llama.func("ingot_llama_chain_params llama_sampler_chain_default_params(void)"),
    chainInit: llama.func("void *llama_sampler_chain_init(ingot_llama_chain_params params)"),
    chainAdd: llama.func("void llama_sampler_chain_add(void *chain, void *smpl)"),
    smplFree: llama.func("void llama_sampler_free(void *smpl)"),
    smplClone: llama.func("void *llama_sampler_clone(void *smpl)"),
    smplApply: llama.func("void llama_sampler_apply(void *smpl, void *cur_p)"),
    smplAccept: llama.func("void llama_sampler_accept(void *smpl, int32_t token)"),
    smplSample: llama.func("int32_t llama_sampler_sample(void *smpl, void *ctx, int32_t idx)"),
    greedy: llama.func("void *llama_sampler_init_greedy(void)"),
    dist: llama.func("void *llama_sampler_init_dist(uint32_t seed)"),
    topK: llama.func("void *llama_sampler_init_top_k(int32_t k)"),
    topP: llama.func("void *llama_sampler_init_top_p(float p, size_t min_keep)"),
    minP: llama.func("void *llama_sampler_init_min_p(float p, size_t min_keep)"),
    temp: llama.func("void *llama_sampler_init_temp(float t)"),
    penalties: llama.func("void *llama_sampler_init_penalties(int32_t n_vocab, int32_t last_n, float repeat, float freq, float present)"),
    logitBias: llama.func("void *llama_sampler_init_logit_bias(int32_t n_vocab, int32_t n, const ingot_llama_logit_bias *biases)"),
    grammar: llama.func("void *llama_sampler_init_grammar(void *vocab, const char *gbnf, const char *root)"),
    tpDefault: base.func("ingot_ggml_threadpool_params ggml_threadpool_params_default(int n)"),
    attach: llama.func("void llama_attach_threadpool(void *ctx, void *tp, void *tpb)"),
    optInit: llama.func("void llama_opt_init(void *ctx, void *model, ingot_llama_opt_params params)"),
    optEpoch: llama.func("void llama_opt_epoch(void *ctx, void *ds, void *rtrain, void *reval, int64_t split, void *cbt, void *cbe)"),
    setParam: base.func("void ggml_set_param(void *t)"),
    nbytes: base.func("size_t ggml_nbytes(void *t)"),
    dsInit: base.func("void *ggml_opt_dataset_init(int type_data, int type_label, int64_t ne_datapoint, int64_t ne_label, int64_t ndata, int64_t ndata_shard)"),
    dsData: base.func("void *ggml_opt_dataset_data(void *ds)"),
    dsLabels: base.func("void *ggml_opt_dataset_labels(void *ds)"),
    dsFree: base.func("void ggml_opt_dataset_free(void *ds)"),
    getData: base.func("void *ggml_get_data(void *t)"),
    resultInit: base.func("void *ggml_opt_result_init(void)"),
    resultFree: base.func("void ggml_opt_result_free(void *r)"),
    resultReset: base.func("void ggml_opt_result_reset(void *r)"),
    tensorGet: base.func("void ggml_backend_tensor_get(void *t, _Out_ uint8_t *data, size_t offset, size_t size)"),
    quantizeDefault: llama.func("ingot_llama_model_quantize_params llama_model_quantize_default_params(void)"),
    quantize: llama.func("uint32_t llama_model_quantize(const char *inp, const char *out, const ingot_llama_model_quantize_params *params)"),
  };
  // Idempotent; node-llama-cpp has called it already in the runner.
  f.backendInit();
  const chainParams = f.chainDefault() as Record<string, unknown>;

  cached = {
    dir: libs.dir,
    cpuVariant,
    modelDefaultParams: () => f.modelDefault() as Record<string, unknown>,
    contextDefaultParams: () => f.ctxDefault() as Record<string, unknown>,
    modelLoad: (path, params) => f.modelLoad(path, params),
    modelFree: (m) => f.modelFree(m),
    modelSave: (m, path) => f.modelSave(m, path),
    modelVocab: (m) => f.modelVocab(m),
    modelChatTemplate: (m) => f.modelTemplate(m, null) as string | null,
    modelNEmbdOut: (m) => f.nEmbdOut(m) as number,
    modelNClsOut: (m) => f.nClsOut(m) as number,
    initFromModel: (m, params) => f.init(m, params),
    free: (c) => f.free(c),
    nCtx: (c) => f.nCtx(c) as number,
    poolingType: (c) => f.pooling(c) as number,
    memory: (c) => f.memory(c),
    memorySeqRm: (mem, seq, p0, p1) => f.seqRm(mem, seq, p0, p1) as boolean,
    memoryClear: (mem, data) => f.memClear(mem, data),
    vocabNTokens: (v) => f.nTokens(v) as number,
    vocabIsEog: (v, t) => f.isEog(v, t) as boolean,
    vocabBos: (v) => f.bos(v) as number,
    vocabEos: (v) => f.eos(v) as number,
    vocabEot: (v) => f.eot(v) as number,
    vocabPad: (v) => f.pad(v) as number,
    vocabAddBos: (v) => f.addBos(v) as boolean,
    tokenize(vocab, text, parseSpecial) {
      const bytes = Buffer.byteLength(text, "utf8");
      let out = new Int32Array(bytes + 8);
      let n = f.tokenize(vocab, text, bytes, out, out.length, false, parseSpecial) as number;
      if (n < 0) {
        out = new Int32Array(-n);
        n = f.tokenize(vocab, text, bytes, out, out.length, false, parseSpecial) as number;
      }
      if (n < 0) throw new Error("llama_tokenize failed");
      return Array.from(out.subarray(0, n));
    },
    chatApplyTemplate(tmpl, messages, addAssistant) {
      let size = 2 * messages.reduce((a, m) => a + Buffer.byteLength(m.content) + m.role.length, 0) + 256;
      for (let tries = 0; tries < 2; tries++) {
        const buf = new Uint8Array(size);
        const n = f.chatTemplate(tmpl, messages, messages.length, addAssistant, buf, size) as number;
        if (n < 0) throw new Error("llama_chat_apply_template does not know this chat template");
        if (n <= size) return Buffer.from(buf.buffer, 0, n).toString("utf8");
        size = n;
      }
      throw new Error("llama_chat_apply_template: output keeps growing");
    },
    decode: (c, batch) => f.decode(c, batch) as number,
    decodeOne(ctx, token) {
      const tokens = new Int32Array([token]);
      return f.decode(ctx, f.batchGetOne(tokens, 1)) as number;
    },
    logitsIth: (c, i) => f.logitsIth(c, i),
    embeddingsIth: (c, i) => f.embdIth(c, i),
    embeddingsSeq: (c, s) => f.embdSeq(c, s),
    adapterInit: (m, path) => f.adapterInit(m, path),
    adapterFree: (a) => f.adapterFree(a),
    setAdapters: (c, adapters, scales) => f.setAdapters(c, adapters, adapters.length, new Float32Array(scales)) as number,
    chainInit: () => f.chainInit(chainParams),
    chainAdd: (chain, s) => f.chainAdd(chain, s),
    samplerFree: (s) => f.smplFree(s),
    samplerClone: (s) => f.smplClone(s),
    samplerApply: (s, curP) => f.smplApply(s, curP),
    samplerAccept: (s, t) => f.smplAccept(s, t),
    samplerSample: (s, c, idx) => f.smplSample(s, c, idx) as number,
    greedy: () => f.greedy(),
    dist: (seed) => f.dist(seed >>> 0),
    topK: (k) => f.topK(k),
    topP: (p, minKeep) => f.topP(p, minKeep),
    minP: (p, minKeep) => f.minP(p, minKeep),
    temp: (t) => f.temp(t),
    penalties: (lastN, repeat, freq, present) => f.penalties(0, lastN, repeat, freq, present),
    logitBias: (nVocab, biases) => f.logitBias(nVocab, biases.length, biases),
    grammar: (vocab, gbnf, root) => f.grammar(vocab, gbnf, root),
    threadpoolNew(threads, poll) {
      if (!tpNewPtr) throw new Error("this ggml CPU backend has no ggml_threadpool_new");
      const params = { ...(f.tpDefault(threads) as Record<string, unknown>), poll };
      return koffi.call(tpNewPtr, TpNew, params);
    },
    threadpoolFree(tp) {
      if (tpFreePtr) koffi.call(tpFreePtr, TpFree, tp);
    },
    threadpoolPause: tpPause ? (tp) => tpPause(tp) : undefined,
    attachThreadpool: (c, tp, tpb) => f.attach(c, tp, tpb),
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
    constantOptimizerParams: base.symbol("ggml_opt_get_constant_optimizer_params"),
    quantizeDefaultParams: () => f.quantizeDefault() as Record<string, unknown>,
    quantize: (input, output, params) => f.quantize(input, output, params) as number,
  };
  return cached;
}

// Tensor field readers (t is a `struct ggml_tensor *`, as the BigInt address koffi gives
// callbacks). Pointers are read as uint64: decoding 'void *' inside a callback leaks a few
// KB per call in koffi 3.3.4, and so does every koffi.view (see ViewCache).
export function tensorOp(t: Ptr): number {
  return koffi.decode(t, TENSOR.op, "int32_t") as number;
}
export function tensorName(t: Ptr): string {
  return koffi.decode(t, TENSOR.name, "char", -1) as string;
}
export function tensorSrc(t: Ptr, i: number): bigint {
  return BigInt(koffi.decode(t, TENSOR.src + 8 * i, "uint64_t") as number | bigint);
}
export function tensorData(t: Ptr): bigint {
  return BigInt(koffi.decode(t, TENSOR.data, "uint64_t") as number | bigint);
}
export function tensorNe(t: Ptr): number[] {
  return [0, 1, 2, 3].map((i) => Number(koffi.decode(t, TENSOR.ne + 8 * i, "int64_t")));
}
export function address(p: Ptr): bigint {
  if (typeof p === "bigint") return p;
  if (typeof p === "number") return BigInt(p);
  return p ? koffi.address(p) : 0n;
}

/**
 * Typed-array views over native memory, one per (address, length): koffi.view costs a few
 * hundred bytes that are never given back, and the buffers read in the runner (logits,
 * embeddings) keep their addresses from step to step.
 */
export class NativeViews {
  #views = new Map<bigint, ArrayBuffer>();
  #bytes = new Map<bigint, number>();
  floats(ptr: Ptr, count: number): Float32Array {
    const address = koffi.address(ptr);
    let view = this.#views.get(address);
    if (!view || this.#bytes.get(address)! < count * 4) {
      if (this.#views.size > 1024) {
        this.#views.clear();
        this.#bytes.clear();
      }
      view = koffi.view(ptr, count * 4);
      this.#views.set(address, view);
      this.#bytes.set(address, count * 4);
    }
    return new Float32Array(view, 0, count);
  }
}

/**
 * Typed-array views over native memory by BigInt address, made once per (address, length)
 * (see NativeViews): the training buffers (gradients, optimizer inputs, logits) keep their
 * addresses from step to step.
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

/** Native memory that lives as long as the process (batches, candidate arrays). */
export function allocBytes(bytes: number): { ptr: Ptr; buffer: ArrayBuffer; address: bigint } {
  const ptr = koffi.alloc("uint8_t", bytes);
  return { ptr, buffer: koffi.view(ptr, bytes), address: koffi.address(ptr) };
}

export function freeBytes(ptr: Ptr): void {
  koffi.free(ptr);
}

export { koffi };
