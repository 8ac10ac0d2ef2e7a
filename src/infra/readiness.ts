import type { Redis } from 'ioredis';

/**
 * `/readiness`: 200 only while the Account API is reachable (an answer in the
 * last `freshMs`, else a cheap probe), Redis answers PING (when configured)
 * and the gateway is not draining; else 503 with the reasons. `/health`
 * stays yoga's liveness check. Concurrent checks share one probe.
 */
export interface ReadinessOptions {
  /** Resolves when the Account API answers at all; rejects otherwise. */
  probeAccount: () => Promise<unknown>;
  redis: Redis | null;
  /** An Account API answer this recent makes a probe unneeded. Default 10 s. */
  freshMs?: number;
  /** Longest wait for a probe or a PING. Default 2 s. */
  probeTimeoutMs?: number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { draining: boolean; account: string; redis: string };
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
    if (this.#draining) return { ready: false, checks: { draining: true, account: 'not checked', redis: 'not checked' } };
    const [account, redis] = await Promise.all([this.#account(), this.#redis()]);
    return { ready: account === 'ok' && (redis === 'ok' || redis === 'not configured') && !this.#draining, checks: { draining: this.#draining, account, redis } };
  }

  /** Writes the report as JSON, 200 or 503. */
  async respond(res: import('node:http').ServerResponse): Promise<void> {
    const report = await this.check();
    res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: report.ready ? 'ready' : 'not ready', ...report.checks }));
  }

  #account(): Promise<string> {
    if (performance.now() - this.#lastAccountAnswer < (this.options.freshMs ?? 10_000)) return Promise.resolve('ok');
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
