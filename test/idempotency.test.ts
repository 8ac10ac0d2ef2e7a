import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { IdempotencyEntryUnreadable, MemoryIdempotencyStore, RedisIdempotencyStore, type Unlock } from '../src/infra/idempotency.js';
import { MemoryRateLimiter } from '../src/infra/rate-limit.js';

/* The idempotency stores (bounds, locks, errors) and the in-memory rate limiter's bound. */

describe('MemoryIdempotencyStore when full', () => {
  it('drops only expired entries, and refuses a claim rather than reopening a live key', async () => {
    const store = new MemoryIdempotencyStore({ ttlSeconds: 60, inFlightSeconds: 0.2, maxEntries: 2 });
    const a = await store.claim('a', 'fa');
    if (a.kind !== 'claimed') throw new Error(a.kind);
    await a.complete('result-a');
    expect((await store.claim('b', 'fb')).kind).toBe('claimed'); // in flight, never completed
    const refused = await store.claim('c', 'fc');
    expect(refused).toEqual({ kind: 'full', retryAfterSeconds: 1 });
    expect(await store.claim('a', 'fa')).toEqual({ kind: 'done', fingerprint: 'fa', result: 'result-a' });
    await sleep(250); // b's in-flight marker expires: room for one
    expect((await store.claim('c', 'fc')).kind).toBe('claimed');
    expect(await store.claim('a', 'fa')).toMatchObject({ kind: 'done' });
  });
});

describe('MemoryRateLimiter when full', () => {
  it('drops the oldest live window (its count starts again) so new addresses still get a window', async () => {
    const limiter = new MemoryRateLimiter({ limit: 1, maxKeys: 2 });
    expect(await limiter.take('x')).toBe(0);
    expect(await limiter.take('y')).toBe(0);
    expect(await limiter.take('z')).toBe(0);
    expect(await limiter.take('y')).toBeGreaterThan(0);
    expect(await limiter.take('x')).toBe(0);
  });
});

describe('MemoryIdempotencyStore.lock', () => {
  it('lets one holder in at a time, in order, and gives up after waitMs', async () => {
    const store = new MemoryIdempotencyStore({ ttlSeconds: 60 });
    const order: string[] = [];
    const first = (await store.lock('u', { waitMs: 1000, holdMs: 1000 }))!;
    const second = store.lock('u', { waitMs: 1000, holdMs: 1000 }).then((unlock) => {
      order.push('second');
      return unlock!;
    });
    expect(await store.lock('u', { waitMs: 50, holdMs: 1000 })).toBeNull();
    expect(await store.lock('other', { waitMs: 50, holdMs: 1000 })).not.toBeNull();
    order.push('first done');
    await first();
    await (await second)();
    expect(order).toEqual(['first done', 'second']);
    expect(await store.lock('u', { waitMs: 50, holdMs: 1000 })).not.toBeNull();
  });
});

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
async function redisUp(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
const up = await redisUp();

describe.skipIf(!up && !process.env.CI)('RedisIdempotencyStore', () => {
  const prefix = `test:${process.pid}:${randomUUID()}:`;
  const redis = new Redis(REDIS_URL);
  const [one, two] = [new RedisIdempotencyStore(redis, prefix, { ttlSeconds: 60 }), new RedisIdempotencyStore(redis, prefix, { ttlSeconds: 60 })];
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('locks across instances, and a crashed holder\'s lock ends after holdMs', async () => {
    const held = (await one.lock('u', { waitMs: 100, holdMs: 300 })) as Unlock;
    expect(held).not.toBeNull();
    expect(await two.lock('u', { waitMs: 100, holdMs: 300 })).toBeNull();
    await held();
    const next = await two.lock('u', { waitMs: 100, holdMs: 300 });
    expect(next).not.toBeNull();
    // `next` is never released, as if its instance crashed: the lock expires.
    const after = await one.lock('u', { waitMs: 1000, holdMs: 300 });
    expect(after).not.toBeNull();
    await after!();
  });

  it('refuses an entry it did not write with a named error', async () => {
    await redis.set(`${prefix}garbage`, JSON.stringify({ state: 'weird' }));
    await expect(one.claim('garbage', 'f')).rejects.toBeInstanceOf(IdempotencyEntryUnreadable);
  });
});
