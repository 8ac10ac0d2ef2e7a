import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Config } from '../config.js';
import { UpstreamDeadlinePassed, UpstreamQueueFull, UpstreamTimeout, UpstreamUnavailable } from '../domain/errors.js';
import { Backoff } from '../infra/backoff.js';
import type { Deadline } from '../infra/deadline.js';
import type { Logger } from '../infra/logger.js';
import type { RequestScope } from '../infra/request-scope.js';
import { RepeatedWarnings } from '../infra/repeated-warnings.js';
import { Circuit, type CircuitOptions, type CircuitStatus } from './circuit.js';
import { Exchange, type UpstreamResponse } from './exchange.js';
import { failureKind, typedFailure, upstreamInTrouble } from './failures.js';

export type { CircuitStatus } from './circuit.js';
export type { UpstreamResponse } from './exchange.js';

/** How calls to one upstream origin are bounded and protected (the UPSTREAM_* settings). */
export interface UpstreamLimits {
  /**
   * Limit of one call in ms, from the moment it is made to the last byte of
   * the answer: the wait for a free connection counts.
   */
  timeoutMs: number;
  /** Largest body accepted; a larger answer is a transport failure. */
  maxBodyBytes: number;
  /** Keep-alive connections to the origin. */
  connections: number;
  /** Calls that may wait for a free connection; one more is refused at once. Unset: no bound. */
  maxQueue?: number;
  /** The circuit breaker. Unset: none. */
  circuit?: CircuitOptions;
  /** Window of the repeated-warnings sample (RepeatedWarnings). Default 10000 ms. */
  warningsWindowMs?: number;
  /** Retries of idempotent calls. Unset: none. */
  retries?: {
    max: number;
    /** Scale of the waits (infra/backoff.ts): the first retry waits up to 1.4x it, the second up to 2.8x, none more than `backoffMs * 2 ** max`. */
    backoffMs: number;
  };
}

/** The upstream limits of the configuration, the same for every origin. */
export function upstreamLimits(config: Config): UpstreamLimits {
  return {
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    maxBodyBytes: config.UPSTREAM_MAX_BODY_BYTES,
    connections: config.UPSTREAM_CONNECTIONS,
    maxQueue: config.UPSTREAM_MAX_QUEUE,
    circuit: { failures: config.UPSTREAM_BREAKER_FAILURES, halfOpenMs: config.UPSTREAM_BREAKER_HALF_OPEN_MS },
    retries: { max: config.UPSTREAM_READ_RETRIES, backoffMs: config.UPSTREAM_RETRY_BACKOFF_MS },
    warningsWindowMs: config.LOG_REPEATED_WARNINGS_WINDOW_MS,
  };
}

/** Options of one upstream origin. */
export interface UpstreamHttpOptions extends UpstreamLimits {
  /** Name used in errors and logs, e.g. "Account API". */
  name: string;
  /** `http(s)://host:port`; a path prefix is kept and prepended to every call. */
  baseUrl: string;
  logger: Logger;
  /** Watches every call: metrics, traces (it may add `traceparent`), readiness. */
  observer?: UpstreamObserver;
}

/**
 * A hook around each attempt of an upstream call (src/upstream/observer.ts):
 * `start` may add headers to it and returns what is called once it ends.
 */
export interface UpstreamObserver {
  /** Whether `start` may add headers (a trace's `traceparent`): then each call gets a copy of its headers to add to. */
  readonly addsHeaders: boolean;
  start(call: { upstream: string; method: string; path: string; headers: Record<string, string>; request: RequestScope | undefined }): (end: UpstreamCallEnd) => void;
}
/** How an attempt ended: the status the upstream answered, or how it failed. */
export type UpstreamCallEnd = number | 'timeout' | 'unavailable' | 'circuit_open' | 'shed';

export interface UpstreamRequest {
  method?: 'POST' | 'GET';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Safe to send twice (a read): after a transient failure (a refused or
   * broken connection, a 5xx; a timeout only with a `deadline`) it is sent
   * again, at most `retries.max` times and only while the deadline leaves time.
   */
  idempotent?: boolean;
  /** The operation's deadline, shared by all its calls: each is cut at the earlier of it and `timeoutMs`. */
  deadline?: Deadline;
}

