import { collectDefaultMetrics, Counter, Gauge, type Metric, Registry } from 'prom-client';
import { memoized } from './bounded-map.js';

/**
 * The gateway's Prometheus metrics, one registry per gateway, served on the
 * operations port (src/infra/ops-server.ts), never on the public one.
 *
 * Label values are bounded: operation names outside the known set (the
 * trusted-documents manifest, i.e. the first-party apps' operations) count
 * as `other`, unnamed ones as `anonymous`; error codes are the gateway's
 * fixed codes (anything else is `OTHER`); upstream endpoints are path
 * templates, never a URL with ids or a query.
 *
 * Code elsewhere reports through the small methods below (one line each),
 * not through prom-client.
 */
/** What src/events reports. */
export type EventMetrics = Pick<Metrics, 'subscriptionStarted' | 'subscriptionEnded' | 'pushSocketOpened' | 'pushSocketClosed' | 'eventDropped'>;

export type UpstreamOutcome = 'ok' | 'http_4xx' | 'http_5xx' | 'timeout' | 'unavailable' | 'circuit_open' | 'shed';
export type CircuitState = 'closed' | 'half-open' | 'open';
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Seconds; from 5 ms (a cached answer) to 10 s (past the default upstream timeout). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const MAX_ERROR_CODES = 50;

export interface MetricsOptions {
  /** Operation names that get their own label value; any other is `other`. */
  operationNames?: Iterable<string>;
  /** Also collect Node's process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #operationNames: ReadonlySet<string>;
  readonly #errorCodes = new Set<string>();

  readonly #operations = new LeanHistogram(this.registry, {
    name: 'gateway_graphql_operation_duration_seconds',
    help: 'GraphQL operations, request to response end (a subscription: to its end), by operation name and type',
    labelNames: ['operation_name', 'operation_type'],
    buckets: DURATION_BUCKETS,
  });

  readonly #errors = new Counter({ name: 'gateway_graphql_errors_total', help: 'Errors in GraphQL responses, by error code (extensions.code)', labelNames: ['code'] as const, registers: [this.registry] });
  readonly #upstream = new LeanHistogram(this.registry, {
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Upstream HTTP calls by upstream, endpoint (path template) and outcome',
    labelNames: ['upstream', 'endpoint', 'outcome'],
    buckets: DURATION_BUCKETS,
  });
  readonly #circuit = new Gauge({ name: 'gateway_upstream_circuit_state', help: 'Circuit breaker of an upstream: 0 closed, 1 half-open, 2 open', labelNames: ['upstream'] as const, registers: [this.registry] });
  readonly #inFlight = new Gauge({ name: 'gateway_http_requests_in_flight', help: 'HTTP requests being answered on the public port (SSE streams included)', registers: [this.registry] });
  readonly #subscriptions = new Gauge({ name: 'gateway_subscriptions_active', help: 'Live accountEvents subscriptions (graphql-ws and SSE)', registers: [this.registry] });
  readonly #pushSockets = new Gauge({ name: 'gateway_upstream_push_sockets', help: 'Open push sockets to the Account API', registers: [this.registry] });
  readonly #busMessages = new Counter({ name: 'gateway_event_bus_messages_total', help: 'Event bus messages, by direction (published, received)', labelNames: ['direction'] as const, registers: [this.registry] });
  readonly #dropped = new Counter({ name: 'gateway_events_dropped_total', help: 'Events dropped, by reason (slow_subscriber: a full buffer lost its oldest event)', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly #redisErrors = new Counter({ name: 'gateway_redis_errors_total', help: 'Redis connection errors, by connection', labelNames: ['connection'] as const, registers: [this.registry] });

  constructor(options: MetricsOptions = {}) {
    this.#operationNames = new Set(options.operationNames ?? []);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The label value of an operation name: itself when known, else `other`; `anonymous` when unnamed. */
  operationLabel(name: string | null | undefined): string {
    if (!name || name === 'Anonymous') return 'anonymous';
    return this.#operationNames.has(name) ? name : 'other';
  }

  /** One operation ended (the access log line's figures); `name` is bucketed by operationLabel. */
  operation(name: string | null, type: string | null, seconds: number): void {
    this.#operations.observe(seconds, this.operationLabel(name), type ?? 'unknown');
  }

  graphqlError(code: unknown): void {
    let label = typeof code === 'string' && ERROR_CODE.test(code) ? code : 'OTHER';
    if (!this.#errorCodes.has(label)) {
      if (this.#errorCodes.size >= MAX_ERROR_CODES) label = 'OTHER';
      else this.#errorCodes.add(label);
    }
    this.#errors.inc({ code: label });
  }

  upstreamCall(upstream: string, endpoint: string, outcome: UpstreamOutcome, seconds: number): void {
    this.#upstream.observe(seconds, upstream, endpoint, outcome);
  }

  /** For the upstream circuit breaker: report each state change. */
  circuitState(upstream: string, state: CircuitState): void {
    this.#circuit.set({ upstream }, CIRCUIT_VALUE[state]);
  }

  httpRequestStarted(): void {
    this.#inFlight.inc();
  }
  httpRequestEnded(): void {
    this.#inFlight.dec();
  }
  subscriptionStarted(): void {
    this.#subscriptions.inc();
  }
  subscriptionEnded(): void {
    this.#subscriptions.dec();
  }
  pushSocketOpened(): void {
    this.#pushSockets.inc();
  }
  pushSocketClosed(): void {
    this.#pushSockets.dec();
  }
  busMessage(direction: 'published' | 'received'): void {
    this.#busMessages.inc({ direction });
  }
  eventDropped(reason: 'slow_subscriber'): void {
    this.#dropped.inc({ reason });
  }
  redisError(connection: string): void {
    this.#redisErrors.inc({ connection });
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * A histogram exposed exactly as prom-client's Histogram is (`_bucket` per
 * `le`, `+Inf`, `_sum`, `_count`), for the two observed on every request
 * (once per operation, once per upstream call). prom-client checks and
 * hashes a labels object on every observe, a few µs each; here the label
 * values come in `labelNames` order and find their series by one string key.
 */
class LeanHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();

  constructor(registry: Registry, options: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    this.#buckets = options.buckets;
    registry.registerMetric(this as unknown as Metric);
  }

  /** One observation; `labelValues` in the order of `labelNames`. */
  observe(value: number, ...labelValues: string[]): void {
    const key = labelValues.join('\u0000');
    let series = this.#series.get(key);
    if (!series) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => (labels[name] = labelValues[i] ?? ''));
      series = { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const buckets = this.#buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    if (i < buckets.length) series.counts[i]! += 1;
    series.sum += value;
    series.count += 1;
  }

  /** What prom-client's registry exposes (buckets cumulative, as Prometheus reads them). */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += counts[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
  }
}

/** An upstream path as a bounded label: no query, ids and long tokens as `:id` (each path worked out once: a fixed set of endpoints). */
export const endpointLabel = memoized(
  (path: string): string =>
    path
      .split('?', 1)[0]!
      .replace(/^\/+/, '')
      .split('/')
      .map((segment) => (/^\d+$/.test(segment) || /^[0-9a-f-]{16,}$/i.test(segment) || segment.length > 40 ? ':id' : segment))
      .join('/'),
  1000,
);
