// One training session in libllama: a model loaded for training, a context whose
// cb_eval hook carries the workarounds this build needs, and step()/evaluate() over
// one padded window at a time. Used by the LoRA worker and by the tiny-chat pre-training.
//
// Workarounds for node-llama-cpp 3.22.1's libllama (see the trainer study):
// - gradient accumulators are never zeroed by the library (non-static ggml_opt graphs):
//   the hook records the gradient tensor of every OPT_STEP_ADAMW node and we zero them
//   after each step (the n_batch = k·n_ubatch route does not help: ggml_opt_alloc resets
//   gb_grad, which is NULL at that point for non-static graphs — measured, see README);
// - llama_opt_epoch ignores n_threads until one llama_decode has run: warm-up decode;
// - n_ctx is padded to a multiple of 256, and every datapoint is exactly n_ctx tokens;
// - the graph node budget is 8·n_tensors: extra unattached "budget" adapters raise it;
// - AdamW steps after every window: for batches, the hook turns all but the last into no-ops;
// - loss mask: ggml's cross-entropy backward is (softmax − label)/rows, so a zero label
//   row still pushes gradient; the hook zeroes the masked rows of CROSS_ENTROPY_LOSS_BACK's
//   output instead (and rescales the rest to a mean over trained tokens).
import type { LlamaLib, Ptr } from '../../native/libllama.ts';
import {
  GGML_OP, ViewCache, address, koffi, tensorData, tensorName, tensorNe, tensorOp, tensorSrc,
  EvalCallback, OptimizerParams, ParamFilter,
} from '../../native/libllama.ts';

export interface SessionOptions {
  modelPath: string;
  /** Tokens per window; rounded up to a multiple of 256 by libllama. */
  window: number;
  threads: number;
  mode: 'lora' | 'full';
  /** LoRA: the adapter whose tensors are trained (its A/B are the starting point). */
  adapterPath?: string;
  /** Adapters loaded but never attached: each raises the graph node budget (6 nodes per tensor pair). */
  budgetAdapterPaths?: string[];
  /** Full fine-tune: which tensors train (default: all that libllama allows). */
  fullFilter?: (name: string) => boolean;
  /** Zero the gradient of masked positions (default true). */
  maskLoss?: boolean;
  /** Skip the gradient-zeroing workaround (only for the experiment that shows it is needed). */
  noGradZero?: boolean;
  /** Physical batch (default: the window); window/ubatch > 1 makes libllama accumulate gradients (experiments). */
  ubatch?: number;
}

export interface WindowInput {
  /** Input tokens (length = window). */
  tokens: Int32Array;
  /** Next-token labels (length = window). */
  labels: Int32Array;
  /** 1 where the label is trained (and counted in metrics), 0 elsewhere. */
  mask: Uint8Array;
}

export interface WindowMetrics {
  /** Mean cross-entropy over trained positions. */
  loss: number;
  /** Share of trained positions whose argmax is the label. */
  accuracy: number;
  /** Trained positions. */
  tokens: number;
  /** Mean cross-entropy over the masked-out non-pad positions (for checking the mask); NaN when none. */
  maskedLoss: number;
}

export interface AdamParams {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

interface Acc { loss: number; correct: number; n: number; mLoss: number; mN: number }

function summarize(a: Acc): WindowMetrics {
  return { loss: a.n ? a.loss / a.n : NaN, accuracy: a.n ? a.correct / a.n : NaN, tokens: a.n, maskedLoss: a.mN ? a.mLoss / a.mN : NaN };
}

export class TrainingSession {
  readonly lib: LlamaLib;
  readonly window: number;
  readonly nVocab: number;
  readonly vocab: Ptr;
  /** LoRA tensors found in the graph, by name (e.g. "blk.0.attn_q.weight.lora_a"). */
  readonly loraTensors = new Map<string, Ptr>();
  /** Nodes the last training step evaluated (ask-pass calls). */
  lastNodeCount = 0;
  #model: Ptr;
  #ctx: Ptr;
  #ds: Ptr;
  #result: Ptr;
  #optPars: Ptr;
  #cb: bigint;
  #filter: bigint;
  #dsTokens: Int32Array;
  #dsLabels: Int32Array;
  #grads = new Map<bigint, { data: bigint; bytes: number }>();
  #views = new ViewCache();
  #phase: 'discover' | 'train' | 'eval' = 'discover';
  #cur: WindowInput | undefined;
  #acc: Acc = { loss: 0, correct: 0, n: 0, mLoss: 0, mN: 0 };
  #mask: boolean;
  #noGradZero: boolean;
  #nodes = 0;
  #ubatch: number;
  #rowBase = { measure: 0, mask: 0 };
  #hookError: unknown;
  #adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
  #adamStep = 0;
  #biasCorrection = [1, 1];
  #noopStep = false;
  #adamParamsDone = 0n;
  #batchTrained = 0;
  #closed = false;

