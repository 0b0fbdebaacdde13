// Training data → windows and loss masks (src/trainers/llamacpp/dataset.ts), and the
// check that a chat example is tokenized exactly as the runner tokenizes the prompt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaText, getLlama, resolveChatWrapper } from 'node-llama-cpp';
import type { ChatHistoryItem } from 'node-llama-cpp';
import {
  byteTokenizer, chatmlRenderer, encodeExample, parseDataset, shuffled, splitValidation, templateRenderer, toWindow, trainedTokens, windowFor,
} from '../../src/trainers/llamacpp/dataset.ts';
import type { TemplateMessage } from '../../src/trainers/llamacpp/dataset.ts';
import { buildModel } from '../../src/models/builtin/builder.ts';
import { CONTROL_TOKENS } from '../../src/gguf/tokenizer.ts';

const tok = byteTokenizer(CONTROL_TOKENS, { bos: 256, addBos: false, eos: 258, pad: 256 });
const IM_START = 257, IM_END = 258;
const text = (ids: number[]) => ids.map((t) => (t < 256 ? String.fromCharCode(t) : `<${t}>`)).join('');

test('chat examples: only assistant turns are trained, weight 0 turns are not, the end-of-turn token is', () => {
  const [ex] = parseDataset(JSON.stringify({ messages: [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'Q1' },
    { role: 'assistant', content: 'A1', weight: 0 },
    { role: 'user', content: 'Q2' },
    { role: 'assistant', content: 'A2' },
  ] }));
  const e = encodeExample(ex, chatmlRenderer, tok);
  assert.equal(text(e.tokens), '<256><257>system\nS<258>\n<257>user\nQ1<258>\n<257>assistant\nA1<258>\n<257>user\nQ2<258>\n<257>assistant\nA2<258>\n');
  const trained = text(e.tokens.filter((_, i) => e.trained[i]));
  assert.equal(trained, 'A2<258>');
  assert.equal(trainedTokens(e), 3);
});

test('prompt/completion: the completion and EOS are trained; BOS only when the model adds one', () => {
  const [ex] = parseDataset('{"prompt":"2+2=","completion":"4"}\n');
  const e = encodeExample(ex, chatmlRenderer, tok);
  assert.equal(text(e.tokens), '2+2=4<258>');
  assert.deepEqual([...e.trained], [0, 0, 0, 0, 1, 1]);
  const withBos = encodeExample(ex, chatmlRenderer, { ...tok, addBos: true });
  assert.equal(withBos.tokens[0], 256);
});

test('content is never parsed for control tokens; tool calls and tool results render as the engine renders them', () => {
  const [ex] = parseDataset(JSON.stringify({ messages: [
    { role: 'user', content: 'say <|im_end|>' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: '42' },
    { role: 'assistant', content: [{ type: 'text', text: 'It is 42.' }] },
  ] }));
  const e = encodeExample(ex, chatmlRenderer, tok);
  const s = text(e.tokens);
  assert.match(s, /user\nsay <\|im_end\|><258>/, 'the literal text stays bytes');
  assert.match(s, /assistant\n<tool_call>\{"name":"f","arguments":\{"x":1\}\}<\/tool_call><258>/);
  assert.match(s, /user\n<tool_response>\n42\n<\/tool_response><258>/);
  assert.equal(e.tokens.filter((t) => t === IM_START).length, 4);
});

test('dataset errors name the line', () => {
  assert.throws(() => parseDataset('{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}\n\n{oops}\n'), /line 3: not valid JSON/);
  assert.throws(() => parseDataset('{"messages":[{"role":"user","content":"x"}]}'), /line 1: no assistant message/);
  assert.throws(() => parseDataset('{"messages":[{"role":"robot","content":"x"}]}'), /line 1: unknown role "robot"/);
  assert.deepEqual(parseDataset('\n{"prompt":"a","completion":"b"}\n').map((p) => p.line), [2]);
});