/** What readiness and metrics read of one upstream origin. */
export interface UpstreamState {
  /** e.g. "Account API", "dating site wellhello". */
  readonly name: string;
  /** `open`: calls are refused; `half-open`: one trial call runs; `closed`: calls go. */
  readonly circuit: CircuitStatus;
  /** Calls waiting for a free connection. */
  readonly queued: number;
  /** Calls `listener` on every change of the circuit; returns the unsubscribe. */
  onCircuitChange(listener: (state: CircuitStatus) => void): () => void;
}

/**
 * Whether an idempotent call is worth sending again after `outcome`: a 5xx,
 * a refused or broken connection, and a timeout when a deadline bounds the
 * whole (without one, say a session check of the events room, retrying
 * timeouts would triple the load of an API that is already slow).
 */
function retryable(outcome: UpstreamResponse | Error, deadline: Deadline | undefined): boolean {
  if (!(outcome instanceof Error)) return outcome.status >= 500;
  if (!upstreamInTrouble(outcome)) return false;
  return deadline !== undefined || !(outcome instanceof UpstreamTimeout);
}

/** An attempt is only worth starting with this much time left. */
const MIN_ATTEMPT_MS = 50;

/**
 * One keep-alive connection pool (undici's) to an upstream origin, the way
 * every upstream call goes. It never follows redirects, bounds every call by
 * a timeout (the wait for a connection included), the operation's deadline
 * and a body size (`Exchange`, ./exchange.ts), and turns every transport
 * failure into UpstreamUnavailable or UpstreamTimeout (./failures.ts):
 * callers see a status and parsed JSON, or one of those two errors. It also
 * - refuses calls at once (UPSTREAM_UNAVAILABLE with `retryAfterSeconds`)
 *   while the origin's circuit is open (./circuit.ts), and sheds calls while
 *   more than `maxQueue` wait for a connection;
 * - retries idempotent calls after transient failures, with backoff
 *   (infra/backoff.ts) while the deadline leaves time;
 * - writes repeated warnings as counts (RepeatedWarnings).
 */
export class UpstreamHttp implements UpstreamState {
  readonly name: string;
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #options: UpstreamHttpOptions;
  readonly #warnings: RepeatedWarnings;
  readonly #circuit: Circuit | undefined;
  readonly #backoff: { initialMs: number; maxMs: number } | undefined;
  /** Calls handed to the pool and not settled yet: beyond `connections` they wait for one. */
  #active = 0;

