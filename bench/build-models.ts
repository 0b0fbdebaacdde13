// Builds (or finds) the benchmark models without running anything else:
// node bench/build-models.ts [shape,...]
import { ensureCacheDirs } from "./cache.ts";
import { BENCH_SHAPES, ensureBenchModel, isBenchShape } from "./models.ts";

ensureCacheDirs();
const shapes = process.argv[2]?.split(",") ?? [...BENCH_SHAPES];
for (const shape of shapes) {
  if (!isBenchShape(shape)) throw new Error(`unknown shape ${shape} (known: ${BENCH_SHAPES.join(", ")})`);
  console.log(await ensureBenchModel(shape, console.log));
}
