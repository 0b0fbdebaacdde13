// OpenTelemetry traces over OTLP/HTTP (JSON), for the Tracing port. Spans follow the GenAI
// semantic conventions where they describe generation (gen_ai.operation.name,
// gen_ai.request.model, gen_ai.usage.input_tokens, ...); the caller sets those attributes.
//
// The current span is kept in an AsyncLocalStorage of our own rather than through the
// OpenTelemetry context manager: a Fastify hook can then make a request's span current for
// its handler (enterWith), and no global context manager needs registering.
import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Span } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanAttributes, TraceSpan, Tracing } from "../core/ports/index.ts";

const KINDS = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL } as const;

/** OTLP's traces path under a collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT means it). */
export function otlpTracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
}

class OtelSpan implements TraceSpan {
  readonly span: Span;
  constructor(span: Span) {
    this.span = span;
  }
  setAttributes(attributes: SpanAttributes): void {
    for (const [k, v] of Object.entries(attributes)) if (v !== undefined) this.span.setAttribute(k, v);
  }
  recordError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.span.setAttribute("error.type", error instanceof Error ? ((error as { code?: string }).code ?? error.name) : "error");
  }
  end(): void {
    this.span.end();
  }
}

export interface OtlpTracingOptions {
  /** Collector base URL (…/v1/traces is added) or the traces URL itself. */
  endpoint: string;
  serviceVersion?: string;
  /** How long spans wait to be sent in a batch (default 1000 ms). */
  exportDelayMs?: number;
}

export class OtlpTracing implements Tracing {
  #provider: BasicTracerProvider;
  #tracer;
  #current = new AsyncLocalStorage<OtelSpan>();

  constructor(opts: OtlpTracingOptions) {
    const exporter = new OTLPTraceExporter({ url: otlpTracesUrl(opts.endpoint) });
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "ingot", ...(opts.serviceVersion ? { "service.version": opts.serviceVersion } : {}) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: opts.exportDelayMs ?? 1000 })],
    });
    this.#tracer = this.#provider.getTracer("ingot");
  }

  startSpan(name: string, attributes: SpanAttributes = {}, kind: "server" | "client" | "internal" = "internal"): TraceSpan {
    const parent = this.#current.getStore();
    const context = parent ? trace.setSpan(ROOT_CONTEXT, parent.span) : ROOT_CONTEXT;
    const span = new OtelSpan(this.#tracer.startSpan(name, { kind: KINDS[kind] }, context));
    span.setAttributes(attributes);
    return span;
  }

  withSpan<T>(span: TraceSpan, fn: () => T): T {
    return span instanceof OtelSpan ? this.#current.run(span, fn) : fn();
  }

  enterSpan(span: TraceSpan): void {
    if (span instanceof OtelSpan) this.#current.enterWith(span);
  }

  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}
