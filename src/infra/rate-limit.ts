import type { Redis } from 'ioredis';
import { makeRoomOldestFirst, oldest } from './bounded-map.js';
import { LimitsUnavailable } from '../domain/errors.js';
import { redisHealth } from './redis.js';

/**
 * Fixed-window request limits, e.g. anonymous `createDatingUser` calls per
 * client IP and minute. In memory by default; in Redis when several gateway
 * instances must share the count.
 */
export interface RateLimiter {
  /** Counts one call of `key`; 0 when it is within the limit, else the seconds until the window ends. */
  take(key: string): Promise<number>;
  /** Forgets the count of `key` (e.g. after a right password). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimitOptions {
  /** Calls allowed per window. */
  limit: number;
  /** Window length in seconds. Default 60. */
  windowSeconds?: number;
}

/** What an in-memory limit does when it counts MEMORY_LIMITS_MAX_KEYS live windows and a new key comes. */
export type WhenFull = 'evict' | 'refuse';

export class MemoryRateLimiter implements RateLimiter {
  /** In insertion order, which is expiry order: every window lasts as long, and a new one is inserted afresh. */
  readonly #windows = new Map<string, { count: number; endsAt: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #whenFull: WhenFull;
  readonly maxKeys: number;

  constructor(
    options: RateLimitOptions & {
      /** Keys tracked at most (MEMORY_LIMITS_MAX_KEYS); expired windows are reclaimed first. Default 100 000. */
      maxKeys?: number;
      /**
       * When every window is live: `evict` drops the oldest (its count starts
       * again), so a flood of addresses cannot lock out new ones (general
       * limits, which fail open); `refuse` keeps every count and refuses the
       * new key with LIMITS_UNAVAILABLE until the oldest window ends (limits
       * that fail closed: a flood of other targets must not reset a victim's
       * count). Default `evict`.
       */
      whenFull?: WhenFull;
    },
  ) {
    this.#limit = options.limit;
    this.#windowMs = (options.windowSeconds ?? 60) * 1000;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.#whenFull = options.whenFull ?? 'evict';
  }

  async take(key: string): Promise<number> {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || window.endsAt <= now) {
      this.#windows.delete(key);
      if (!makeRoomOldestFirst(this.#windows, this.maxKeys, (w) => w.endsAt <= now, this.#whenFull === 'evict')) {
        throw memoryFull(secondsUntil(oldest(this.#windows)!.endsAt, now));
      }
      window = { count: 0, endsAt: now + this.#windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return window.count <= this.#limit ? 0 : secondsUntil(window.endsAt, now);
  }

  async reset(key: string) {
    this.#windows.delete(key);
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
    return count <= this.#limit ? 0 : Math.max(1, Math.ceil(ttlMs / 1000));
  }

  async reset(key: string) {
    await this.redis.del(this.prefix + key);
  }

  /** The connection is shared and closed by its owner. */
  async close() {}
}

/** A limit that fails closed is full of live counts (MEMORY_LIMITS_MAX_KEYS). */
export const memoryFull = (retryAfterSeconds: number) =>
  new LimitsUnavailable(retryAfterSeconds, `Too many sign-in and code checks are being counted. Try again in ${retryAfterSeconds} seconds.`);

/** Whole seconds from `now` until `at`, at least 1. */
export const secondsUntil = (at: number, now: number) => Math.max(1, Math.ceil((at - now) / 1000));

/**
 * What a limit does while Redis fails (down, or slower than
 * REDIS_COMMAND_TIMEOUT_MS): `open` counts in this process's memory instead
 * (general limits: a Redis outage must not stop the API), `closed` refuses
 * with LIMITS_UNAVAILABLE (code and password attempts, codes sent: an outage
 * must not open the door to guessing).
 */
export type WhenRedisFails = 'open' | 'closed';

/** Seconds a client is told to wait when a fail-closed limit cannot count. */
export const LIMITS_UNAVAILABLE_RETRY_SECONDS = 5;

class RedisFailurePolicy implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly shared: RateLimiter,
    private readonly fallback: RateLimiter | null,
  ) {}

  take(key: string): Promise<number> {
    return this.#guard(() => this.shared.take(key), () => this.fallback!.take(key));
  }

  reset(key: string): Promise<void> {
    return this.#guard(() => this.shared.reset(key), () => this.fallback!.reset(key));
  }

  async close() {
    await this.fallback?.close();
  }

  async #guard<T>(shared: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    const health = redisHealth(this.redis);
    try {
      const result = await shared();
      health.worked();
      return result;
    } catch (error) {
      health.failed(error as Error);
      if (this.fallback) return fallback();
      throw new LimitsUnavailable(LIMITS_UNAVAILABLE_RETRY_SECONDS);
    }
  }
}

/**
 * In Redis when the gateway has one (every instance shares the count), else
 * in memory; `whenRedisFails` says what happens while Redis fails, and also
 * when the in-memory count is full: `open` drops the oldest count, `closed`
 * refuses the new key (MemoryRateLimiter's `whenFull`).
 */
export function createRateLimiter(
  redis: Redis | null,
  prefix: string,
  options: RateLimitOptions & {
    whenRedisFails?: WhenRedisFails;
    /** Keys an in-memory count keeps (MEMORY_LIMITS_MAX_KEYS); full, a limit that fails closed refuses. Default 100 000. */
    maxKeys?: number;
  },
): RateLimiter {
  const failClosed = options.whenRedisFails === 'closed';
  if (!redis) return new MemoryRateLimiter({ ...options, whenFull: failClosed ? 'refuse' : 'evict' });
  const fallback = failClosed ? null : new MemoryRateLimiter({ ...options, whenFull: 'evict' });
  return new RedisFailurePolicy(redis, new RedisRateLimiter(redis, prefix, options), fallback);
}
