import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { IdempotencyEntryUnreadable, MemoryIdempotencyStore, RedisIdempotencyStore, type Unlock } from '../src/infra/idempotency.js';
import { MemoryRateLimiter } from '../src/infra/rate-limit.js';
import { redisForTests } from './support/redis.js';

/* The idempotency stores (bounds, locks, errors) and the in-memory rate limiter's bound. */

describe('MemoryIdempotencyStore when full', () => {
  // The store's clock is faked: a busy machine's pause between two calls cannot expire an entry early.
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops only expired entries, and refuses a claim rather than reopening a live key', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryIdempotencyStore({ ttlSeconds: 60, inFlightSeconds: 0.2, maxEntries: 2 });
    const a = await store.claim('a', 'fa');
    if (a.kind !== 'claimed') throw new Error(a.kind);
    await a.complete('result-a');
    expect((await store.claim('b', 'fb')).kind).toBe('claimed'); // in flight, never completed
    const refused = await store.claim('c', 'fc');
    expect(refused).toEqual({ kind: 'full', retryAfterSeconds: 1 });
    expect(await store.claim('a', 'fa')).toEqual({ kind: 'done', fingerprint: 'fa', result: 'result-a' });
    vi.setSystemTime(Date.now() + 250); // b's in-flight marker expires: room for one
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
    // Holds and waits far beyond any pause of a busy machine; only the 50 ms waits are meant to run out.
    const first = (await store.lock('u', { waitMs: 30_000, holdMs: 30_000 }))!;
    const second = store.lock('u', { waitMs: 30_000, holdMs: 30_000 }).then((unlock) => {
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

const redisForFile = await redisForTests('idempotency');

describe.skipIf(redisForFile.skip)('RedisIdempotencyStore', () => {
  const prefix = redisForFile.keyPrefix('store');
  const redis = new Redis(redisForFile.url);
  const [one, two] = [new RedisIdempotencyStore(redis, prefix, { ttlSeconds: 60 }), new RedisIdempotencyStore(redis, prefix, { ttlSeconds: 60 })];
  afterAll(() => redis.quit());

  it('locks across instances, and a crashed holder\'s lock ends after holdMs', async () => {
    redisForFile.require();
    // Held far beyond any pause of a busy machine, so the 100 ms wait of `two` is what runs out.
    const held = (await one.lock('u', { waitMs: 100, holdMs: 30_000 })) as Unlock;
    expect(held).not.toBeNull();
    expect(await two.lock('u', { waitMs: 100, holdMs: 300 })).toBeNull();
    await held();
    const next = await two.lock('u', { waitMs: 100, holdMs: 300 });
    expect(next).not.toBeNull();
    // `next` is never released, as if its instance crashed: the lock expires after its 300 ms, well within this wait.
    const after = await one.lock('u', { waitMs: 15_000, holdMs: 300 });
    expect(after).not.toBeNull();
    await after!();
  });

  it('refuses an entry it did not write with a named error', async () => {
    await redis.set(`${prefix}garbage`, JSON.stringify({ state: 'weird' }));
    await expect(one.claim('garbage', 'f')).rejects.toBeInstanceOf(IdempotencyEntryUnreadable);
  });
});
