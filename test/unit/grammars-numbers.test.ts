// Numeric bounds, brute force: for many bound combinations, llama.cpp's matcher must accept
// exactly the candidate numbers that satisfy the bounds (candidates in canonical form).
import assert from "node:assert/strict";
import { test } from "node:test";
import { useLlama } from "./grammar-llama.ts";
import type { Matcher } from "./grammar-llama.ts";
import { compileJsonSchema } from "../../src/engines/llamacpp/grammars/index.ts";


const getLlama = useLlama();

let seed = 7;
const rnd = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.floor((seed / 2147483648) * n);
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];
const INTERESTING = [0, 1, 9, 10, 11, 99, 100, 101, 150, 999, 1000, 1234, 5, 42];

function randomBounds(): Record<string, number> {
  const bound = (): number => pick(INTERESTING) * (rnd(3) === 0 ? -1 : 1);
  const out: Record<string, number> = {};
  const lowKey = pick(["minimum", "exclusiveMinimum", null]);
  const highKey = pick(["maximum", "exclusiveMaximum", null]);
  if (lowKey) out[lowKey] = bound();
  if (highKey) out[highKey] = bound();
  return out;
}

function satisfies(v: number, b: Record<string, number>): boolean {
  return (
    (b.minimum === undefined || v >= b.minimum) &&
    (b.maximum === undefined || v <= b.maximum) &&
    (b.exclusiveMinimum === undefined || v > b.exclusiveMinimum) &&
    (b.exclusiveMaximum === undefined || v < b.exclusiveMaximum)
  );
}

function candidates(b: Record<string, number>, decimals: boolean): string[] {
  const out = new Set<string>(["0", "1", "-1", "7", "-7", "123456", "-123456"]);
  for (const x of Object.values(b)) {
    for (const d of [-2, -1, 0, 1, 2]) out.add(String(x + d));
    if (decimals) for (const d of [-0.5, -0.001, 0.001, 0.5]) out.add(String(Number((x + d).toFixed(3))));
  }
  if (decimals) for (const s of ["0.5", "-0.5", "0.0", "1.00", "-1.50", "0.001"]) out.add(s);
  for (let i = 0; i < 20; i++) out.add(String(rnd(3000) - 1500));
  return [...out];
}

async function check(type: "integer" | "number", rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const bounds = randomBounds();
    const schema = { type, ...bounds };
    const r = compileJsonSchema(schema);
    if (!r.ok) {
      // only an empty range may be refused
      assert.match(r.reason, /cannot be satisfied/, JSON.stringify(schema));
      assert.ok(candidates(bounds, true).every((c) => !satisfies(Number(c), bounds) || (type === "integer" && !Number.isInteger(Number(c)))));
      continue;
    }
    const g = (await getLlama().createGrammar({ grammar: r.gbnf })) as unknown as Matcher;
    for (const c of candidates(bounds, type === "number")) {
      const expected = satisfies(Number(c), bounds) && (type === "number" || Number.isInteger(Number(c)));
      assert.equal(g._testText(c), expected, `${c} for ${JSON.stringify(schema)}\n${r.gbnf}`);
    }
  }
}

test("integer bounds are enforced exactly", async () => {
  await check("integer", 120);
});

test("whole-number bounds on type number are enforced exactly", async () => {
  await check("number", 120);
});
