// Experiment: the decode loop driven synchronously from JS through koffi on node-llama-cpp's
// shipped libllama (no node-llama-cpp, no libuv threadpool): llama_decode of one token,
// greedy llama_sampler_sample, repeat. The ceiling for a runner that drives libllama itself.
// node bench/experiments/koffi-decode.ts <shape> <threads> [tokens] [reps] [fa 0|1] [threadpool poll|-] [greedy|argmax|none]
// greedy: llama_sampler_sample with a greedy sampler; argmax: over a view of the logits in JS
// (what the runner does for plain greedy requests); none: no sampling (as llama-bench).
import { performance } from "node:perf_hooks";
import koffi from "koffi";
import { join } from "node:path";
import { findLlamaLibs } from "../../src/native/llama-lib.ts";
import { ContextParams, ModelParams } from "../../src/native/libllama.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";

const [shape = "smollm2-135m", threadsArg = "1", tokensArg = "128", repsArg = "5", faArg = "1", poolArg = "-", sampleArg = "greedy"] = process.argv.slice(2);
const threads = Number(threadsArg);
const tokens = Number(tokensArg);
const libs = findLlamaLibs();
const ggml = koffi.load(libs.ggml);
const llama = koffi.load(libs.llama);
const base = koffi.load(join(libs.dir, "libggml-base.so"));
ggml.func("void ggml_backend_load_all_from_path(const char *dir)")(libs.dir);
const Batch = koffi.struct("xb_batch", { n_tokens: "int32_t", token: "void *", embd: "void *", pos: "void *", n_seq_id: "void *", seq_id: "void *", logits: "void *" });
const f = {
  backendInit: llama.func("void llama_backend_init(void)"),
  logSet: llama.func("void llama_log_set(void *cb, void *ud)"),
  modelDefault: llama.func("ingot_llama_model_params llama_model_default_params(void)"),
  ctxDefault: llama.func("ingot_llama_context_params llama_context_default_params(void)"),
  modelLoad: llama.func("void *llama_model_load_from_file(const char *path, ingot_llama_model_params params)"),
  init: llama.func("void *llama_init_from_model(void *model, ingot_llama_context_params params)"),
  vocab: llama.func("void *llama_model_get_vocab(void *model)"),
  tokenize: llama.func("int32_t llama_tokenize(void *vocab, const char *text, int32_t len, _Out_ int32_t *tokens, int32_t max, bool add_special, bool parse_special)"),
  batchGetOne: llama.func("xb_batch llama_batch_get_one(void *tokens, int32_t n)"),
  decode: llama.func("int32_t llama_decode(void *ctx, xb_batch batch)"),
  memory: llama.func("void *llama_get_memory(void *ctx)"),
  memClear: llama.func("void llama_memory_clear(void *mem, bool data)"),
  greedy: llama.func("void *llama_sampler_init_greedy(void)"),
  sample: llama.func("int32_t llama_sampler_sample(void *smpl, void *ctx, int32_t idx)"),
  logitsIth: llama.func("void *llama_get_logits_ith(void *ctx, int32_t i)"),
  nVocab: llama.func("int32_t llama_vocab_n_tokens(void *vocab)"),
  attach: llama.func("void llama_attach_threadpool(void *ctx, void *tp, void *tpb)"),
  devByType: ggml.func("void *ggml_backend_dev_by_type(int type)"),
  devReg: ggml.func("void *ggml_backend_dev_backend_reg(void *dev)"),
  procAddr: ggml.func("void *ggml_backend_reg_get_proc_address(void *reg, const char *name)"),
};
f.backendInit();
const model = f.modelLoad(modelPathFor(shape as BenchShape), { ...(f.modelDefault() as object), n_gpu_layers: 0 });
// KOFFI_SEQS=8: a context shaped like a runner's (8 sequences of 1024 cells, kv_unified off).
const seqs = Number(process.env.KOFFI_SEQS ?? 1);
const cp = { ...(f.ctxDefault() as Record<string, unknown>), n_ctx: 1024 * seqs, n_batch: 512, n_ubatch: 512, n_seq_max: seqs, kv_unified: false, n_threads: threads, n_threads_batch: threads, flash_attn_type: Number(faArg) };
const ctx = f.init(model, cp);
if (poolArg !== "-") {
  const reg = f.devReg(f.devByType(0));
  const TpParams = koffi.struct("xb_tpp", { cpumask: koffi.array("bool", 512), n_threads: "int", prio: "int", poll: "uint32_t", strict_cpu: "bool", paused: "bool" });
  const tpDefault = base.func("xb_tpp ggml_threadpool_params_default(int n)") as (n: number) => Record<string, unknown>;
  const tpNewPtr = f.procAddr(reg, "ggml_threadpool_new");
  const tpNew = (p: unknown) => koffi.call(tpNewPtr, koffi.proto("void *xb_tpnew(xb_tpp *p)"), p);
  const p = { ...tpDefault(threads), poll: Number(poolArg) };
  const tp = tpNew(p);
  f.attach(ctx, tp, tp);
}
const mem = f.memory(ctx);
const vocab = f.vocab(model);
const promptText = "The quick brown fox jumps over the lazy dog. ";
const pt = new Int32Array(64);
const np = f.tokenize(vocab, promptText, Buffer.byteLength(promptText), pt, 64, true, false) as number;
const smpl = f.greedy();
const nVocab = f.nVocab(vocab) as number;
const buf = koffi.alloc("int32_t", 512);
const view = new Int32Array(koffi.view(buf, 512 * 4));

let sampleMs = 0;
let logitsView: Float32Array | undefined;
let logitsAddr = 0n;
function argmax(): number {
  const p = f.logitsIth(ctx, -1);
  const a = koffi.address(p);
  if (!logitsView || a !== logitsAddr) {
    logitsAddr = a;
    logitsView = new Float32Array(koffi.view(p, nVocab * 4));
  }
  const l = logitsView;
  let best = 0;
  let bv = l[0];
  for (let i = 1; i < l.length; i++) if (l[i] > bv) { bv = l[i]; best = i; }
  return best;
}
function once(n: number): number {
  f.memClear(mem, true);
  view.set(pt.subarray(0, np));
  f.decode(ctx, f.batchGetOne(buf, np));
  let tok = f.sample(smpl, ctx, -1) as number;
  const t0 = performance.now();
  for (let i = 1; i < n; i++) {
    view[0] = tok;
    if (f.decode(ctx, f.batchGetOne(buf, 1)) !== 0) throw new Error("decode failed");
    const s0 = performance.now();
    tok = sampleArg === "none" ? 66 + (i % 50) : sampleArg === "argmax" ? argmax() : (f.sample(smpl, ctx, -1) as number);
    sampleMs += performance.now() - s0;
  }
  return ((n - 1) * 1000) / (performance.now() - t0);
}
once(16);
const rates: number[] = [];
sampleMs = 0;
for (let i = 0; i < Number(repsArg); i++) rates.push(once(tokens));
const sampleUs = (sampleMs * 1000) / (Number(repsArg) * (tokens - 1));
const sorted = [...rates].sort((a, b) => a - b);
console.log(`koffi sync ${shape} t=${threads} fa=${faArg} pool=${poolArg} ${sampleArg}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} tok/s [${rates.map((r) => r.toFixed(0)).join(" ")}] sampling ${sampleUs.toFixed(0)} us/token`);
process.exit(0);
