import type { Redis } from 'ioredis';

/**
 * `/readiness`: 200 only while the Account API is reachable (its circuit
 * closed, and an answer in the last `freshMs`, else a cheap probe), Redis
 * answers PING (when configured) and the gateway is not draining; else 503
 * with the reasons. Every upstream's circuit is listed (`circuits`), but
 * only the Account API's fails readiness: every operation needs it, while a
 * dating site that is down fails only its own joins, and taking the
 * instance out of rotation would not help them (every instance sees the
 * same site). `/health` stays yoga's liveness check. Concurrent checks
 * share one probe.
 */
/** An upstream origin's circuit as readiness reads it (src/upstream/http.ts `UpstreamState`). */
export interface CircuitView {
  readonly name: string;
  readonly circuit: 'closed' | 'open' | 'half-open';
}

export interface ReadinessOptions {
  /** Resolves when the Account API answers at all; rejects otherwise. */
  probeAccount: () => Promise<unknown>;
  /** The circuits: `account` (the Account API's, which readiness needs closed) and `others` (listed only). Read at each check. */
  circuits?: () => { account: readonly CircuitView[]; others: readonly CircuitView[] };
  redis: Redis | null;
  /** An Account API answer this recent makes a probe unneeded. Default 10 s. */
  freshMs?: number;
  /** Longest wait for a probe or a PING. Default 2 s. */
  probeTimeoutMs?: number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { draining: boolean; account: string; redis: string; circuits: Record<string, string> };
}

export class Readiness {
  #draining = false;
  #lastAccountAnswer = Number.NEGATIVE_INFINITY;
  #probing: Promise<string> | undefined;

  constructor(private readonly options: ReadinessOptions) {}

  /** The Account API answered (any status): it is reachable. */
  accountAnswered(): void {
    this.#lastAccountAnswer = performance.now();
  }

  /** From now on not ready, for good (SIGTERM). */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async check(): Promise<ReadinessReport> {
    const { account: accountCircuits = [], others = [] } = this.options.circuits?.() ?? {};
    const circuits = Object.fromEntries([...accountCircuits, ...others].map((c) => [c.name, c.circuit]));
    if (this.#draining) return { ready: false, checks: { draining: true, account: 'not checked', redis: 'not checked', circuits } };
    // With its circuit open, a recent answer does not count; the probe goes through the circuit: refused at
    // once while it is open, and the trial call that closes it once UPSTREAM_BREAKER_HALF_OPEN_MS has passed.
    const open = accountCircuits.some((c) => c.circuit !== 'closed');
    const [account, redis] = await Promise.all([this.#account(open).then((a) => (a !== 'ok' && open ? `circuit ${this.#circuitOf(accountCircuits)}` : a)), this.#redis()]);
    return { ready: account === 'ok' && (redis === 'ok' || redis === 'not configured') && !this.#draining, checks: { draining: this.#draining, account, redis, circuits } };
  }

  /** Writes the report as JSON, 200 or 503. */
  async respond(res: import('node:http').ServerResponse): Promise<void> {
    const report = await this.check();
    res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: report.ready ? 'ready' : 'not ready', ...report.checks }));
  }

  /** The first circuit that is not closed, e.g. `open`. */
  #circuitOf(circuits: readonly CircuitView[]): string {
    return circuits.find((c) => c.circuit !== 'closed')?.circuit ?? 'closed';
  }

  #account(probeAnyway: boolean): Promise<string> {
    if (!probeAnyway && performance.now() - this.#lastAccountAnswer < (this.options.freshMs ?? 10_000)) return Promise.resolve('ok');
    this.#probing ??= this.#bounded(this.options.probeAccount())
      .then(() => {
        this.accountAnswered();
        return 'ok';
      })
      .catch((error: unknown) => `unreachable (${errorCode(error)})`)
      .finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  async #redis(): Promise<string> {
    const redis = this.options.redis;
    if (!redis) return 'not configured';
    try {
      await this.#bounded(redis.ping());
      return 'ok';
    } catch (error) {
      return `unreachable (${errorCode(error)})`;
    }
  }

  #bounded<T>(promise: Promise<T>): Promise<T> {
    const ms = this.options.probeTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' })), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

function errorCode(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown }; code?: unknown } | null)?.extensions?.code ?? (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'unknown';
}
