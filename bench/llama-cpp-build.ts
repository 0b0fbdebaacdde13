// Builds llama.cpp's own llama-bench and llama-server once, from the exact llama.cpp
// source node-llama-cpp ships (a git bundle in node_modules), into the cache.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CACHE_DIR, LOGS_DIR } from "./cache.ts";
import { runToEnd } from "./children.ts";

const NLC_LLAMA_DIR = fileURLToPath(new URL("../node_modules/node-llama-cpp/llama/", import.meta.url));
const BUNDLE = join(NLC_LLAMA_DIR, "gitRelease.bundle");
const PATCHES_DIR = join(NLC_LLAMA_DIR, "patches");

export interface LlamaCppBuild {
  release: string;
  commit: string;
  binDir: string;
  llamaBench: string;
  llamaServer: string;
}

/** The release tag and the bundle's commit (what node-llama-cpp's prebuilt binaries are built from). */
export function llamaCppSource(): { release: string; commit: string; srcDir: string } {
  const release = (JSON.parse(readFileSync(join(NLC_LLAMA_DIR, "llama.cpp.info.json"), "utf8")) as { tag: string }).tag;
  const heads = execFileSync("git", ["bundle", "list-heads", BUNDLE], { encoding: "utf8", timeout: 60_000 });
  const commit = heads.split(/\s+/)[0];
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`cannot read the commit of ${BUNDLE}`);
  return { release, commit, srcDir: join(CACHE_DIR, `llama.cpp-${release}-${commit.slice(0, 8)}`) };
}

async function step(label: string, cmd: string, args: string[], cwd: string, timeoutMs: number, log: (m: string) => void): Promise<void> {
  log(`llama.cpp: ${label}`);
  const logFile = join(LOGS_DIR, "llama.cpp-build.log");
  const r = await runToEnd(cmd, args, { cwd, timeoutMs, logFile });
  if (r.code !== 0) throw new Error(`llama.cpp ${label} failed (${r.code}); see ${logFile}\n${r.stderr.split("\n").slice(-15).join("\n")}`);
}

/** Clones the bundle and applies node-llama-cpp's patches, once. */
async function ensureSource(srcDir: string, commit: string, log: (m: string) => void): Promise<void> {
  if (existsSync(join(srcDir, "CMakeLists.txt"))) return;
  await step(`cloning ${BUNDLE}`, "git", ["clone", "--quiet", BUNDLE, srcDir], CACHE_DIR, 10 * 60_000, log);
  await step(`checking out ${commit}`, "git", ["checkout", "--quiet", commit], srcDir, 60_000, log);
  // The same patches node-llama-cpp applies when it builds from source (loader fixes only).
  for (const patch of existsSync(PATCHES_DIR) ? execFileSync("ls", [PATCHES_DIR], { encoding: "utf8" }).split("\n").filter((f) => f.endsWith(".diff")) : []) {
    await step(`applying ${patch}`, "git", ["apply", join(PATCHES_DIR, patch)], srcDir, 60_000, log);
  }
}