test('windows: labels are the next token, the mask marks trained labels, the rest is padding', () => {
  const [ex] = parseDataset('{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"}]}');
  const e = encodeExample(ex, chatmlRenderer, tok);
  const w = toWindow(e, 256, 256);
  const n = e.tokens.length;
  for (let i = 0; i + 1 < n; i++) {
    assert.equal(w.tokens[i], e.tokens[i]);
    assert.equal(w.labels[i], e.tokens[i + 1]);
    assert.equal(w.mask[i], e.trained[i + 1]);
  }
  assert.equal(text(Array.from(w.labels).filter((_, i) => w.mask[i])), 'ok<258>');
  assert.ok(w.tokens.subarray(n - 1).every((t) => t === 256));
  assert.equal(w.mask.subarray(n - 1).reduce((a, b) => a + b, 0), 0);
  const all = toWindow(e, 256, 256, true);
  assert.equal(all.mask.reduce((a, b) => a + b, 0), n - 1);
  // Longer than the window: cut.
  const long = toWindow({ line: 1, tokens: Array.from({ length: 600 }, (_, i) => i % 200), trained: new Uint8Array(600).fill(1) }, 256, 256);
  assert.equal(long.labels[255], 256 % 200);
});

test('window size: the longest example rounded up to 256, capped by the context', () => {
  assert.equal(windowFor([10, 100], 2048), 256);
  assert.equal(windowFor([257], 2048), 256);
  assert.equal(windowFor([258], 2048), 512);
  assert.equal(windowFor([5000], 2048), 2048);
  assert.equal(windowFor([300], 300), 512);
});

test('shuffles and validation splits are deterministic by seed', () => {
  const xs = Array.from({ length: 20 }, (_, i) => i);
  assert.deepEqual(shuffled(xs, 3), shuffled(xs, 3));
  assert.notDeepEqual(shuffled(xs, 3), shuffled(xs, 4));
  assert.deepEqual([...shuffled(xs, 3)].sort((a, b) => a - b), xs);
  const a = splitValidation(xs, 0.2, 9);
  assert.equal(a.valid.length, 4);
  assert.equal(a.train.length, 16);
  assert.deepEqual(splitValidation(xs, 0.2, 9), a);
  assert.deepEqual([...a.train, ...a.valid].sort((x, y) => x - y), xs);
  assert.equal(splitValidation(xs, 0, 9).valid.length, 0);
  assert.equal(splitValidation([1, 2], 0.01, 9).valid.length, 1, 'at least one held out');
  assert.equal(splitValidation([1, 2], 0.99, 9).train.length, 1, 'at least one left to train');
});

test('other templates: each message is the difference between renderings; assistant content and its end marker are trained', () => {
  // A Llama-3-like template, as llama_chat_apply_template renders it.
  const apply = (msgs: TemplateMessage[], add: boolean) =>
    msgs.map((m) => `<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content}<|eot_id|>`).join('') + (add ? '<|start_header_id|>assistant<|end_header_id|>\n\n' : '');
  const pieces = templateRenderer(apply)([{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }]);
  assert.equal(pieces.map((p) => p.text).join(''), apply([{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }], false));
  assert.deepEqual(pieces.filter((p) => p.trained).map((p) => p.text), ['A', '<|eot_id|>']);
  assert.ok(pieces.filter((p) => !p.special).every((p) => p.text === 'Q' || p.text === 'A'), 'content is plain text');
});

test("a chat example's prompt is tokenized exactly as the runner tokenizes it (node-llama-cpp's ChatML wrapper)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ingot-trainer-ds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = await buildModel({ shape: 'tiny', seed: 3, type: 'f32', out: join(dir, 'm.gguf') });
  const llama = await getLlama({ gpu: false, logLevel: 'error' as never });
  t.after(() => llama.dispose());
  const m = await llama.loadModel({ modelPath: model.path });
  const wrapper = resolveChatWrapper(m);
  const messages: TemplateMessage[] = [
    { role: 'system', content: 'You answer questions about projects.' },
    { role: 'user', content: 'What is the codename of project 7? ünïcödé 🎉' },
    { role: 'assistant', content: 'The codename of project 7 is AMBER OWL.' },
    { role: 'user', content: 'And project 8?' },
  ];
  const history: ChatHistoryItem[] = messages.map((x) => (x.role === 'assistant' ? { type: 'model', response: [x.content] } : { type: x.role, text: x.content }));
  history.push({ type: 'model', response: [] });
  const runner = LlamaText([wrapper.generateContextState({ chatHistory: history }).contextText]).tokenize(m.tokenizer) as number[];
  const [ex] = parseDataset(JSON.stringify({ messages: [...messages, { role: 'assistant', content: 'x' }] }));
  const ours = encodeExample(ex, chatmlRenderer, tok).tokens;
  assert.deepEqual(ours.slice(0, runner.length), runner);
  assert.deepEqual(text(ours.slice(runner.length)), 'x<258>\n');
});
