import { Redis } from 'ioredis';
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
 * start. Commands fail after a bounded number of retries instead of
 * queueing forever while Redis is down; reconnects back off up to 2 s.
 * Every connection error is logged once per state change, with the host but
 * never the password. Close with `quit()` (or `disconnect()` when stuck).
 */
export function connectRedis(options: RedisConnectionOptions): Redis {
  const where = redisUrlForLogs(options.url);
  const logger = options.logger.child({ component: 'redis', connection: options.name, redis: where });
  const redis = new Redis(options.url, {
    lazyConnect: false,
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
  });
  let failing = false;
  redis.on('error', (error: Error & { code?: string }) => {
    if (failing) return;
    failing = true;
    logger.error('redis connection failed', { error: error.code ?? error.name });
  });
  redis.on('ready', () => {
    if (failing) logger.info('redis connection restored');
    else logger.debug('redis connected');
    failing = false;
  });
  return redis;
}
