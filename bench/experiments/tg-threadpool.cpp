// Experiment: llama_decode of N single tokens in plain C++ against node-llama-cpp's prebuilt
// libllama/libggml without a persistent ggml threadpool (attach=0, as node-llama-cpp does; the
// attach=1 path failed in a quick try and was not pursued). Result: 157 tok/s at 2 threads vs
// llama-bench 159 (fa off) — the per-graph threadpool is not what halves node-llama-cpp at 2 threads.
// Build (from a dir of symlinks to node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 named
// libllama.so.0, libggml.so.0, libggml-base.so.0, plus the libggml-cpu-*.so files):
//   g++ -O2 -std=c++17 -I<llama.cpp>/include -I<llama.cpp>/ggml/include tg.cpp -o tg -L. \
//     -l:libllama.so.0 -l:libggml.so.0 -l:libggml-base.so.0 -Wl,-rpath,$PWD
// Run from that dir: ./tg <model.gguf> <threads> 0
// Decode N tokens one at a time with/without an attached ggml threadpool (prebuilt libs).
#include "llama.h"
#include "ggml-cpu.h"
#include "ggml-backend.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
int main(int argc, char ** argv) {
    const char * path = argv[1]; int n_threads = atoi(argv[2]); int attach = atoi(argv[3]); int n = 128;
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    ggml_backend_load_all();
    auto mp = llama_model_default_params(); mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(path, mp);
    auto cp = llama_context_default_params(); cp.n_ctx = 1024; cp.n_batch = 512; cp.n_threads = n_threads; cp.n_threads_batch = n_threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; cp.n_seq_max = 1;
    llama_context * ctx = llama_init_from_model(model, cp);
    ggml_threadpool * tp = nullptr;
    if (attach) {
        auto * reg = ggml_backend_dev_backend_reg(ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU));
        auto * tp_new = (decltype(ggml_threadpool_new) *) ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new");
        ggml_threadpool_params tpp; 
        auto * tp_def = (decltype(ggml_threadpool_params_default) *) ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_params_default");
        tpp = tp_def(n_threads);
        tp = tp_new(&tpp);
        llama_attach_threadpool(ctx, tp, nullptr);
    }
    for (int rep = 0; rep < 4; rep++) {
        llama_memory_clear(llama_get_memory(ctx), true);
        llama_token tok = 65;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; i++) {
            llama_batch b = llama_batch_get_one(&tok, 1);
            if (llama_decode(ctx, b)) { fprintf(stderr, "decode failed\n"); return 1; }
            tok = 66 + (i % 50);
        }
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        printf("threads %d attach %d: %.1f tok/s\n", n_threads, attach, n / s);
    }
    return 0;
}
