import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { defer } from './harness.js';

/**
 * The Redis of the tests that need one: `REDIS_URL` (default
 * redis://127.0.0.1:6379). When it does not answer, such tests are skipped
 * with the reason printed, unless `CI` is set: then they fail.
 */
export function redisUrlForTests(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export interface RedisForTests {
  url: string;
  /** Why Redis cannot be used, or null when it answers PING. */
  problem: string | null;
  /** Skip the Redis tests: unreachable and not under CI. */
  skip: boolean;
  /** For `beforeAll`: throws (under CI) when Redis is unreachable. */
  require(): void;
  /**
   * A REDIS_KEY_PREFIX of its own (`test:<file>:<name>:<pid>:<uuid>:`):
   * every key under it, and no other, is deleted with the leftovers (after
   * the file when called while collecting or in a `beforeAll`, after the test
   * when called in one), so runs leave nothing in the shared Redis.
   */
  keyPrefix(name: string): string;
}

/** Probes the tests' Redis once; prints why the tests of `file` are skipped, if they are. */
export async function redisForTests(file: string): Promise<RedisForTests> {
  const url = redisUrlForTests();
  const problem = await redisProblem(url);
  const skip = problem !== null && !process.env.CI;
  if (skip) console.warn(`${file}: skipping the Redis tests, ${url} is unreachable (${problem}); under CI they fail instead`);
  return {
    url,
    problem,
    skip,
    require: () => {
      if (problem !== null) throw new Error(`Redis at ${url} is unreachable (${problem}); CI is set, so this fails instead of skipping`);
    },
    keyPrefix: (name) => {
      const prefix = `test:${file}:${name}:${process.pid}:${randomUUID()}:`;
      if (problem === null) defer(() => deleteKeys(url, prefix));
      return prefix;
    },
  };
}

/** Deletes every key that starts with `prefix` (SCAN, not KEYS: the Redis is shared). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    for await (const keys of redis.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

/** Null when Redis at `url` answers PING, else why not. */
async function redisProblem(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG' ? null : 'PING not answered with PONG';
  } catch (error) {
    return (error as Error).message || (error as Error).name;
  } finally {
    redis.disconnect();
  }
}
