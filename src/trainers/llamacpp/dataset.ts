// Training data → token windows with a loss mask. A chat example is rendered the way the
// llamacpp engine renders a prompt (same message mapping as chat-format.ts, the model's
// chat template), so that what the adapter learns is what a deployment will be asked.
// Only assistant turns are trained (weight 0 turns are not); a prompt/completion example
// trains the completion. One example per window, padded: packing several broke recall.
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from '../../core/generation/tool-call-format.ts';
import type { ToolDefinition } from '../../core/generation/tool-call-format.ts';
import { toolsSystemPrompt } from '../../core/generation/tools-prompt.ts';
import type { WindowInput } from './session.ts';

export type Role = 'system' | 'user' | 'assistant';

export interface TemplateMessage {
  role: Role;
  content: string;
  /** Assistant turns only: trained unless 0. */
  weight?: number;
}

export type Example =
  | { kind: 'chat'; messages: TemplateMessage[] }
  | { kind: 'completion'; prompt: string; completion: string };

export interface ParsedExample {
  /** 1-based line in the JSONL file. */
  line: number;
  example: Example;
}

/** Text to tokenize: `special` text may hold control tokens (template parts); content never does. */
export interface Piece {
  text: string;
  special: boolean;
  trained: boolean;
}

export interface Tokenizer {
  tokenize(text: string, special: boolean): number[];
  /** Prepended to chat prompts as node-llama-cpp's wrappers do (null: the model has none). */
  bos: number | null;
  /** Prepended to completion prompts only when the model asks for it (add_bos). */
  addBos: boolean;
  /** Ends a trained completion. */
  eos: number;
  /** Fills windows after the example. */
  pad: number;
}

export type ChatRenderer = (messages: TemplateMessage[]) => Piece[];

function contentText(c: unknown, line: number): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return c.map((p) => {
      if (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' && typeof (p as { text?: unknown }).text === 'string') return (p as { text: string }).text;
      throw new Error(`line ${line}: only text content parts can be trained`);
    }).join('');
  }
  throw new Error(`line ${line}: message content must be a string or text parts`);
}

interface RawMessage {
  role?: unknown;
  content?: unknown;
  weight?: unknown;
  tool_calls?: { function?: { name?: unknown; arguments?: unknown } }[];
}

// The same mapping as the engine's chat-format.ts: developer → system, tool results and
// tool calls as tagged text, tool definitions as a system instruction, one leading system turn.
function templateMessages(raw: RawMessage[], tools: unknown, line: number): TemplateMessage[] {
  const out: TemplateMessage[] = raw.map((m) => {
    const content = contentText(m.content, line);
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content };
      case 'user':
        return { role: 'user', content };
      case 'tool':
        return { role: 'user', content: `<tool_response>\n${content}\n</tool_response>` };
      case 'assistant': {
        const calls = (m.tool_calls ?? []).map((c) => {
          const args = typeof c.function?.arguments === 'string' ? c.function.arguments : '{}';
          return `${TOOL_CALL_OPEN}${JSON.stringify({ name: c.function?.name, arguments: JSON.parse(args || '{}') })}${TOOL_CALL_CLOSE}`;
        });
        const weight = m.weight === undefined ? 1 : Number(m.weight);
        return { role: 'assistant', content: [content, ...calls].filter(Boolean).join('\n'), weight };
      }
      default:
        throw new Error(`line ${line}: unknown role ${JSON.stringify(m.role)}`);
    }
  });
  if (Array.isArray(tools) && tools.length) {
    const instruction = toolsSystemPrompt(tools as ToolDefinition[]);
    if (out[0]?.role === 'system') out[0] = { role: 'system', content: `${out[0].content}\n\n${instruction}` };
    else out.unshift({ role: 'system', content: instruction });
  }
  const leading: string[] = [];
  let i = 0;
  while (i < out.length && out[i].role === 'system') leading.push(out[i++].content);
  const rest = out.slice(i).map((m) => (m.role === 'system' ? { role: 'user' as const, content: `[system] ${m.content}` } : m));
  return leading.length ? [{ role: 'system', content: leading.join('\n\n') }, ...rest] : rest;
}

/** Parses a JSONL dataset (chat or prompt/completion); blank lines are skipped. */
export function parseDataset(text: string): ParsedExample[] {
  const out: ParsedExample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const src = lines[i].trim();
    if (!src) continue;
    const line = i + 1;
    let obj: { messages?: unknown; prompt?: unknown; completion?: unknown; tools?: unknown };
    try {
      obj = JSON.parse(src);
    } catch {
      throw new Error(`line ${line}: not valid JSON`);
    }
    if (Array.isArray(obj.messages)) {
      const messages = templateMessages(obj.messages as RawMessage[], obj.tools, line);
      if (!messages.some((m) => m.role === 'assistant')) throw new Error(`line ${line}: no assistant message to train on`);
      out.push({ line, example: { kind: 'chat', messages } });
    } else if (typeof obj.prompt === 'string' && typeof obj.completion === 'string') {
      out.push({ line, example: { kind: 'completion', prompt: obj.prompt, completion: obj.completion } });
    } else {
      throw new Error(`line ${line}: expected "messages" or "prompt" and "completion"`);
    }
  }
  return out;
}

/** ChatML (`<|im_start|>role\ncontent<|im_end|>\n`), as node-llama-cpp's ChatMLChatWrapper renders it. */
export const chatmlRenderer: ChatRenderer = (messages) => {
  const pieces: Piece[] = [];
  for (const m of messages) {
    const trained = m.role === 'assistant' && m.weight !== 0;
    pieces.push({ text: `<|im_start|>${m.role}\n`, special: true, trained: false });
    pieces.push({ text: m.content, special: false, trained });
    // The end-of-turn token is trained with the answer, so that generation stops there.
    pieces.push({ text: '<|im_end|>', special: true, trained });
    pieces.push({ text: '\n', special: true, trained: false });
  }
  return pieces;
};

