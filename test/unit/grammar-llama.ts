// Shared by the grammar tests: one llama.cpp instance per test file (no model needed) and the
// type of node-llama-cpp's internal full-match check used to test grammars against texts.
import { after, before } from "node:test";
import { LlamaLogLevel, getLlama } from "node-llama-cpp";
import type { Llama } from "node-llama-cpp";

export type Matcher = { _testText(text: string): boolean };

/** Registers before/after hooks; call the returned function inside tests. */
export function useLlama(): () => Llama {
  let llama: Llama;
  before(async () => {
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: "never" });
  });
  after(async () => {
    await llama.dispose();
  });
  return () => llama;
}
