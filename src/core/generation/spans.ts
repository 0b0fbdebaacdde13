// What both tracing layers do with a span (the generation service's, core/generation/traced.ts,
// and the engine's under it, engines/traced-engine.ts): the request's GenAI attributes, a span
// around one call, and a span over a stream that ends with it.
import type { SpanAttributes, TraceSpan } from "../ports/tracing.ts";
import type { Sampling } from "./types.ts";

/** The request attributes of the OpenTelemetry GenAI conventions that a generation's sampling sets. */
export function requestAttributes(sampling: Sampling, maxTokens: number | undefined): SpanAttributes {
  return {
    "gen_ai.request.max_tokens": maxTokens,
    "gen_ai.request.temperature": sampling.temperature,
    "gen_ai.request.top_p": sampling.topP,
    "gen_ai.request.seed": sampling.seed,
  };
}

/** Runs `call` in `span`: its result's attributes on success, the error on failure; the span ends either way. */
export async function spanAround<T>(span: TraceSpan, call: () => Promise<T>, attributesOf: (result: T) => SpanAttributes): Promise<T> {
  try {
    const result = await call();
    span.setAttributes(attributesOf(result));
    return result;
  } catch (e) {
    span.recordError(e);
    throw e;
  } finally {
    span.end();
  }
}

/** `items` as they come, each shown to `observe`; an error is recorded; at the end, `finish`'s attributes are set and `span` ends. */
export async function* spanOver<T>(span: TraceSpan, items: AsyncIterable<T>, observe: (item: T) => void, finish: () => SpanAttributes = () => ({})): AsyncGenerator<T> {
  try {
    for await (const item of items) {
      observe(item);
      yield item;
    }
  } catch (e) {
    span.recordError(e);
    throw e;
  } finally {
    span.setAttributes(finish());
    span.end();
  }
}
