import type { UpstreamObserver } from './http.js';
import { endpointLabel, type Metrics, type UpstreamOutcome } from '../infra/metrics.js';
import type { Tracing } from '../infra/tracing.js';

export interface UpstreamObserverOptions {
  metrics: Metrics;
  /** Null when tracing is off: then no span and no `traceparent`. */
  tracing: Tracing | null;
  /** Told of every answer below 500 the upstream gave: readiness of the Account API. */
  onAnswer?: () => void;
}

/**
 * What the gateway watches of each upstream call: the duration histogram by
 * upstream, endpoint and outcome; the request's count of upstream calls (its
 * access log line); a client span with `traceparent`; readiness.
 */
export function observeUpstream({ metrics, tracing, onAnswer }: UpstreamObserverOptions): UpstreamObserver {
  return {
    addsHeaders: tracing !== null,
    start({ upstream, method, path, headers, request }) {
      if (request) request.upstreamCalls += 1;
      const endpoint = endpointLabel(path);
      const endSpan = tracing?.upstream(upstream, method, endpoint, headers);
      const started = performance.now();
      return (end) => {
        const outcome: UpstreamOutcome = typeof end === 'number' ? (end >= 500 ? 'http_5xx' : end >= 400 ? 'http_4xx' : 'ok') : end;
        metrics.upstreamCall(upstream, endpoint, outcome, (performance.now() - started) / 1000);
        if (typeof end === 'number' && end < 500) onAnswer?.();
        endSpan?.(end);
      };
    },
  };
}
