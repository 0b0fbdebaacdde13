// Seeded, fast, platform-independent random weights.
// xoshiro128** gives 32 random bits per step; each 16-bit half indexes a table of
// 65,536 standard-normal quantiles: no log/sqrt/cos per sample as in Box-Muller,
// about 1.4 ns per weight here, which matters for the ~500 M weights of
// qwen2.5-0.5b. The table (±4.2 sigma at the ends) is plenty for random weights.
import { createHash } from 'node:crypto';

export interface RngState {
  s: Uint32Array; // 4 words of xoshiro128** state
}

/** An independent stream per (seed, label): tensors can be generated in any order. */
export function rngFor(seed: number | string, label: string): RngState {
  const d = createHash('sha256').update(`ingot-gguf\0${seed}\0${label}`).digest();
  const s = new Uint32Array([d.readUInt32LE(0), d.readUInt32LE(4), d.readUInt32LE(8), d.readUInt32LE(12)]);
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // the all-zero state is a fixed point
  return { s };
}

const NORMAL_TABLE = buildNormalTable();

// Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
function inverseNormalCdf(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < lo ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

function buildNormalTable(): Float64Array {
  const t = new Float64Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = inverseNormalCdf((i + 0.5) / 65536);
  return t;
}

/** Fills `out` with N(0, std²) samples and advances the stream. */
export function fillNormal(rng: RngState, out: Float32Array, std: number): void {
  const st = rng.s;
  let s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  const table = NORMAL_TABLE;
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    // xoshiro128**: result = rotl(s1 * 5, 7) * 9
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = table[r & 0xffff] * std;
    if (i + 1 < n) out[i + 1] = table[r >>> 16] * std;
  }
  st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
}
