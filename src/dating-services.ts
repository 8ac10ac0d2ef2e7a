import type { Config } from './config.js';
import type { Services } from './context.js';
import { MemoryIdempotencyStore, RedisIdempotencyStore } from './idempotency.js';
import type { Logger } from './logger.js';
import { MemoryRateLimiter, RedisRateLimiter } from './rate-limit.js';
import { connectRedis } from './redis.js';
import { DatingClient } from './upstream/dating/client.js';

/** What createDatingUser and joinDating need, and how to close it. */
export interface DatingServices {
  services: Pick<Services, 'dating' | 'idempotency' | 'anonymousDatingLimit'>;
  close(): Promise<void>;
}

/**
 * The dating client for `DATING_SITES`, plus the idempotency store and the
 * anonymous rate limit: in this process's memory, or in Redis when
 * `REDIS_URL` is set so every gateway instance shares them.
 */
export function createDatingServices(config: Config, logger: Logger): DatingServices {
  const sites = config.DATING_SITES ?? [];
  if (sites.length === 0) logger.warn('DATING_SITES is not set: no dating site is configured');
  const dating = new DatingClient({
    sites,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    maxBodyBytes: config.UPSTREAM_MAX_BODY_BYTES,
    connections: config.UPSTREAM_CONNECTIONS,
    logger: logger.child({ upstream: 'dating' }),
  });
  const idempotencyOptions = {
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    // joinDating makes up to three upstream calls while it holds a key.
    inFlightSeconds: Math.ceil((4 * config.UPSTREAM_TIMEOUT_MS) / 1000) + 10,
  };
  const limit = { limit: config.DATING_ANONYMOUS_PER_MINUTE, windowSeconds: 60 };
  const redis = config.REDIS_URL ? connectRedis({ url: config.REDIS_URL, logger, name: 'gateway-dating' }) : null;
  const prefix = config.REDIS_KEY_PREFIX;
  const services = {
    dating,
    idempotency: redis
      ? new RedisIdempotencyStore(redis, `${prefix}idempotency:`, idempotencyOptions)
      : new MemoryIdempotencyStore(idempotencyOptions),
    anonymousDatingLimit: redis
      ? new RedisRateLimiter(redis, `${prefix}ratelimit:dating-anonymous:`, limit)
      : new MemoryRateLimiter(limit),
  };
  return {
    services,
    close: async () => {
      await Promise.all([dating.close(), services.idempotency.close(), services.anonymousDatingLimit.close()]);
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
