// GGUF v3 vocabulary shared by the reader and the writer: value types, tensor
// types (ggml_type ids with their block sizes) and small helpers to build typed
// metadata values. Spec: ggml/docs/gguf.md in llama.cpp.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

// On-disk ids of metadata value types.
export const GGUF_VALUE_TYPE_IDS = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7,
  string: 8, array: 9, u64: 10, i64: 11, f64: 12,
} as const;

export type GgufValueTypeName = keyof typeof GGUF_VALUE_TYPE_IDS;
export type GgufNumberType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';
export type GgufBigIntType = 'u64' | 'i64';
export type GgufScalarType = GgufNumberType | GgufBigIntType | 'bool' | 'string';
export type GgufScalar = number | bigint | boolean | string;

// Values carry their GGUF type so that a read → write round trip is exact
// (a JS number alone cannot say whether it was a u32, an i32 or an f32).
export type GgufArray =
  | { type: 'array'; itemType: GgufScalarType; value: readonly GgufScalar[] }
  | { type: 'array'; itemType: 'array'; value: readonly GgufArray[] };

export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | GgufArray;

export type GgufMetadata = Record<string, GgufValue>;

export const u8 = (value: number): GgufValue => ({ type: 'u8', value });
export const u32 = (value: number): GgufValue => ({ type: 'u32', value });
export const i32 = (value: number): GgufValue => ({ type: 'i32', value });
export const f32 = (value: number): GgufValue => ({ type: 'f32', value });
export const u64 = (value: bigint): GgufValue => ({ type: 'u64', value });
export const bool = (value: boolean): GgufValue => ({ type: 'bool', value });
export const str = (value: string): GgufValue => ({ type: 'string', value });
export function arr(itemType: GgufScalarType, value: readonly GgufScalar[]): GgufArray {
  return { type: 'array', itemType, value };
}

/** The plain JS value of a metadata entry (arrays become JS arrays), or undefined. */
export function metaGet(metadata: GgufMetadata, key: string): unknown {
  const v = metadata[key];
  if (v === undefined) return undefined;
  return plain(v);
}

function plain(v: GgufValue): unknown {
  if (v.type === 'array' && v.itemType === 'array') return (v.value as readonly GgufArray[]).map(plain);
  return v.value;
}

// ggml_type ids → [name, elements per block, bytes per block]; checked against
// ggml_type_name/ggml_blck_size/ggml_type_size of the libggml that node-llama-cpp ships.
const GGML_TYPE_TABLE: Record<number, readonly [string, number, number]> = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20],
  6: ['Q5_0', 32, 22], 7: ['Q5_1', 32, 24], 8: ['Q8_0', 32, 34], 9: ['Q8_1', 32, 36],
  10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110], 12: ['Q4_K', 256, 144], 13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210], 15: ['Q8_K', 256, 292], 16: ['IQ2_XXS', 256, 66], 17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98], 19: ['IQ1_S', 256, 50], 20: ['IQ4_NL', 32, 18], 21: ['IQ3_S', 256, 110],
  22: ['IQ2_S', 256, 82], 23: ['IQ4_XS', 256, 136], 24: ['I8', 1, 1], 25: ['I16', 1, 2],
  26: ['I32', 1, 4], 27: ['I64', 1, 8], 28: ['F64', 1, 8], 29: ['IQ1_M', 256, 56],
  30: ['BF16', 1, 2], 34: ['TQ1_0', 256, 54], 35: ['TQ2_0', 256, 66], 39: ['MXFP4', 32, 17],
  40: ['NVFP4', 64, 36], 41: ['Q1_0', 128, 18], 42: ['Q2_0', 64, 18],
};

export const GGML_TYPE = {
  F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q5_K: 13, Q6_K: 14, BF16: 30,
} as const;

export function ggmlTypeName(type: number): string {
  return GGML_TYPE_TABLE[type]?.[0] ?? `UNKNOWN(${type})`;
}

/** Bytes of a tensor's data; throws on unknown types or rows that do not fill whole blocks. */
export function tensorBytes(type: number, dims: readonly number[]): number {
  const t = GGML_TYPE_TABLE[type];
  if (!t) throw new Error(`unknown ggml tensor type ${type}`);
  const [name, block, size] = t;
  const ne0 = dims[0] ?? 1;
  if (ne0 % block !== 0) throw new Error(`${name} needs rows that are a multiple of ${block}, got ${ne0}`);
  let n = 1;
  for (const d of dims) n *= d;
  return (n / block) * size;
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
