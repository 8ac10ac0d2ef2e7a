import type { Redis } from 'ioredis';
import { makeRoom } from './bounded-map.js';

/**
 * Fixed-window request limits, e.g. anonymous `createDatingUser` calls per
 * client IP and minute. In memory by default; in Redis when several gateway
 * instances must share the count.
 */
export interface RateLimiter {
  /** Counts one call of `key`; 0 when it is within the limit, else the seconds until the window ends. */
  take(key: string): Promise<number>;
  close(): Promise<void>;
}

export interface RateLimitOptions {
  /** Calls allowed per window. */
  limit: number;
  /** Window length in seconds. Default 60. */
  windowSeconds?: number;
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { count: number; endsAt: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly maxKeys: number;

  constructor(
    options: RateLimitOptions & {
      /**
       * Keys tracked at most. Expired windows are swept first; when every
       * window is live the oldest are dropped (their count starts again),
       * so a flood of addresses cannot lock out new ones. Default 10 000.
       */
      maxKeys?: number;
    },
  ) {
    this.#limit = options.limit;
    this.#windowMs = (options.windowSeconds ?? 60) * 1000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  async take(key: string): Promise<number> {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || window.endsAt <= now) {
      makeRoom(this.#windows, this.maxKeys, (w) => w.endsAt <= now, true);
      window = { count: 0, endsAt: now + this.#windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return window.count <= this.#limit ? 0 : Math.max(1, Math.ceil((window.endsAt - now) / 1000));
  }

  async close() {
    this.#windows.clear();
  }
}

const TAKE = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { n, redis.call('PTTL', KEYS[1]) }`;

/** Shared by every gateway instance on the same Redis: `INCR` plus `PEXPIRE` on the window's first call. */
export class RedisRateLimiter implements RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(
    private readonly redis: Redis,
    /** Prepended to every key, e.g. `gateway:ratelimit:dating-anonymous:`. */
    private readonly prefix: string,
    options: RateLimitOptions,
  ) {
    this.#limit = options.limit;
    this.#windowMs = (options.windowSeconds ?? 60) * 1000;
  }

  async take(key: string): Promise<number> {
    const [count, ttlMs] = (await this.redis.eval(TAKE, 1, this.prefix + key, String(this.#windowMs))) as [number, number];
    return count <= this.#limit ? 0 : Math.max(1, Math.ceil(Math.max(ttlMs, 0) / 1000));
  }

  /** The connection is shared and closed by its owner. */
  async close() {}
}

/** In Redis when the gateway has one (every instance shares the count), else in memory. */
export function createRateLimiter(redis: Redis | null, prefix: string, options: RateLimitOptions): RateLimiter {
  return redis ? new RedisRateLimiter(redis, prefix, options) : new MemoryRateLimiter(options);
}