  constructor(lib: LlamaLib, opts: SessionOptions) {
    this.lib = lib;
    this.#mask = opts.maskLoss ?? true;
    this.#noGradZero = opts.noGradZero ?? false;
    const mp = lib.modelDefaultParams();
    mp.n_gpu_layers = 0;
    mp.load_mode = 0; // NONE: weights must be writable host memory, not an mmap
    mp.use_extra_bufts = false; // no repacked weights: training reads them as plain tensors
    this.#model = lib.modelLoad(opts.modelPath, mp);
    if (!this.#model) throw new Error(`libllama could not load ${opts.modelPath} (see the log above)`);
    this.vocab = lib.modelVocab(this.#model);
    this.nVocab = lib.vocabNTokens(this.vocab);

    let adapter: Ptr = null;
    if (opts.mode === 'lora') {
      if (!opts.adapterPath) throw new Error('LoRA training needs an adapter file');
      adapter = lib.adapterInit(this.#model, opts.adapterPath);
      if (!adapter) throw new Error(`libllama could not load the adapter ${opts.adapterPath} (see the log above)`);
    }
    for (const p of opts.budgetAdapterPaths ?? []) {
      if (!lib.adapterInit(this.#model, p)) throw new Error(`libllama could not load the budget adapter ${p}`);
    }

    this.#cb = koffi.register((t: Ptr, ask: boolean) => this.#onEval(t, ask), koffi.pointer(EvalCallback));
    const cp = lib.contextDefaultParams();
    Object.assign(cp, {
      n_ctx: opts.window, n_batch: opts.window, n_ubatch: opts.ubatch ?? opts.window, n_seq_max: 1,
      n_threads: opts.threads, n_threads_batch: opts.threads,
      flash_attn_type: 0, // FLASH_ATTN_EXT has no backward pass
      type_k: 0, type_v: 0, // F32 KV cache: the attention backward reads K/V from it
      cb_eval: this.#cb, cb_eval_user_data: null,
      no_perf: true, embeddings: false,
    });
    this.#ctx = lib.initFromModel(this.#model, cp);
    if (!this.#ctx) throw new Error('libllama could not create a training context (see the log above)');
    this.window = lib.nCtx(this.#ctx);
    this.#ubatch = Math.min(opts.ubatch ?? this.window, this.window);

    if (adapter && lib.setAdapters(this.#ctx, [adapter], [1]) !== 0) throw new Error('llama_set_adapters_lora failed');
    // Warm-up: makes later graphs honour n_threads, installs cb_eval on the scheduler,
    // and lets the hook find the adapter's tensors in the graph.
    if (lib.decodeOne(this.#ctx, 0) !== 0) throw new Error('warm-up llama_decode failed');
    this.#phase = 'train';

    if (opts.mode === 'lora') {
      if (this.loraTensors.size === 0) throw new Error('no LoRA tensors found in the graph');
      for (const t of this.loraTensors.values()) lib.setParam(t);
      this.#filter = koffi.register(() => false, koffi.pointer(ParamFilter));
    } else {
      const keep = opts.fullFilter;
      this.#filter = keep
        ? koffi.register((t: Ptr) => keep(tensorName(t)), koffi.pointer(ParamFilter))
        : koffi.register(() => true, koffi.pointer(ParamFilter));
    }
    this.#optPars = koffi.alloc(OptimizerParams, 1);
    this.setAdam({ lr: 1e-3 });
    lib.optInit(this.#ctx, this.#model, {
      n_ctx_train: 0,
      param_filter: this.#filter, param_filter_ud: null,
      get_opt_pars: lib.constantOptimizerParams, get_opt_pars_ud: this.#optPars,
      optimizer_type: 0, // AdamW
    });

    this.#ds = lib.datasetInit(this.window, 1);
    this.#dsTokens = this.#views.ints(address(lib.getData(lib.datasetData(this.#ds))), this.window);
    this.#dsLabels = this.#views.ints(address(lib.getData(lib.datasetLabels(this.#ds))), this.window);
    this.#result = lib.resultInit();
  }

  setAdam(p: AdamParams): void {
    this.#adam = { lr: p.lr, beta1: p.beta1 ?? 0.9, beta2: p.beta2 ?? 0.999, eps: p.eps ?? 1e-8, weightDecay: p.weightDecay ?? 0 };
    const a = this.#adam;
    koffi.encode(this.#optPars, OptimizerParams, { alpha: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps, wd: a.weightDecay, sgd_alpha: a.lr, sgd_wd: 0 });
  }

  /** Native views made so far (for leak checks: it stays flat when buffers keep their addresses). */
  get viewCount(): number {
    return this.#views.size;
  }

  /** Optimizer steps taken so far. */
  get steps(): number {
    return this.#adamStep;
  }

  /**
   * One optimizer step over a batch of windows (gradients summed over the batch; with the
   * loss mask, the step follows the mean loss over all of the batch's trained tokens).
   * libllama steps after every window, so for all but the last window the hook turns
   * AdamW into an exact no-op (lr 0, beta1 = beta2 = 1), and it sets the bias corrections
   * from our own step count, which the no-op steps do not advance.
   */
  step(batch: WindowInput | WindowInput[]): WindowMetrics {
    const windows = Array.isArray(batch) ? batch : [batch];
    if (!windows.length) throw new Error('empty batch');
    this.#batchTrained = 0;
    for (const w of windows) for (let i = 0; i < w.mask.length; i++) this.#batchTrained += w.mask[i];
    this.#adamStep++;
    const a = this.#adam;
    this.#biasCorrection = [1 / (1 - a.beta1 ** this.#adamStep), 1 / (1 - a.beta2 ** this.#adamStep)];
    const total: Acc = { loss: 0, correct: 0, n: 0, mLoss: 0, mN: 0 };
    for (let k = 0; k < windows.length; k++) {
      this.#noopStep = k < windows.length - 1;
      const acc = this.#run(windows[k], true);
      for (const key of Object.keys(total) as (keyof Acc)[]) total[key] += acc[key];
    }
    this.#noopStep = false;
    if (!this.#noGradZero) for (const g of this.#grads.values()) this.#views.bytes(g.data, g.bytes).fill(0);
    return summarize(total);
  }

  /** Forward only: loss and accuracy on the window's trained positions. */
  evaluate(w: WindowInput): WindowMetrics {
    return summarize(this.#run(w, false));
  }

  #run(w: WindowInput, train: boolean): Acc {
    if (this.#closed) throw new Error('session closed');
    if (w.tokens.length !== this.window || w.labels.length !== this.window || w.mask.length !== this.window) {
      throw new Error(`window must be exactly ${this.window} tokens`);
    }
    this.#dsTokens.set(w.tokens);
    this.#dsLabels.set(w.labels);
    this.#cur = w;
    this.#acc = { loss: 0, correct: 0, n: 0, mLoss: 0, mN: 0 };
    this.#rowBase = { measure: 0, mask: 0 };
    this.#phase = train ? 'train' : 'eval';
    this.#adamParamsDone = 0n;
    this.#nodes = 0;
    this.#hookError = undefined;
    this.lib.optEpoch(this.#ctx, this.#ds, train ? this.#result : null, train ? null : this.#result, train ? 1 : 0, null, null);
    this.lib.resultReset(this.#result);
    this.lastNodeCount = this.#nodes;
    if (this.#hookError) throw this.#hookError;
    if (this.#rowBase.measure !== this.window) throw new Error('the loss hook did not see the whole window');
    return this.#acc;
  }

  #onEval(t: Ptr, ask: boolean): boolean {
    try {
      return this.#hook(t, ask);
    } catch (e) {
      // An exception would reach libllama as `false`, which silently stops the graph.
      this.#hookError ??= e;
      return ask ? false : true;
    }
  }

  #hook(t: Ptr, ask: boolean): boolean {
    const op = tensorOp(t);
    if (ask) {
      this.#nodes++;
      switch (this.#phase) {
        case 'discover':
          if (op === GGML_OP.MUL_MAT) {
            const a = tensorSrc(t, 0);
            const name = tensorName(a);
            if (name.endsWith('.lora_a') || name.endsWith('.lora_b')) this.loraTensors.set(name, a);
          }
          return false;
        case 'train':
          if (op === GGML_OP.OPT_STEP_ADAMW) {
            const g = tensorSrc(t, 1);
            const data = tensorData(g);
            if (!this.#grads.has(data)) this.#grads.set(data, { data, bytes: this.lib.nbytes(g) });
            // The 7 AdamW inputs (alpha, beta1, beta2, eps, wd, beta1h, beta2h), written by
            // ggml_opt_eval before the graph runs; this node has not run yet. The tensor is
            // reallocated every step (no cached view): koffi.encode writes in place.
            const p = tensorData(tensorSrc(t, 4));
            if (p !== this.#adamParamsDone) {
              this.#adamParamsDone = p;
              const values = this.#noopStep ? [0, 1, 1, this.#adam.eps, 0, 1, 1] : [this.#adam.lr, this.#adam.beta1, this.#adam.beta2, this.#adam.eps, this.#adam.weightDecay, ...this.#biasCorrection];
              koffi.encode(p, 'float', values, 7);
            }
            return false;
          }
          return op === GGML_OP.CROSS_ENTROPY_LOSS || (this.#mask && op === GGML_OP.CROSS_ENTROPY_LOSS_BACK);
        case 'eval':
          return op === GGML_OP.CROSS_ENTROPY_LOSS;
      }
    }
    if (op === GGML_OP.CROSS_ENTROPY_LOSS) this.#measure(tensorSrc(t, 0));
    else if (op === GGML_OP.CROSS_ENTROPY_LOSS_BACK) this.#maskGrad(t);
    return true;
  }

  // Loss and accuracy on the trained positions, from the logits the graph just computed.
  #measure(logitsT: Ptr): void {
    const w = this.#cur!;
    const nv = this.nVocab;
    const [ne0, rows] = tensorNe(logitsT);
    if (ne0 !== nv || rows !== this.#ubatch) throw new Error(`unexpected logits shape ${ne0}x${rows}`);
    const logits = this.#views.floats(tensorData(logitsT), nv * rows);
    const base = this.#rowBase.measure;
    this.#rowBase.measure += rows;
    const a = this.#acc;
    const pad = w.tokens[this.window - 1];
    for (let r = 0; r < rows; r++) {
      const i = base + r;
      const trained = w.mask[i] === 1;
      // Masked non-pad positions are measured too: their loss shows whether the mask holds.
      if (!trained && w.labels[i] === pad && w.tokens[i] === pad) continue;
      const row = logits.subarray(r * nv, (r + 1) * nv);
      let max = -Infinity, arg = 0;
      for (let j = 0; j < nv; j++) if (row[j] > max) { max = row[j]; arg = j; }
      let sum = 0;
      for (let j = 0; j < nv; j++) sum += Math.exp(row[j] - max);
      const nll = Math.log(sum) + max - row[w.labels[i]];
      if (trained) {
        a.loss += nll;
        a.n++;
        if (arg === w.labels[i]) a.correct++;
      } else {
        a.mLoss += nll;
        a.mN++;
      }
    }
  }

  // d(loss)/d(logits) rows of masked positions → 0; trained rows scaled so that the step
  // follows the mean loss over the window's trained tokens rather than over all its rows.
  #maskGrad(t: Ptr): void {
    const w = this.#cur!;
    const nv = this.nVocab;
    const rows = this.#ubatch;
    const grad = this.#views.floats(tensorData(t), nv * rows);
    const base = this.#rowBase.mask;
    this.#rowBase.mask += rows;
    const n = this.#phase === 'train' ? this.#batchTrained : 0;
    const scale = n ? rows / n : 0;
    for (let r = 0; r < rows; r++) {
      const row = grad.subarray(r * nv, (r + 1) * nv);
      if (w.mask[base + r] !== 1) row.fill(0);
      else if (scale !== 1) for (let j = 0; j < nv; j++) row[j] *= scale;
    }
  }

  /** Current values of a LoRA tensor (F32). */
  readLora(name: string): Float32Array {
    const t = this.loraTensors.get(name);
    if (!t) throw new Error(`no LoRA tensor ${name}`);
    const bytes = this.lib.nbytes(t);
    const out = new Uint8Array(bytes);
    this.lib.tensorGet(t, out, 0, bytes);
    return new Float32Array(out.buffer);
  }

  /** Writes the whole model (full fine-tune); libllama drops some metadata, see pretrain.ts. */
  saveModel(path: string): void {
    this.lib.modelSave(this.#model, path);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.lib.resultFree(this.#result);
    this.lib.datasetFree(this.#ds);
    this.lib.free(this.#ctx);
    this.lib.modelFree(this.#model);
    koffi.unregister(this.#cb);
    koffi.unregister(this.#filter);
    koffi.free(this.#optPars);
  }
}
