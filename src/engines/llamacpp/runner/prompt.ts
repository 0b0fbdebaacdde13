// Renders a prompt into tokens with the model's own chat template (node-llama-cpp resolves
// the wrapper from the GGUF's tokenizer.chat_template), or tokenizes raw completion text.
import { LlamaText, SpecialToken, resolveChatWrapper } from "node-llama-cpp";
import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token } from "node-llama-cpp";
import type { RunnerPrompt } from "../protocol.ts";

export class PromptRenderer {
  #model: LlamaModel;
  #wrapper: ChatWrapper;

  constructor(model: LlamaModel) {
    this.#model = model;
    this.#wrapper = resolveChatWrapper(model);
  }

  get hasFim(): boolean {
    const t = this.#model.tokens.infill;
    return t.prefix != null && t.suffix != null && t.middle != null;
  }

  render(prompt: RunnerPrompt): Token[] {
    if (prompt.kind === "chat") return this.#renderChat(prompt.messages);
    const bos = this.#model.tokens.shouldPrependBosToken && this.#model.tokens.bos != null ? [this.#model.tokens.bos] : [];
    if (prompt.suffix !== undefined) {
      const t = this.#model.tokens.infill;
      if (t.prefix == null || t.suffix == null || t.middle == null) throw new Error("suffix needs fill-in-the-middle tokens");
      return [
        ...bos,
        t.prefix,
        ...this.#model.tokenize(prompt.text, false),
        t.suffix,
        ...this.#model.tokenize(prompt.suffix, false),
        t.middle,
      ];
    }
    const tokens = [...bos, ...this.#model.tokenize(prompt.text, false)];
    if (tokens.length > 0) return tokens;
    // An empty prompt (OpenAI accepts "" and generates from <|endoftext|>): start from the
    // model's beginning-of-sequence token, or its end-of-sequence token where it has no BOS.
    const start = this.#model.tokens.bos ?? this.#model.tokens.eos;
    if (start == null) throw new EmptyPromptError();
    return [start];
  }

  #renderChat(messages: { role: "system" | "user" | "assistant"; content: string }[]): Token[] {
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === "assistant" ? { type: "model", response: [m.content] } : { type: m.role, text: m.content },
    );
    // An open model turn at the end makes the template emit the generation prompt.
    history.push({ type: "model", response: [] });
    const { contextText } = this.#wrapper.generateContextState({ chatHistory: history });
    return LlamaText([contextText]).tokenize(this.#model.tokenizer);
  }
}

/** An empty prompt on a model with neither a BOS nor an EOS token: nothing to start from. */
export class EmptyPromptError extends Error {
  constructor() {
    super("The prompt is empty and this model has no beginning-of-sequence token to start from. Send a non-empty 'prompt'.");
  }
}

export { SpecialToken };