/** Throws when a built binary does not start on this machine (e.g. SIGILL: an instruction this CPU lacks). */
function checkStarts(binary: string): void {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${binary} does not start on this machine (exit ${r.status}, signal ${r.signal}): ${(r.stderr ?? "").split("\n").slice(-5).join(" ")}`);
}

const COMMON_FLAGS = ["-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF", "-DGGML_CUDA=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF"];

/**
 * Finds the cached binaries or builds them (several minutes on 2 cores). Built the way
 * node-llama-cpp's prebuilt binaries are: GGML_NATIVE=OFF with dynamically loaded backends and
 * every x86-64 CPU variant (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS), so the binaries start on any
 * x86-64 machine (a native build died with SIGILL on a VM advertising AMX) and still pick the
 * fastest kernels the machine has: a fair peer for Ingot's libllama.
 */
export async function ensureLlamaCpp(log: (m: string) => void): Promise<LlamaCppBuild> {
  const { release, commit, srcDir } = llamaCppSource();
  const binDir = join(srcDir, "build-dl", "bin");
  const result = { release, commit, binDir, llamaBench: join(binDir, "llama-bench"), llamaServer: join(binDir, "llama-server") };
  if (existsSync(result.llamaBench) && existsSync(result.llamaServer)) return result;
  await ensureSource(srcDir, commit, log);
  const configure = ["-S", ".", "-B", "build-dl", ...COMMON_FLAGS, "-DGGML_NATIVE=OFF", "-DGGML_BACKEND_DL=ON", "-DGGML_CPU_ALL_VARIANTS=ON", "-DBUILD_SHARED_LIBS=ON"];
  await step("configuring (cmake, all CPU variants)", "cmake", configure, srcDir, 10 * 60_000, log);
  // The CPU variants are backends loaded at run time (ggml-cpu-x64, -haswell, -skylakex, …): no binary depends on them, so they are named.
  const targets = execFileSync("cmake", ["--build", "build-dl", "--target", "help"], { cwd: srcDir, encoding: "utf8", timeout: 60_000 });
  const variants = [...new Set([...targets.matchAll(/\b(ggml-cpu-[A-Za-z0-9_.]+)\b/g)].map((m) => m[1]))];
  if (variants.length === 0) throw new Error("llama.cpp: the build lists no ggml-cpu-* variant targets; see the configure log");
  await step(`building llama-bench, llama-server and ${variants.length} CPU variants (cmake --build -j2, many minutes)`, "cmake", ["--build", "build-dl", "--target", "llama-bench", "llama-server", ...variants, "-j2"], srcDir, 120 * 60_000, log);
  if (!existsSync(result.llamaBench) || !existsSync(result.llamaServer)) throw new Error(`llama.cpp build finished but ${binDir} lacks llama-bench/llama-server`);
  checkStarts(result.llamaServer);
  return result;
}

/**
 * llama-server alone, one portable CPU variant (GGML_NATIVE=OFF, static): what the upstream-engine
 * tests and the gateway-overhead bench run against. Small to build (one target, one variant), and it
 * starts on any x86-64 CI machine. Not a fair speed peer for bench/ (see ensureLlamaCpp).
 */
export async function ensurePortableLlamaServer(log: (m: string) => void): Promise<{ release: string; commit: string; llamaServer: string }> {
  const { release, commit, srcDir } = llamaCppSource();
  const llamaServer = join(srcDir, "build-portable", "bin", "llama-server");
  // CI builds it in the background while the tests run; a test that needs it meanwhile waits
  // for that build (the binary may exist half-linked) instead of starting a second one.
  return withLock(`${srcDir}.portable.lock`, log, async () => {
    if (!existsSync(llamaServer)) await buildPortable(srcDir, commit, llamaServer, log);
    checkStarts(llamaServer);
    return { release, commit, llamaServer };
  });
}

async function buildPortable(srcDir: string, commit: string, llamaServer: string, log: (m: string) => void): Promise<void> {
  await ensureSource(srcDir, commit, log);
  const configure = ["-S", ".", "-B", "build-portable", ...COMMON_FLAGS, "-DGGML_NATIVE=OFF", "-DBUILD_SHARED_LIBS=OFF"];
  await step("configuring llama-server (cmake, portable)", "cmake", configure, srcDir, 10 * 60_000, log);
  await step("building llama-server (cmake --build -j2, a few minutes)", "cmake", ["--build", "build-portable", "--target", "llama-server", "-j2"], srcDir, 60 * 60_000, log);
  if (!existsSync(llamaServer)) throw new Error(`llama.cpp build finished but ${llamaServer} is missing`);
}

/** Runs `fn` holding a lock file that names this process; a lock whose process is gone is taken over. */
async function withLock<T>(lock: string, log: (m: string) => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
  let said = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = Number(readFileSync(lock, "utf8").trim() || "0");
    if (holder > 0 && !alive(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (!said) log(`llama.cpp: waiting for the build of process ${holder || "?"} (${lock})`);
    said = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