  constructor(options: UpstreamHttpOptions) {
    this.name = options.name;
    this.#options = options;
    const url = new URL(options.baseUrl);
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
    });
    this.#warnings = new RepeatedWarnings(options.logger, { windowMs: options.warningsWindowMs });
    if (options.circuit) this.#circuit = new Circuit(options.name, options.circuit, options.logger);
    const { retries } = options;
    if (retries) this.#backoff = { initialMs: retries.backoffMs, maxMs: retries.backoffMs * 2 ** retries.max };
  }

  /** The origin's circuit: `open` (calls refused), `half-open` (one trial call running) or `closed`. */
  get circuit(): CircuitStatus {
    return this.#circuit?.status ?? 'closed';
  }

  /** Calls waiting for a free connection right now. */
  get queued(): number {
    return Math.max(0, this.#active - this.#options.connections);
  }

  /** Calls `listener` on every change of the circuit; returns the unsubscribe. */
  onCircuitChange(listener: (state: CircuitStatus) => void): () => void {
    return this.#circuit?.onChange(listener) ?? (() => false);
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const retries = req.idempotent ? (this.#options.retries?.max ?? 0) : 0;
    /** This call's backoff, made at its first retry (most calls have none). */
    let backoff: Backoff | undefined;
    for (let attempt = 0; ; attempt++) {
      let outcome: UpstreamResponse | Error;
      const observer = this.#options.observer;
      const call = observer?.addsHeaders ? { ...req, headers: { ...req.headers } } : req;
      const ended = observer?.start({ upstream: this.name, method: req.method ?? 'POST', path: req.path, headers: call.headers ?? {}, request: req.deadline?.request });
      try {
        outcome = await this.#attempt(call, attempt);
      } catch (error) {
        outcome = error as Error;
      }
      ended?.(outcome instanceof Error ? failureKind(outcome) : outcome.status);
      if (attempt < retries && retryable(outcome, req.deadline)) {
        const delay = (backoff ??= new Backoff(this.#backoff!)).next();
        // No retry unless the deadline leaves time for the wait and an attempt.
        if (!req.deadline || req.deadline.remainingMs() - delay >= MIN_ATTEMPT_MS) {
          await sleep(delay, undefined, { ref: false });
          continue;
        }
      }
      if (outcome instanceof Error) throw outcome;
      return outcome;
    }
  }

  /** One call, through the circuit and the queue bound. */
  #attempt(req: UpstreamRequest, attempt: number): Promise<UpstreamResponse> {
    const { name, timeoutMs, connections, maxQueue } = this.#options;
    const limitMs = req.deadline ? Math.min(timeoutMs, Math.floor(req.deadline.remainingMs())) : timeoutMs;
    if (limitMs <= 0) throw this.#refuse(req, new UpstreamDeadlinePassed(name, false), 'deadline passed');
    const circuit = this.#circuit;
    const refusal = circuit?.refusal();
    if (refusal) throw this.#refuse(req, refusal, circuit!.status === 'open' ? 'circuit open' : 'circuit half-open');
    if (maxQueue !== undefined && this.#active >= connections + maxQueue) throw this.#refuse(req, new UpstreamQueueFull(name), 'queue full');
    if (!circuit) return this.#send(req, limitMs, attempt);
    return circuit.execute(() => this.#send(req, limitMs, attempt)).catch((error: unknown) => {
      // Another call opened the circuit between the check and the call.
      const late = circuit.refusalFor(error);
      throw late ? this.#refuse(req, late, 'circuit open') : error;
    });
  }

  #refuse<E extends Error>(req: UpstreamRequest, error: E, reason: string): E {
    this.#warnings.warn('upstream call refused by the gateway', { upstream: this.name, path: req.path, reason });
    return error;
  }

  /** The call itself, bounded by `limitMs` from now, waiting for a connection included. */
  #send(req: UpstreamRequest, limitMs: number, attempt: number): Promise<UpstreamResponse> {
    const cut = limitMs < this.#options.timeoutMs ? 'deadline' : 'timeout';
    const started = performance.now();
    this.#active += 1;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const exchange = new Exchange(this.name, this.#options.maxBodyBytes, resolve, reject);
      exchange.limit(limitMs, cut);
      this.#pool.dispatch({ method: req.method ?? 'POST', path: `${this.#prefix}/${req.path.replace(/^\/+/, '')}`, headers: req.headers, body: req.body }, exchange);
    }).then(
      (res) => {
        this.#active -= 1;
        const ms = Math.round(performance.now() - started);
        if (res.status >= 500) this.#warnings.warn('upstream answered 5xx', { upstream: this.name, path: req.path, status: res.status }, { ms, attempt, requestId: req.deadline?.request?.id });
        else this.#options.logger.debug('upstream call', { upstream: this.name, path: req.path, status: res.status, ms, attempt, requestId: req.deadline?.request?.id });
        return res;
      },
      (error: unknown) => {
        this.#active -= 1;
        const failure = typedFailure(this.name, error);
        const fields = { upstream: this.name, path: req.path, error: failure.name, reason: failure instanceof UpstreamUnavailable ? failure.reason : cut };
        this.#warnings.warn(failure instanceof UpstreamTimeout ? 'upstream call timed out' : 'upstream call failed', fields, {
          ms: Math.round(performance.now() - started),
          limitMs,
          attempt,
          requestId: req.deadline?.request?.id,
        });
        throw failure;
      },
    );
  }

  /**
   * At shutdown, after the HTTP drain: a call still pending belongs to a
   * request that was answered or cut, so it is dropped, not awaited.
   */
  async close(): Promise<void> {
    this.#warnings.flush();
    await this.#pool.destroy();
  }
}
