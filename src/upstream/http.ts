import { setTimeout as sleep } from 'node:timers/promises';
import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { type Dispatcher, Pool, errors as undiciErrors } from 'undici';
import type { Config } from '../config.js';
import {
  UpstreamAnswerNotJson,
  UpstreamAnswerTooLarge,
  UpstreamDeadlinePassed,
  UpstreamHeldBack,
  UpstreamTimeout,
  UpstreamUnavailable,
  UpstreamUnreachable,
} from '../domain/errors.js';
import type { Deadline } from '../infra/deadline.js';
import type { RequestScope } from '../infra/request-scope.js';
import { RepeatedWarnings } from '../infra/repeated-warnings.js';
import type { Logger } from '../infra/logger.js';

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
  circuit?: {
    /** Failures in a row (5xx, refused or broken connections, timeouts) that open it. */
    failures: number;
    /** How long it stays open, refusing every call, before one trial call. */
    halfOpenMs: number;
  };
  /** Window of the repeated-warnings sample (RepeatedWarnings). Default 10000 ms. */
  warningsWindowMs?: number;
  /** Retries of idempotent calls. Unset: none. */
  retries?: {
    max: number;
    /** Delay before the first retry; it doubles, with jitter (0.5-1.5x). */
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
export type UpstreamCallEnd = { status: number } | { failure: 'timeout' | 'unavailable' | 'circuit_open' | 'shed' };

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

export interface UpstreamResponse {
  status: number;
  /** The parsed JSON body. */
  json: unknown;
  /** Response headers, names lower-cased. */
  headers: Record<string, string | string[] | undefined>;
}

export type CircuitStatus = 'closed' | 'open' | 'half-open';

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
 * Whether a failure says the upstream is in trouble: a refused or broken
 * connection, a 5xx it answered with an unreadable body, or a call that ran
 * out of UPSTREAM_TIMEOUT_MS. Such failures count against its circuit, and
 * an idempotent call may be retried after one. An answer off contract, the
 * operation's deadline or the gateway holding a call back say nothing about it.
 */
export function upstreamInTrouble(error: unknown): boolean {
  if (error instanceof UpstreamUnreachable) return true;
  if (error instanceof UpstreamAnswerNotJson || error instanceof UpstreamAnswerTooLarge) return error.status >= 500;
  return error instanceof UpstreamTimeout && !(error instanceof UpstreamDeadlinePassed);
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
 * One keep-alive connection pool to an upstream origin, the way every
 * upstream call goes. It never follows redirects, bounds every call by a
 * timeout (the wait for a connection included), the operation's deadline
 * and a body size, and turns every transport failure into
 * UpstreamUnavailable or UpstreamTimeout: callers see a status and parsed
 * JSON, or one of those two errors. It also
 * - refuses calls at once (UPSTREAM_UNAVAILABLE with `retryAfterSeconds`)
 *   while the origin's circuit is open (cockatiel's breaker: opened by a run
 *   of failures, closed again by a successful trial call), and while more
 *   than `maxQueue` calls wait for a connection;
 * - retries idempotent calls after transient failures, with jittered backoff;
 * - writes repeated warnings as counts (RepeatedWarnings).
 */
export class UpstreamHttp implements UpstreamState {
  readonly name: string;
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #options: UpstreamHttpOptions;
  readonly #warnings: RepeatedWarnings;
  readonly #breaker: CircuitBreakerPolicy | undefined;
  readonly #circuitListeners = new Set<(state: CircuitStatus) => void>();
  #openedAt = 0;
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
    if (options.circuit) this.#breaker = this.#circuitBreaker(options.circuit);
  }

  /** The origin's circuit: `open` (calls refused), `half-open` (one trial call running) or `closed`. */
  get circuit(): CircuitStatus {
    switch (this.#breaker?.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'closed';
    }
  }

  /** Calls waiting for a free connection right now. */
  get queued(): number {
    return Math.max(0, this.#active - this.#options.connections);
  }

  /** Calls `listener` on every change of the circuit; returns the unsubscribe. */
  onCircuitChange(listener: (state: CircuitStatus) => void): () => void {
    this.#circuitListeners.add(listener);
    return () => this.#circuitListeners.delete(listener);
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const retries = req.idempotent ? (this.#options.retries?.max ?? 0) : 0;
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
      ended?.(outcome instanceof Error ? { failure: failureKind(outcome) } : { status: outcome.status });
      const delay = attempt < retries && retryable(outcome, req.deadline) ? this.#backoff(attempt, req.deadline) : undefined;
      if (delay === undefined) {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      }
      await sleep(delay, undefined, { ref: false });
    }
  }

  /** The delay before retry `attempt + 1`, or undefined when the deadline leaves no time for it. */
  #backoff(attempt: number, deadline: Deadline | undefined): number | undefined {
    const delay = Math.round((this.#options.retries?.backoffMs ?? 0) * 2 ** attempt * (0.5 + Math.random()));
    if (deadline && deadline.remainingMs() - delay < MIN_ATTEMPT_MS) return undefined;
    return delay;
  }

  /** One call, through the circuit and the queue bound. */
  #attempt(req: UpstreamRequest, attempt: number): Promise<UpstreamResponse> {
    const { name, timeoutMs, connections, maxQueue } = this.#options;
    const limitMs = req.deadline ? Math.min(timeoutMs, Math.floor(req.deadline.remainingMs())) : timeoutMs;
    if (limitMs <= 0) throw this.#refuse(req, new UpstreamDeadlinePassed(name, false), 'deadline passed');
    const breaker = this.#breaker;
    if (breaker) {
      const wait = this.#circuitWait();
      if (wait !== undefined) throw this.#refuse(req, this.#circuitOpen(wait), this.circuit === 'open' ? 'circuit open' : 'circuit half-open');
    }
    if (maxQueue !== undefined && this.#active >= connections + maxQueue) {
      throw this.#refuse(req, new UpstreamHeldBack(name, 'queue full', 1), 'queue full');
    }
    if (!breaker) return this.#send(req, limitMs, attempt);
    return breaker.execute(() => this.#send(req, limitMs, attempt)).catch((error: unknown) => {
      // Another call opened the circuit between the check and the call.
      if (error instanceof BrokenCircuitError) throw this.#refuse(req, this.#circuitOpen(this.#circuitWait() ?? 0), 'circuit open');
      throw error;
    });
  }

  /** Milliseconds until an open circuit lets a trial call through; 0 while one runs; undefined when calls may go. */
  #circuitWait(): number | undefined {
    const state = this.#breaker?.state;
    if (state === CircuitState.HalfOpen) return 0;
    if (state !== CircuitState.Open && state !== CircuitState.Isolated) return undefined;
    const wait = this.#openedAt + (this.#options.circuit?.halfOpenMs ?? 0) - Date.now();
    return wait > 0 ? wait : undefined;
  }

  #circuitOpen(waitMs: number) {
    return new UpstreamHeldBack(this.name, 'circuit open', Math.max(1, Math.ceil(waitMs / 1000)));
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
      // Settles the call at its limit even while it waits in the pool's queue, where undici would keep it until a connection frees.
      exchange.timer = setTimeout(() => exchange.cancel(cut === 'timeout' ? new UpstreamTimeout(this.name) : new UpstreamDeadlinePassed(this.name, true)), limitMs);
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
        const failure = this.#classify(error);
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

  #classify(error: unknown): UpstreamUnavailable | UpstreamTimeout {
    const { name } = this.#options;
    if (error instanceof UpstreamUnavailable || error instanceof UpstreamTimeout) return error;
    if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
      return new UpstreamTimeout(name);
    }
    const code = (error as { code?: unknown })?.code;
    return typeof code === 'string' ? new UpstreamUnreachable(name, code) : new UpstreamUnavailable(name, 'transport error');
  }

  #circuitBreaker(circuit: NonNullable<UpstreamLimits['circuit']>): CircuitBreakerPolicy {
    const { logger } = this.#options;
    // A 5xx answer counts as a failure and is still returned to the caller.
    const policy = handleWhen(upstreamInTrouble).orWhenResult((res) => (res as UpstreamResponse).status >= 500);
    const breaker = circuitBreaker(policy, { halfOpenAfter: circuit.halfOpenMs, breaker: new ConsecutiveBreaker(circuit.failures) });
    breaker.onBreak(() => {
      this.#openedAt = Date.now();
      logger.warn('circuit opened: calls fail at once until a trial call succeeds', { upstream: this.name, failures: circuit.failures, halfOpenMs: circuit.halfOpenMs });
    });
    breaker.onHalfOpen(() => logger.info('circuit half-open: one trial call', { upstream: this.name }));
    breaker.onReset(() => logger.info('circuit closed: the upstream answers again', { upstream: this.name }));
    breaker.onStateChange(() => {
      const state = this.circuit;
      for (const listener of this.#circuitListeners) listener(state);
    });
    return breaker;
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

/**
 * One call's handler of undici's dispatch API: status, headers and the body
 * as text, parsed as JSON at the end, settled once. Cheaper than
 * `pool.request` (no body stream, no async resource, no abort signal per
 * call): this runs for every upstream call. `cancel` settles it at once and
 * aborts the request, at once when it has a connection, else as soon as
 * undici hands it one.
 */
class Exchange implements Dispatcher.DispatchHandler {
  timer: NodeJS.Timeout | undefined;
  #status = 0;
  #rawHeaders: Buffer[] = [];
  #chunks: Buffer[] = [];
  #size = 0;
  #abort: ((reason?: Error) => void) | undefined;
  #settled = false;

  constructor(
    private readonly name: string,
    private readonly maxBodyBytes: number,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  cancel(error: Error): void {
    if (this.#settle()) this.reject(error);
    this.#abort?.(error);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#settled) abort(new UpstreamUnavailable(this.name, 'cancelled'));
    else this.#abort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    this.#status = status;
    this.#rawHeaders = rawHeaders;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === 14 && name.toString('latin1').toLowerCase() === 'content-length') {
        if (Number(rawHeaders[i + 1]!.toString('latin1')) > this.maxBodyBytes) this.cancel(new UpstreamAnswerTooLarge(this.name, status));
        break;
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#settled) return true;
    this.#size += chunk.length;
    if (this.#size > this.maxBodyBytes) this.cancel(new UpstreamAnswerTooLarge(this.name, this.#status));
    else this.#chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (!this.#settle()) return;
    const chunks = this.#chunks;
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.reject(new UpstreamAnswerNotJson(this.name, this.#status));
      return;
    }
    const raw = this.#rawHeaders;
    let headers: Record<string, string | string[]> | undefined;
    // The headers as an object only when read (a Dating API 429's Retry-After): most answers' never are.
    this.resolve({
      status: this.#status,
      json,
      get headers() {
        return (headers ??= headersOf(raw));
      },
    });
  }

  onError(error: Error): void {
    if (this.#settle()) this.reject(error);
  }

  /** True the first time: the call is settled now. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.timer);
    return true;
  }
}

/** undici's raw headers as an object: names lower-cased, a repeated name's values in an array. */
function headersOf(raw: Buffer[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const known = headers[name];
    headers[name] = known === undefined ? value : Array.isArray(known) ? [...known, value] : [known, value];
  }
  return headers;
}

/** What an observer is told of a failed attempt. */
function failureKind(error: Error): 'timeout' | 'unavailable' | 'circuit_open' | 'shed' {
  if (error instanceof UpstreamHeldBack) return error.reason === 'circuit open' ? 'circuit_open' : 'shed';
  if (error instanceof UpstreamTimeout || error instanceof UpstreamDeadlinePassed) return 'timeout';
  return 'unavailable';
}
