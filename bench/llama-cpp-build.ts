// Builds llama.cpp's own llama-bench and llama-server once, from the exact llama.cpp
// source node-llama-cpp ships (a git bundle in node_modules), into the cache.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
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

/** Finds the cached binaries or builds them (several minutes on 2 cores). */
export async function ensureLlamaCpp(log: (m: string) => void): Promise<LlamaCppBuild> {
  const { release, commit, srcDir } = llamaCppSource();
  const binDir = join(srcDir, "build", "bin");
  const result = { release, commit, binDir, llamaBench: join(binDir, "llama-bench"), llamaServer: join(binDir, "llama-server") };
  if (existsSync(result.llamaBench) && existsSync(result.llamaServer)) return result;

  if (!existsSync(join(srcDir, "CMakeLists.txt"))) {
    await step(`cloning ${BUNDLE}`, "git", ["clone", "--quiet", BUNDLE, srcDir], CACHE_DIR, 10 * 60_000, log);
    await step(`checking out ${commit}`, "git", ["checkout", "--quiet", commit], srcDir, 60_000, log);
    // The same patches node-llama-cpp applies when it builds from source (loader fixes only).
    for (const patch of existsSync(PATCHES_DIR) ? execFileSync("ls", [PATCHES_DIR], { encoding: "utf8" }).split("\n").filter((f) => f.endsWith(".diff")) : []) {
      await step(`applying ${patch}`, "git", ["apply", join(PATCHES_DIR, patch)], srcDir, 60_000, log);
    }
  }
  const configure = [
    "-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DGGML_CUDA=OFF", "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
  ];
  await step("configuring (cmake)", "cmake", configure, srcDir, 10 * 60_000, log);
  await step("building llama-bench and llama-server (cmake --build -j2, several minutes)", "cmake", ["--build", "build", "--target", "llama-bench", "llama-server", "-j2"], srcDir, 60 * 60_000, log);
  if (!existsSync(result.llamaBench) || !existsSync(result.llamaServer)) throw new Error(`llama.cpp build finished but ${binDir} lacks llama-bench/llama-server`);
  return result;
}
