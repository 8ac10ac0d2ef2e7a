import type { Config } from './config.js';
import type { Services } from './context.js';
import { MemoryIdempotencyStore, RedisIdempotencyStore } from './idempotency.js';
import type { Logger } from './logger.js';
import type { Redis } from 'ioredis';
import { createRateLimiter } from './rate-limit.js';
import { DatingClient } from './upstream/dating/client.js';
import { upstreamLimits } from './upstream/http.js';

/** What createDatingUser and joinDating need, and how to close it. */
export interface DatingServices {
  services: Pick<Services, 'dating' | 'idempotency' | 'anonymousDatingLimit'>;
  close(): Promise<void>;
}

/**
 * The dating client for `DATING_SITES`, plus the idempotency store and the
 * anonymous rate limit: in this process's memory, or in `redis` (the
 * gateway's connection when `REDIS_URL` is set) so every instance shares them.
 */
export function createDatingServices(config: Config, logger: Logger, redis: Redis | null): DatingServices {
  const sites = config.DATING_SITES ?? [];
  if (sites.length === 0) logger.warn('DATING_SITES is not set: no dating site is configured');
  const dating = new DatingClient({
    ...upstreamLimits(config),
    sites,
    logger: logger.child({ upstream: 'dating' }),
  });
  const idempotencyOptions = {
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    // joinDating holds a key while it waits for its per-user lock (up to two
    // upstream timeouts) and then makes up to four upstream calls.
    inFlightSeconds: Math.ceil((6 * config.UPSTREAM_TIMEOUT_MS) / 1000) + 10,
  };
  const limit = { limit: config.DATING_ANONYMOUS_PER_MINUTE, windowSeconds: 60 };
  const prefix = config.REDIS_KEY_PREFIX;
  const services = {
    dating,
    idempotency: redis
      ? new RedisIdempotencyStore(redis, `${prefix}idempotency:`, idempotencyOptions)
      : new MemoryIdempotencyStore(idempotencyOptions),
    anonymousDatingLimit: createRateLimiter(redis, `${prefix}ratelimit:dating-anonymous:`, limit),
  };
  return {
    services,
    close: async () => {
      await Promise.all([dating.close(), services.idempotency.close(), services.anonymousDatingLimit.close()]);
    },
  };
}
