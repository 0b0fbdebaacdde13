// koffi bindings to the libllama/libggml that node-llama-cpp 3.22.1 ships (llama.cpp release
// v0.5.0): what a runner needs to decode, sample, embed and apply LoRA adapters itself.
//
// Why not node-llama-cpp's own context: every decode and every sampling there is an async
// native call on the libuv threadpool, with promise locks and a batch dispatcher between
// tokens (two thread hand-offs and ~0.3–0.5 ms of JS per token; measured in
// bench/experiments/abab.ts). A runner is a process of its own, so it can call llama_decode
// synchronously on its main thread: that thread becomes ggml's thread 0, nothing else runs
// between two decodes but sampling and one IPC write. node-llama-cpp still loads the
// vocabulary (tokenizer, chat template) and the native libraries, which koffi then shares
// (same files, so dlopen hands back the same handles and one ggml backend registry).
//
// Struct layouts are those of llama.h at that release (x86-64/arm64) and are checked at load.
import koffi from "koffi";
import type { LibraryHandle, TypeObject } from "koffi";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findLlamaLibs } from "../../../gguf/llama-lib.ts";

/** An opaque native pointer as koffi hands it out (null when the C function returned NULL). */
export type Ptr = unknown;

const ModelParams = koffi.struct("ingot_rt_model_params", {
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

const ContextParams = koffi.struct("ingot_rt_context_params", {
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

const Batch = koffi.struct("ingot_rt_batch", {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
});

const ChainParams = koffi.struct("ingot_rt_chain_params", { no_perf: "bool" });
const LogitBias = koffi.struct("ingot_rt_logit_bias", { token: "int32_t", bias: "float" });

const ThreadpoolParams = koffi.struct("ingot_rt_threadpool_params", {
  cpumask: koffi.array("bool", 512),
  n_threads: "int",
  prio: "int",
  poll: "uint32_t",
  strict_cpu: "bool",
  paused: "bool",
});

function checkLayouts(): void {
  const want: [string, TypeObject, Record<string, number>, number][] = [
    ["llama_model_params", ModelParams, { load_mode: 24, progress_callback: 48, vocab_only: 72, use_extra_bufts: 74, load_mtp: 77 }, 80],
    ["llama_context_params", ContextParams, { n_threads: 28, flash_attn_type: 52, cb_eval: 88, type_k: 104, type_v: 108, embeddings: 128, kv_unified: 133, ctx_other: 152 }, 160],
    ["llama_batch", Batch, { token: 8, logits: 48 }, 56],
    ["llama_logit_bias", LogitBias, { bias: 4 }, 8],
    ["ggml_threadpool_params", ThreadpoolParams, { n_threads: 512, poll: 520, paused: 525 }, 528],
  ];
  for (const [name, type, fields, size] of want) {
    for (const [f, off] of Object.entries(fields)) {
      if (koffi.offsetof(type, f) !== off) throw new Error(`libllama struct layout: ${name}.${f} is not at ${off}`);
    }
    if (koffi.sizeof(type) !== size) throw new Error(`libllama struct layout: ${name} is not ${size} bytes`);
  }
}

export const LLAMA_FLASH_ATTN_ENABLED = 1;
export const LLAMA_POOLING_NONE = 0;
export const LLAMA_POOLING_RANK = 4;
/** sizeof(llama_token_data): id (int32), logit (float), p (float). */
export const TOKEN_DATA_BYTES = 12;

export interface LlamaLib {
  modelDefaultParams(): Record<string, unknown>;
  contextDefaultParams(): Record<string, unknown>;
  modelLoad(path: string, params: Record<string, unknown>): Ptr;
  modelFree(model: Ptr): void;
  modelVocab(model: Ptr): Ptr;
  modelNEmbdOut(model: Ptr): number;
  modelNClsOut(model: Ptr): number;
  vocabNTokens(vocab: Ptr): number;
  vocabIsEog(vocab: Ptr, token: number): boolean;
  initFromModel(model: Ptr, params: Record<string, unknown>): Ptr;
  free(ctx: Ptr): void;
  nCtx(ctx: Ptr): number;
  poolingType(ctx: Ptr): number;
  memory(ctx: Ptr): Ptr;
  memorySeqRm(mem: Ptr, seq: number, p0: number, p1: number): boolean;
  memoryClear(mem: Ptr, data: boolean): void;
  decode(ctx: Ptr, batch: Record<string, unknown>): number;
  logitsIth(ctx: Ptr, i: number): Ptr;
  embeddingsIth(ctx: Ptr, i: number): Ptr;
  embeddingsSeq(ctx: Ptr, seq: number): Ptr;
  adapterInit(model: Ptr, path: string): Ptr;
  adapterFree(adapter: Ptr): void;
  setAdapters(ctx: Ptr, adapters: Ptr[], scales: number[]): number;
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
  /** A persistent ggml threadpool (threads wait polling between graphs, as llama-bench's do). */
  threadpoolNew(threads: number, poll: number): Ptr;
  threadpoolFree(tp: Ptr): void;
  /** Puts the pool's workers to sleep until the next graph wakes them; absent if the CPU backend does not export it. */
  threadpoolPause?: (tp: Ptr) => void;
  attachThreadpool(ctx: Ptr, tp: Ptr, tpBatch: Ptr): void;
}

let cached: LlamaLib | undefined;

function baseLibrary(dir: string): LibraryHandle {
  const file = readdirSync(dir).find((f) => /^libggml-base\.(so|dylib)$/.test(f) || f === "ggml-base.dll");
  if (!file) throw new Error(`no libggml-base in ${dir}`);
  return koffi.load(join(dir, file));
}

/** Binds libllama (once per process). node-llama-cpp's getLlama() must have run first: it registers the ggml backends. */
export function loadLibllama(): LlamaLib {
  if (cached) return cached;
  checkLayouts();
  const libs = findLlamaLibs();
  const ggml = koffi.load(libs.ggml);
  const base = baseLibrary(libs.dir);
  const llama = koffi.load(libs.llama);
  const devByType = ggml.func("void *ggml_backend_dev_by_type(int type)");
  // GGML_BACKEND_DEVICE_TYPE_CPU = 0. Loaded already when node-llama-cpp came first.
  if (!devByType(0)) ggml.func("void ggml_backend_load_all_from_path(const char *dir)")(libs.dir);
  const cpuDev = devByType(0);
  if (!cpuDev) throw new Error(`no ggml CPU backend could be loaded from ${libs.dir}`);
  const cpuReg = ggml.func("void *ggml_backend_dev_backend_reg(void *dev)")(cpuDev);
  const procAddress = ggml.func("void *ggml_backend_reg_get_proc_address(void *reg, const char *name)");
  const tpNewPtr = procAddress(cpuReg, "ggml_threadpool_new");
  const tpFreePtr = procAddress(cpuReg, "ggml_threadpool_free");
  const TpNew = koffi.proto("void *ingot_rt_tp_new(ingot_rt_threadpool_params *p)");
  const TpFree = koffi.proto("void ingot_rt_tp_free(void *tp)");
  // ggml_threadpool_pause is not among the backend registry's procedures: take it from the
  // CPU backend variant ggml loaded (dlopen of a loaded path returns that library).
  const cpuLib = readFileSync("/proc/self/maps", "utf8").match(/\/\S*libggml-cpu[^/\s]*\.so/)?.[0];
  const tpPause = cpuLib ? koffi.load(cpuLib).func("void ggml_threadpool_pause(void *tp)") : undefined;

  const f = {
    modelDefault: llama.func("ingot_rt_model_params llama_model_default_params(void)"),
    ctxDefault: llama.func("ingot_rt_context_params llama_context_default_params(void)"),
    modelLoad: llama.func("void *llama_model_load_from_file(const char *path, ingot_rt_model_params params)"),
    modelFree: llama.func("void llama_model_free(void *model)"),
    modelVocab: llama.func("void *llama_model_get_vocab(void *model)"),
    nEmbdOut: llama.func("int32_t llama_model_n_embd_out(void *model)"),
    nClsOut: llama.func("uint32_t llama_model_n_cls_out(void *model)"),
    nTokens: llama.func("int32_t llama_vocab_n_tokens(void *vocab)"),
    isEog: llama.func("bool llama_vocab_is_eog(void *vocab, int32_t token)"),
    init: llama.func("void *llama_init_from_model(void *model, ingot_rt_context_params params)"),
    free: llama.func("void llama_free(void *ctx)"),
    nCtx: llama.func("uint32_t llama_n_ctx(void *ctx)"),
    pooling: llama.func("int llama_pooling_type(void *ctx)"),
    memory: llama.func("void *llama_get_memory(void *ctx)"),
    seqRm: llama.func("bool llama_memory_seq_rm(void *mem, int32_t seq, int32_t p0, int32_t p1)"),
    memClear: llama.func("void llama_memory_clear(void *mem, bool data)"),
    decode: llama.func("int32_t llama_decode(void *ctx, ingot_rt_batch batch)"),
    logitsIth: llama.func("void *llama_get_logits_ith(void *ctx, int32_t i)"),
    embdIth: llama.func("void *llama_get_embeddings_ith(void *ctx, int32_t i)"),
    embdSeq: llama.func("void *llama_get_embeddings_seq(void *ctx, int32_t seq)"),
    adapterInit: llama.func("void *llama_adapter_lora_init(void *model, const char *path)"),
    adapterFree: llama.func("void llama_adapter_lora_free(void *adapter)"),
    setAdapters: llama.func("int32_t llama_set_adapters_lora(void *ctx, void **adapters, size_t n, float *scales)"),
    chainDefault: llama.func("ingot_rt_chain_params llama_sampler_chain_default_params(void)"),
    chainInit: llama.func("void *llama_sampler_chain_init(ingot_rt_chain_params params)"),
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
    logitBias: llama.func("void *llama_sampler_init_logit_bias(int32_t n_vocab, int32_t n, const ingot_rt_logit_bias *biases)"),
    grammar: llama.func("void *llama_sampler_init_grammar(void *vocab, const char *gbnf, const char *root)"),
    tpDefault: base.func("ingot_rt_threadpool_params ggml_threadpool_params_default(int n)"),
    attach: llama.func("void llama_attach_threadpool(void *ctx, void *tp, void *tpb)"),
  };
  const chainParams = f.chainDefault() as Record<string, unknown>;

  cached = {
    modelDefaultParams: () => f.modelDefault() as Record<string, unknown>,
    contextDefaultParams: () => f.ctxDefault() as Record<string, unknown>,
    modelLoad: (path, params) => f.modelLoad(path, params),
    modelFree: (m) => f.modelFree(m),
    modelVocab: (m) => f.modelVocab(m),
    modelNEmbdOut: (m) => f.nEmbdOut(m) as number,
    modelNClsOut: (m) => f.nClsOut(m) as number,
    vocabNTokens: (v) => f.nTokens(v) as number,
    vocabIsEog: (v, t) => f.isEog(v, t) as boolean,
    initFromModel: (m, params) => f.init(m, params),
    free: (c) => f.free(c),
    nCtx: (c) => f.nCtx(c) as number,
    poolingType: (c) => f.pooling(c) as number,
    memory: (c) => f.memory(c),
    memorySeqRm: (mem, seq, p0, p1) => f.seqRm(mem, seq, p0, p1) as boolean,
    memoryClear: (mem, data) => f.memClear(mem, data),
    decode: (c, batch) => f.decode(c, batch) as number,
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
  };
  return cached;
}

/**
 * Typed-array views over native memory, one per (address, length): koffi.view costs a few
 * hundred bytes that are never given back, and the buffers read here (logits, embeddings)
 * keep their addresses from step to step.
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

/** Native memory that lives as long as the process (batches, candidate arrays). */
export function allocBytes(bytes: number): { ptr: Ptr; buffer: ArrayBuffer; address: bigint } {
  const ptr = koffi.alloc("uint8_t", bytes);
  return { ptr, buffer: koffi.view(ptr, bytes), address: koffi.address(ptr) };
}

export function freeBytes(ptr: Ptr): void {
  koffi.free(ptr);
}

export { koffi };
