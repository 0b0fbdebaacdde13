// An Engine that traces each generation and embedding call (the engine span under the
// generation service's span), around any engine. Used when tracing is on (app.ts).
import { requestAttributes, spanAround, spanOver } from "../core/generation/spans.ts";
import type { Engine, EngineEvent, EngineTarget, GenerateParams, Tracing } from "../core/ports/index.ts";

export function tracedEngine(engine: Engine, tracing: Tracing): Engine {
  const attributes = (target: EngineTarget, operation: string) => ({
    "gen_ai.operation.name": operation,
    "gen_ai.request.model": target.key,
    "ingot.engine": engine.name,
    "ingot.engine.adapter": target.adapter,
  });
  return {
    get name() {
      return engine.name;
    },
    load: (model) => engine.load(model),
    unload: (key) => engine.unload(key),
    loadAdapter: (key, adapter) => engine.loadAdapter(key, adapter),
    unloadAdapter: (key, id) => engine.unloadAdapter(key, id),
    status: () => engine.status(),
    logs: (key, tail) => engine.logs?.(key, tail),
    close: () => engine.close(),
    generate(target: EngineTarget, params: GenerateParams, signal: AbortSignal): AsyncIterable<EngineEvent> {
      // Started now, at the call (the parent is current here), ended with the stream.
      const operation = params.input.kind === "chat" ? "chat" : "text_completion";
      const span = tracing.startSpan(`${operation} ${target.key}`, {
        ...attributes(target, operation),
        ...requestAttributes(params.sampling, params.maxTokens),
      }, "client");
      let events: AsyncIterable<EngineEvent>;
      try {
        events = engine.generate(target, params, signal);
      } catch (e) {
        span.recordError(e);
        span.end();
        throw e;
      }
      return spanOver(span, events, (event) => {
        if (event.type === "end")
          span.setAttributes({
            "gen_ai.usage.input_tokens": event.usage.promptTokens,
            "gen_ai.usage.output_tokens": event.usage.completionTokens,
            "gen_ai.response.finish_reasons": [event.finishReason],
          });
      });
    },
    async embed(target, inputs, signal) {
      const span = tracing.startSpan(`embeddings ${target.key}`, attributes(target, "embeddings"), "client");
      return spanAround(span, () => engine.embed(target, inputs, signal), (result) => ({ "gen_ai.usage.input_tokens": result.promptTokens }));
    },
  };
}
