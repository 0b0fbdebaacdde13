// Checks a LoRA adapter GGUF against its base before a runner loads it, so that a wrong or
// broken file fails its deployment with a reason (llama.cpp only says "Failed to initialize").
// The rules are llama.cpp's (llama-adapter.cpp): same architecture, and for each adapted
// weight W of shape [in, out], `W.lora_a` is [in, r] and `W.lora_b` is [r, out].
import { metaGet } from "../gguf/format.ts";
import { readGguf } from "../gguf/reader.ts";

/** Returns what is wrong with the adapter, or undefined when it fits the base. */
export async function adapterProblem(adapterPath: string, basePath: string): Promise<string | undefined> {
  let adapter;
  try {
    adapter = await readGguf(adapterPath);
  } catch (e) {
    return `it is not a readable GGUF file (${(e as Error).message})`;
  }
  const type = metaGet(adapter.metadata, "general.type");
  if (type !== "adapter") return `it is not an adapter (general.type is ${type === undefined ? "missing" : `'${String(type)}'`}, expected 'adapter')`;
  const kind = metaGet(adapter.metadata, "adapter.type");
  if (kind !== "lora") return `it is not a LoRA adapter (adapter.type is ${kind === undefined ? "missing" : `'${String(kind)}'`}, expected 'lora')`;
  const base = await readGguf(basePath);
  const arch = metaGet(adapter.metadata, "general.architecture");
  const baseArch = metaGet(base.metadata, "general.architecture");
  if (arch !== baseArch) return `its architecture '${String(arch)}' is not the base model's '${String(baseArch)}'`;

  const baseDims = new Map(base.tensors.map((t) => [t.name, t.dims]));
  const pairs = new Map<string, { a?: number[]; b?: number[] }>();
  for (const t of adapter.tensors) {
    const m = /^(.*)\.lora_([ab])$/.exec(t.name);
    if (!m) continue;
    const pair = pairs.get(m[1]) ?? {};
    pair[m[2] as "a" | "b"] = t.dims;
    pairs.set(m[1], pair);
  }
  if (pairs.size === 0) return "it has no LoRA tensors (<weight>.lora_a / <weight>.lora_b)";
  const shape = (d: readonly number[]) => `[${d.join(", ")}]`;
  for (const [name, { a, b }] of pairs) {
    if (!a || !b) return `tensor ${name} has only its lora_${a ? "a" : "b"} half`;
    const w = baseDims.get(name);
    if (!w) return `it adapts ${name}, which the base model does not have (wrong base model?)`;
    // token_embd is applied as a lookup, so llama.cpp expects its A and B as [r, vocab] and [r, embd].
    const embd = name === "token_embd.weight";
    const ok = embd ? a[0] === b[0] && a[1] === w[1] && b[1] === w[0] : a[0] === w[0] && a[1] === b[0] && b[1] === w[1];
    const expected = embd ? `[r, ${w[1]}] and [r, ${w[0]}]` : `[${w[0]}, r] and [r, ${w[1]}]`;
    if (!ok) return `${name}.lora_a ${shape(a)} and .lora_b ${shape(b)} do not fit the base weight ${shape(w)} (expected ${expected}; wrong base model?)`;
  }
  return undefined;
}
