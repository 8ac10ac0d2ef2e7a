import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { UpstreamCircuitOpen } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import type { UpstreamResponse } from './exchange.js';
import { upstreamInTrouble } from './failures.js';

export type CircuitStatus = 'closed' | 'open' | 'half-open';

export interface CircuitOptions {
  /** Failures in a row (5xx, refused or broken connections, timeouts) that open it. */
  failures: number;
  /** How long it stays open, refusing every call, before one trial call. */
  halfOpenMs: number;
}

/**
 * One upstream origin's circuit breaker: cockatiel's, opened by a run of
 * failures (`upstreamInTrouble`, or a 5xx answer, which is still returned to
 * the caller), closed again by a successful trial call. Adds what cockatiel
 * does not tell: how long until the trial call, for `retryAfterSeconds`.
 */
export class Circuit {
  readonly #breaker: CircuitBreakerPolicy;
  readonly #listeners = new Set<(state: CircuitStatus) => void>();
  readonly #halfOpenMs: number;
  readonly #upstream: string;
  #openedAt = 0;

  constructor(upstream: string, options: CircuitOptions, logger: Logger) {
    this.#upstream = upstream;
    this.#halfOpenMs = options.halfOpenMs;
    const policy = handleWhen(upstreamInTrouble).orWhenResult((res) => (res as UpstreamResponse).status >= 500);
    this.#breaker = circuitBreaker(policy, { halfOpenAfter: options.halfOpenMs, breaker: new ConsecutiveBreaker(options.failures) });
    this.#breaker.onBreak(() => {
      this.#openedAt = Date.now();
      logger.warn('circuit opened: calls fail at once until a trial call succeeds', { upstream, failures: options.failures, halfOpenMs: options.halfOpenMs });
    });
    this.#breaker.onHalfOpen(() => logger.info('circuit half-open: one trial call', { upstream }));
    this.#breaker.onReset(() => logger.info('circuit closed: the upstream answers again', { upstream }));
    this.#breaker.onStateChange(() => {
      const status = this.status;
      for (const listener of this.#listeners) listener(status);
    });
  }

  /** `open` (calls refused), `half-open` (one trial call running) or `closed`. */
  get status(): CircuitStatus {
    switch (this.#breaker.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'closed';
    }
  }

  /** Calls `listener` on every change of the circuit; returns the unsubscribe. */
  onChange(listener: (state: CircuitStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The refusal of a call while the circuit holds calls back, else undefined: calls may go. */
  refusal(): UpstreamCircuitOpen | undefined {
    const state = this.#breaker.state;
    if (state === CircuitState.HalfOpen) return this.#refusal(0);
    if (state !== CircuitState.Open && state !== CircuitState.Isolated) return undefined;
    const wait = this.#openedAt + this.#halfOpenMs - Date.now();
    // Past the wait the next call is the trial call: it may go.
    return wait > 0 ? this.#refusal(wait) : undefined;
  }

  /** Runs `call` through the breaker, which counts its outcome (a refusal of the breaker's own: see `refusalFor`). */
  execute(call: () => Promise<UpstreamResponse>): Promise<UpstreamResponse> {
    return this.#breaker.execute(call);
  }

  /** The refusal that `error` stands for when the breaker refused the call itself (another call opened it since `refusal()`), else undefined. */
  refusalFor(error: unknown): UpstreamCircuitOpen | undefined {
    return error instanceof BrokenCircuitError ? (this.refusal() ?? this.#refusal(0)) : undefined;
  }

  #refusal(waitMs: number): UpstreamCircuitOpen {
    return new UpstreamCircuitOpen(this.#upstream, Math.max(1, Math.ceil(waitMs / 1000)));
  }
}