/**
 * Any other template, through a function that renders a conversation to text (libllama's
 * llama_chat_apply_template): each message's share is the difference between rendering
 * the conversation up to it and up to the one before (with the assistant header when the
 * message is the assistant's). In an assistant share, the content and what follows it
 * (the end-of-turn marker) are trained.
 */
export function templateRenderer(apply: (messages: TemplateMessage[], addAssistant: boolean) => string): ChatRenderer {
  return (messages) => {
    const pieces: Piece[] = [];
    let done = '';
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m.role === 'assistant') {
        const head = apply(messages.slice(0, i), true);
        if (head.startsWith(done)) pieces.push({ text: head.slice(done.length), special: true, trained: false });
        else throw new Error('the chat template does not render conversations incrementally');
        done = head;
      }
      const full = apply(messages.slice(0, i + 1), false);
      if (!full.startsWith(done)) throw new Error('the chat template does not render conversations incrementally');
      const share = full.slice(done.length);
      done = full;
      const at = m.content ? share.indexOf(m.content) : -1;
      const trained = m.role === 'assistant' && m.weight !== 0;
      if (at < 0) {
        pieces.push({ text: share, special: true, trained });
        continue;
      }
      pieces.push({ text: share.slice(0, at), special: true, trained: false });
      pieces.push({ text: m.content, special: false, trained });
      pieces.push({ text: share.slice(at + m.content.length), special: true, trained });
    }
    return pieces;
  };
}

export interface EncodedExample {
  line: number;
  tokens: number[];
  /** Per token: 1 when the model is trained to predict it. */
  trained: Uint8Array;
}

export function encodeExample(p: ParsedExample, render: ChatRenderer, tok: Tokenizer): EncodedExample {
  const tokens: number[] = [];
  const trained: number[] = [];
  const push = (ids: number[], t: boolean) => {
    for (const id of ids) {
      tokens.push(id);
      trained.push(t ? 1 : 0);
    }
  };
  const ex = p.example;
  if (ex.kind === 'chat') {
    if (tok.bos !== null) push([tok.bos], false);
    for (const piece of render(ex.messages)) if (piece.text) push(tok.tokenize(piece.text, piece.special), piece.trained);
  } else {
    if (tok.addBos && tok.bos !== null) push([tok.bos], false);
    push(tok.tokenize(ex.prompt, false), false);
    push(tok.tokenize(ex.completion, false), true);
    push([tok.eos], true);
  }
  // The first token is never a prediction target.
  if (trained.length) trained[0] = 0;
  return { line: p.line, tokens, trained: Uint8Array.from(trained) };
}

export function trainedTokens(e: EncodedExample): number {
  let n = 0;
  for (let i = 0; i < e.trained.length; i++) n += e.trained[i];
  return n;
}

/**
 * One padded window: inputs are tokens[0..], labels the next token, and the mask marks
 * labels that are trained. Longer examples are cut to the window.
 */
export function toWindow(e: EncodedExample, window: number, pad: number, trainAll = false): WindowInput {
  const tokens = new Int32Array(window).fill(pad);
  const labels = new Int32Array(window).fill(pad);
  const mask = new Uint8Array(window);
  const n = Math.min(e.tokens.length, window + 1);
  for (let i = 0; i + 1 < n; i++) {
    tokens[i] = e.tokens[i];
    labels[i] = e.tokens[i + 1];
    mask[i] = trainAll ? 1 : e.trained[i + 1];
  }
  return { tokens, labels, mask };
}

/** Window size for a dataset: the longest example rounded up to libllama's 256, at most the context. */
export function windowFor(lengths: number[], contextLength: number): number {
  const round = (n: number) => Math.max(256, Math.ceil(n / 256) * 256);
  const cap = round(contextLength);
  return Math.min(cap, round(Math.max(1, ...lengths) - 1));
}

/** Deterministic shuffle (seeded xorshift), for epoch order and the validation split. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Splits off a validation share (at least one example, and at least one left to train on). */
export function splitValidation<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; valid: T[] } {
  if (!(fraction > 0) || items.length < 2) return { train: items.slice(), valid: [] };
  const n = Math.min(items.length - 1, Math.max(1, Math.round(items.length * fraction)));
  const order = shuffled(items.map((_, i) => i), seed ^ 0x5bd1e995);
  const validIdx = new Set(order.slice(0, n));
  return { train: items.filter((_, i) => !validIdx.has(i)), valid: items.filter((_, i) => validIdx.has(i)) };
}

/** A tokenizer for the built-in byte-level vocab (bytes 0–255, then the control tokens), for tests and tools. */
export function byteTokenizer(controls: readonly string[], opts: { bos: number | null; addBos: boolean; eos: number; pad: number }): Tokenizer {
  return {
    ...opts,
    tokenize(text, special) {
      const out: number[] = [];
      let rest = text;
      while (rest.length) {
        let hit = -1, at = rest.length;
        if (special) {
          for (let c = 0; c < controls.length; c++) {
            const k = rest.indexOf(controls[c]);
            if (k >= 0 && k < at) { at = k; hit = c; }
          }
        }
        for (const b of Buffer.from(rest.slice(0, at), 'utf8')) out.push(b);
        if (hit < 0) break;
        out.push(256 + hit);
        rest = rest.slice(at + controls[hit].length);
      }
      return out;
    },
  };
}
