// The generation span (OpenTelemetry GenAI conventions) around each chat, completion and
// embedding call of the generation service, through the Tracing port. Engine spans started
// while the call sets its choices going are its children.
import { noTracing } from "../ports/index.ts";
import type { SpanAttributes, TraceSpan, Tracing } from "../ports/index.ts";
import { GenerationService } from "./service.ts";
import type { CallOptions, GenerationStream } from "./service.ts";
import { requestAttributes, spanAround, spanOver } from "./spans.ts";
import type { ChatChunk, ChatRequest, CompletionRequest, EmbeddingRequest, EmbeddingResult } from "./types.ts";

type Call<T> = () => Promise<T>;

export class TracedGenerationService extends GenerationService {
  #tracing: Tracing;

  constructor(tracing: Tracing, ...args: ConstructorParameters<typeof GenerationService>) {
    super(...args);
    this.#tracing = tracing;
  }

  override chat(account: string, req: ChatRequest, signal: AbortSignal, opts: CallOptions = {}): Promise<GenerationStream> {
    // Tracing off: no wrapper around the stream (each layer costs a little per chunk).
    if (this.#tracing === noTracing) return super.chat(account, req, signal, opts);
    return this.#stream("chat", account, req, { ...requestAttributes(req.sampling, req.maxTokens), "gen_ai.request.choice.count": req.n > 1 ? req.n : undefined }, () => super.chat(account, req, signal, opts));
  }

  override complete(account: string, req: CompletionRequest, signal: AbortSignal, opts: CallOptions = {}): Promise<GenerationStream> {
    if (this.#tracing === noTracing) return super.complete(account, req, signal, opts);
    return this.#stream("text_completion", account, req, { ...requestAttributes(req.sampling, req.maxTokens), "gen_ai.request.choice.count": req.n > 1 ? req.n : undefined }, () => super.complete(account, req, signal, opts));
  }

  override async embed(account: string, req: EmbeddingRequest, signal: AbortSignal, opts: CallOptions = {}): Promise<EmbeddingResult> {
    if (this.#tracing === noTracing) return super.embed(account, req, signal, opts);
    const span = this.#start("embeddings", account, req.deployment, {});
    return spanAround(span, () => this.#tracing.withSpan(span, () => super.embed(account, req, signal, opts)), (result) => ({
      "gen_ai.response.model": result.model,
      "gen_ai.usage.input_tokens": result.promptTokens,
    }));
  }

  #start(operation: string, account: string, deployment: string, attributes: SpanAttributes): TraceSpan {
    // On Azure the request names a deployment; the model behind it is the response model.
    return this.#tracing.startSpan(`${operation} ${deployment}`, {
      "gen_ai.operation.name": operation,
      "gen_ai.provider.name": "ingot",
      "gen_ai.request.model": deployment,
      "ingot.account": account,
      ...attributes,
    });
  }

  /** A span from the call to the end of its stream, with the usage and finish reasons. */
  async #stream(operation: string, account: string, req: { deployment: string }, attributes: SpanAttributes, call: Call<GenerationStream>): Promise<GenerationStream> {
    const span = this.#start(operation, account, req.deployment, attributes);
    let stream: GenerationStream;
    try {
      stream = await this.#tracing.withSpan(span, call);
    } catch (e) {
      span.recordError(e);
      span.end();
      throw e;
    }
    span.setAttributes({ "gen_ai.response.id": stream.id, "gen_ai.response.model": stream.model });
    const usage = stream.usage;
    const reasons: string[] = [];
    stream.chunks = spanOver(
      span,
      stream.chunks,
      (chunk: ChatChunk) => {
        if (chunk.type === "finish") reasons[chunk.index] = chunk.reason;
      },
      () => ({
        "gen_ai.usage.input_tokens": usage.promptTokens,
        "gen_ai.usage.output_tokens": usage.completionTokens,
        "gen_ai.response.finish_reasons": reasons.filter((r) => r !== undefined),
      }),
    );
    return stream;
  }
}
