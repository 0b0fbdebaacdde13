// The Tracing port: spans from request to runner (OpenTelemetry GenAI conventions in the
// adapter, src/telemetry/otel.ts). Off by default: noTracing does nothing.

export type SpanAttributes = Record<string, string | number | boolean | string[] | undefined>;

export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed with the error's message. */
  recordError(error: unknown): void;
  end(): void;
}

export interface Tracing {
  /** A span, child of the current one (see withSpan); `kind` as OpenTelemetry's (default internal). */
  startSpan(name: string, attributes?: SpanAttributes, kind?: "server" | "client" | "internal"): TraceSpan;
  /** Runs `fn` with `span` current: spans started inside it (also later, by what it set going) are its children. */
  withSpan<T>(span: TraceSpan, fn: () => T): T;
  /** Makes `span` current for the rest of this asynchronous flow (a request's hooks and handler). */
  enterSpan(span: TraceSpan): void;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

const noSpan: TraceSpan = { setAttributes() {}, recordError() {}, end() {} };

export const noTracing: Tracing = {
  startSpan: () => noSpan,
  withSpan: (_span, fn) => fn(),
  enterSpan() {},
  shutdown: async () => {},
};
