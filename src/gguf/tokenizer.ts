// A GPT-2 byte-level vocabulary with ChatML control tokens, as GGUF metadata.
// Every UTF-8 string tokenizes (one token per byte, no merges) and round-trips.
import { arr, bool, str, u32 } from './format.ts';
import type { GgufMetadata } from './format.ts';

// llama_token_type values (llama.h).
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export const BYTE_TOKENS = 256;
// The fill-in-the-middle tokens let legacy completions honour `suffix` (as Qwen2.5 does).
export const CONTROL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>'] as const;
export const MIN_VOCAB = BYTE_TOKENS + CONTROL_TOKENS.length; // 262

// The standard ChatML template (as in the Hugging Face chat-templating docs).
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface Vocab {
  tokens: string[];
  types: number[];
  endOfTextId: number;
  imStartId: number;
  imEndId: number;
  fimPrefixId: number;
  fimMiddleId: number;
  fimSuffixId: number;
  bosId: number;
  eosId: number;
  /** Ids of CONTROL tokens (all of them end generation except <|im_start|>). */
  controlIds: number[];
}

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100.. */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(printable(b) ? b : 256 + n++);
  return out;
}

// Bijective base 26: 0 → a, 25 → z, 26 → aa, ...
function letters(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
  return s;
}

/**
 * Byte tokens (id = byte value), then the control tokens, then fillers up to `size`.
 * Fillers let a benchmark shape have its real vocab size (and so a real-sized output
 * layer). They are NORMAL tokens spelled "Ġ" + letters (a space and a word once
 * decoded): USER_DEFINED fillers would be scanned by llama.cpp's special-token pass on
 * every tokenize call (150k of them for Qwen), and UNUSED ones detokenize to "".
 * With no merges, tokenizing text never produces a filler; generation can.
 */
export function buildVocab(size: number = MIN_VOCAB): Vocab {
  if (!Number.isInteger(size) || size < MIN_VOCAB) throw new Error(`vocab size must be an integer >= ${MIN_VOCAB}`);
  const tokens = bytesToUnicode();
  const types: number[] = new Array(BYTE_TOKENS).fill(TOKEN_TYPE.NORMAL);
  for (const t of CONTROL_TOKENS) {
    tokens.push(t);
    types.push(TOKEN_TYPE.CONTROL);
  }
  for (let i = 0; tokens.length < size; i++) {
    tokens.push('\u0120' + letters(i));
    types.push(TOKEN_TYPE.NORMAL);
  }
  const endOfTextId = BYTE_TOKENS;
  const imStartId = BYTE_TOKENS + 1;
  const imEndId = BYTE_TOKENS + 2;
  return {
    tokens, types, endOfTextId, imStartId, imEndId,
    fimPrefixId: BYTE_TOKENS + 3,
    fimMiddleId: BYTE_TOKENS + 4,
    fimSuffixId: BYTE_TOKENS + 5,
    bosId: endOfTextId,
    eosId: imEndId, // a ChatML turn ends with <|im_end|> (as in Qwen2.5-Instruct)
    controlIds: [endOfTextId, imStartId, imEndId, BYTE_TOKENS + 3, BYTE_TOKENS + 4, BYTE_TOKENS + 5],
  };
}

/** The tokenizer.* keys llama.cpp needs (merges must be present even when empty). */
export function tokenizerMetadata(vocab: Vocab, chatTemplate: string = CHATML_TEMPLATE): GgufMetadata {
  return {
    'tokenizer.ggml.model': str('gpt2'),
    'tokenizer.ggml.pre': str('gpt-2'),
    'tokenizer.ggml.tokens': arr('string', vocab.tokens),
    'tokenizer.ggml.token_type': arr('i32', vocab.types),
    'tokenizer.ggml.merges': arr('string', []),
    'tokenizer.ggml.bos_token_id': u32(vocab.bosId),
    'tokenizer.ggml.eos_token_id': u32(vocab.eosId),
    'tokenizer.ggml.padding_token_id': u32(vocab.endOfTextId),
    'tokenizer.ggml.fim_pre_token_id': u32(vocab.fimPrefixId),
    'tokenizer.ggml.fim_mid_token_id': u32(vocab.fimMiddleId),
    'tokenizer.ggml.fim_suf_token_id': u32(vocab.fimSuffixId),
    'tokenizer.ggml.add_bos_token': bool(false),
    'tokenizer.ggml.add_eos_token': bool(false),
    'tokenizer.chat_template': str(chatTemplate),
  };
}
