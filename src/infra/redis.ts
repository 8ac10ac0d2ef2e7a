import { Redis } from 'ioredis';
import { Backoff } from './backoff.js';
import type { Logger } from './logger.js';

/** Options of one Redis connection. */
export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Connection errors and reconnects are logged here, without the URL's credentials. */
  logger: Logger;
  /** Tells connections apart in logs and `CLIENT LIST`, e.g. `idempotency`. */
  name: string;
  /** Limit of the TCP connect, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Attempts of one command across reconnects before it fails. Default 2. */
  maxRetriesPerRequest?: number;
  /**
   * Time limit of one command: a slower one fails, so a stalled Redis holds
   * no request for long (config REDIS_COMMAND_TIMEOUT_MS). Default 500.
   */
  commandTimeoutMs?: number;
  /** Counts connection errors (`gateway_redis_errors_total`). */
  metrics?: { redisError(connection: string): void };
}

/**
 * Whether a Redis connection works, as its events and its callers' commands
 * tell: the outage is logged once when it starts and once when it ends,
 * however many commands fail meanwhile.
 */
export class RedisHealth {
  #down = false;
  constructor(private readonly logger: Logger) {}

  get down(): boolean {
    return this.#down;
  }

  /** A connection error or a failed command. */
  failed(error: Error & { code?: string }): void {
    if (this.#down) return;
    this.#down = true;
    this.logger.error('redis unavailable', { error: error.code ?? error.name });
  }

  /** The connection is ready, or a command worked. */
  worked(): void {
    if (!this.#down) return;
    this.#down = false;
    this.logger.info('redis available again');
  }
}

const healthOf = new WeakMap<Redis, RedisHealth>();
/** The health of a connection made by connectRedis. */
export function redisHealth(redis: Redis): RedisHealth {
  const health = healthOf.get(redis);
  if (!health) throw new TypeError('redisHealth: not a connection of connectRedis');
  return health;
}

/** Resolves when `redis` is ready, or after `timeoutMs` either way (the gateway starts without it). */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    redis.on('ready', done);
  });
}

/** `redis://host:port/db` without user and password, for log lines. */
export function redisUrlForLogs(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Connects at once (no lazy connect), so a wrong URL shows in the log at
 * start. While Redis is down commands fail at once (no offline queue), and
 * a command that gets no answer fails after `commandTimeoutMs`: callers
 * decide whether that refuses a request or lets it pass. Reconnects back
 * off (infra/backoff.ts) up to 2 s. The outage is logged once per state
 * change (RedisHealth), with the host but never the password. Close with
 * `quit()` (or `disconnect()` when stuck).
 */
export function connectRedis(options: RedisConnectionOptions): Redis {
  const where = redisUrlForLogs(options.url);
  const logger = options.logger.child({ component: 'redis', connection: options.name, redis: where });
  const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
  const redis = new Redis(options.url, {
    lazyConnect: false,
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // ioredis counts the attempts of an outage from 1 again once the connection was ready.
    retryStrategy: (attempt) => {
      if (attempt === 1) backoff.reset();
      return backoff.next();
    },
  });
  const health = new RedisHealth(logger);
  healthOf.set(redis, health);
  redis.on('error', (error: Error & { code?: string }) => {
    options.metrics?.redisError(options.name);
    health.failed(error);
  });
  redis.on('ready', () => {
    if (health.down) health.worked();
    else logger.debug('redis connected');
  });
  return redis;
}
