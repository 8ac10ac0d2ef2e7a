import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Context, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry traces, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set
 * (OTLP/HTTP, JSON, to `<endpoint>/v1/traces`); off, nothing of it is loaded
 * and no hook is installed. Spans: one per HTTP request (server), per
 * GraphQL operation, per root field, per upstream call (client, which
 * carries the W3C `traceparent` to the Account API and the dating sites).
 *
 * Attributes hold names, types, paths and status codes only: never a
 * header, a query string, a document, variables or an error message.
 */
export class Tracing {
  private constructor(
    readonly tracer: Tracer,
    private readonly provider: BasicTracerProvider,
    private readonly propagator: TextMapPropagator,
  ) {}

  /** Null without an endpoint (OTEL_EXPORTER_OTLP_ENDPOINT unset). */
  static async start({ endpoint, serviceName }: { endpoint: string | undefined; serviceName: string }): Promise<Tracing | null> {
    if (!endpoint) return null;
    const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    // One context manager per process (several gateways of a test share it).
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
    return new Tracing(provider.getTracer('account-dating-gateway'), provider, new W3CTraceContextPropagator());
  }

  /** Runs `handle` inside a server span for this request; a `traceparent` it carries is the parent. */
  http(req: IncomingMessage, res: ServerResponse, handle: () => void): void {
    const parent = this.propagator.extract(ROOT_CONTEXT, req.headers, headerGetter);
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = path === '/graphql' || path === '/health' || path === '/readiness' ? path : 'other';
    const span = this.tracer.startSpan(`${req.method} ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'http.route': route } }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), handle);
  }

  /** A child span of the active one, and the context that makes it active. */
  child(name: string, attributes: Record<string, string | number>, kind: SpanKind = SpanKind.INTERNAL): { span: Span; context: Context } {
    const span = this.tracer.startSpan(name, { kind, attributes }, context.active());
    return { span, context: trace.setSpan(context.active(), span) };
  }

  /** A client span for an upstream call; its `traceparent` goes into `headers`. */
  upstream(upstream: string, method: string, endpoint: string, headers: Record<string, string>): (end: number | string) => void {
    const { span, context: active } = this.child(`${method} ${upstream}`, { 'http.request.method': method, 'upstream.name': upstream, 'upstream.endpoint': endpoint }, SpanKind.CLIENT);
    this.propagator.inject(active, headers, headerSetter);
    return (end) => {
      if (typeof end === 'number') span.setAttribute('http.response.status_code', end);
      else span.setAttribute('error.type', end);
      if (typeof end !== 'number' || end >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
  }

  /** Runs `fn` with `ctx` active. */
  with<T>(ctx: Context, fn: () => T): T {
    return context.with(ctx, fn);
  }

  /** Sends what is buffered. */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Sends what is buffered and stops. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

const headerGetter = {
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
};
const headerSetter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};
