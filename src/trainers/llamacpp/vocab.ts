// The base model's tokenizer and chat template through libllama (vocab-only load: fast,
// no weights), as the dataset code needs them.
import { chatmlRenderer, templateRenderer } from './dataset.ts';
import type { ChatRenderer, Tokenizer } from './dataset.ts';
import type { LlamaLib, Ptr } from '../../native/libllama.ts';

export interface ModelVocab {
  tokenizer: Tokenizer;
  render: ChatRenderer;
  /** Which renderer: "chatml" or "template". */
  renderer: string;
  close(): void;
}

export function openVocab(lib: LlamaLib, path: string): ModelVocab {
  const mp = lib.modelDefaultParams();
  mp.vocab_only = true;
  mp.n_gpu_layers = 0;
  const model: Ptr = lib.modelLoad(path, mp);
  if (!model) throw new Error(`libllama could not read the vocabulary of ${path}`);
  const vocab = lib.modelVocab(model);
  const bos = lib.vocabBos(vocab);
  const eos = lib.vocabEos(vocab);
  const pad = lib.vocabPad(vocab);
  const tokenizer: Tokenizer = {
    tokenize: (text, special) => lib.tokenize(vocab, text, special),
    bos: bos >= 0 ? bos : null,
    addBos: lib.vocabAddBos(vocab),
    eos: eos >= 0 ? eos : lib.vocabEot(vocab),
    pad: pad >= 0 ? pad : eos,
  };
  if (tokenizer.eos < 0) throw new Error(`${path} has no end-of-sequence token to train on`);
  const template = lib.modelChatTemplate(model);
  // ChatML is rendered exactly as node-llama-cpp's ChatML wrapper does; other templates
  // go through llama_chat_apply_template (its built-in list of known templates).
  const chatml = !template || template.includes('<|im_start|>');
  const render = chatml ? chatmlRenderer : templateRenderer((msgs, add) => lib.chatApplyTemplate(template, msgs, add));
  return { tokenizer, render, renderer: chatml ? 'chatml' : 'template', close: () => lib.modelFree(model) };
}
