import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Idempotency keys: the first call with a key runs, and its outcome is kept
 * (serialized by the caller) so a repeat gets that outcome instead of doing
 * the work again. While the first call runs, the key holds an in-flight
 * marker; a concurrent repeat sees `pending` and waits or gives up. Entry
 * keys are built by the caller from non-secret parts (user id, a hash of the
 * client's key); values hold no password or API key.
 */

/** The state a key was found in when claiming it. */
export type Claim =
  | { kind: 'claimed'; /** Stores the outcome for `ttlSeconds`. */ complete(result: string): Promise<void>; /** Frees the key, so a retry runs again. */ release(): Promise<void> }
  | { kind: 'pending'; fingerprint: string }
  | { kind: 'done'; fingerprint: string; result: string };

export interface IdempotencyStore {
  /**
   * Claims `key` for one call. `fingerprint` describes the request (no
   * secrets) so a caller can tell a repeat from a different request that
   * reuses the key.
   */
  claim(key: string, fingerprint: string): Promise<Claim>;
  close(): Promise<void>;
}

export interface IdempotencyOptions {
  /** How long an outcome is kept, in seconds. */
  ttlSeconds: number;
  /**
   * How long an in-flight marker lives when its call never completes nor
   * releases it (a crash), in seconds. Default 120.
   */
  inFlightSeconds?: number;
}

type Entry =
  | { state: 'pending'; fingerprint: string; owner: string }
  | { state: 'done'; fingerprint: string; result: string };

const IN_FLIGHT_SECONDS = 120;

/** In this process only: bounded (oldest entries evicted first), each entry expiring. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, { entry: Entry; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #inFlightMs: number;
  readonly maxEntries: number;

  constructor(options: IdempotencyOptions & { /** Most entries kept. Default 10 000. */ maxEntries?: number }) {
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#inFlightMs = (options.inFlightSeconds ?? IN_FLIGHT_SECONDS) * 1000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    const now = Date.now();
    const found = this.#entries.get(key);
    if (found && found.expiresAt > now) return describe(found.entry);
    if (found) this.#entries.delete(key);
    this.#makeRoom(now);
    const pending: Entry = { state: 'pending', fingerprint, owner: randomUUID() };
    this.#entries.set(key, { entry: pending, expiresAt: now + this.#inFlightMs });
    const owns = () => this.#entries.get(key)?.entry === pending;
    return {
      kind: 'claimed',
      complete: async (result) => {
        if (!owns()) return;
        this.#entries.delete(key);
        this.#entries.set(key, { entry: { state: 'done', fingerprint, result }, expiresAt: Date.now() + this.#ttlMs });
      },
      release: async () => {
        if (owns()) this.#entries.delete(key);
      },
    };
  }

  #makeRoom(now: number) {
    if (this.#entries.size < this.maxEntries) return;
    for (const [key, { expiresAt }] of this.#entries) if (expiresAt <= now) this.#entries.delete(key);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.maxEntries) break;
      this.#entries.delete(key);
    }
  }

  async close() {
    this.#entries.clear();
  }
}

/** Compare-and-set: replace the marker with the outcome only while this call still owns it. */
const COMPLETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0`;

/**
 * Shared by every gateway instance on the same Redis: `SET key marker NX EX`
 * claims, a compare-and-set script stores the outcome with `EX ttl`.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #ttlSeconds: number;
  readonly #inFlightSeconds: number;

  constructor(
    private readonly redis: Redis,
    /** Prepended to every key, e.g. `gateway:idempotency:`. */
    private readonly prefix: string,
    options: IdempotencyOptions,
  ) {
    this.#ttlSeconds = options.ttlSeconds;
    this.#inFlightSeconds = options.inFlightSeconds ?? IN_FLIGHT_SECONDS;
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    const redisKey = this.prefix + key;
    const marker = JSON.stringify({ state: 'pending', fingerprint, owner: randomUUID() } satisfies Entry);
    for (let attempt = 0; attempt < 3; attempt++) {
      const set = await this.redis.set(redisKey, marker, 'EX', this.#inFlightSeconds, 'NX');
      if (set === 'OK') {
        return {
          kind: 'claimed',
          complete: async (result) => {
            const done = JSON.stringify({ state: 'done', fingerprint, result } satisfies Entry);
            await this.redis.eval(COMPLETE, 1, redisKey, marker, done, String(this.#ttlSeconds));
          },
          release: async () => {
            await this.redis.eval(RELEASE, 1, redisKey, marker);
          },
        };
      }
      const current = await this.redis.get(redisKey);
      if (current !== null) return describe(parseEntry(current));
      // Expired or released between SET and GET: try to claim again.
    }
    throw new Error('idempotency key could not be claimed');
  }

  /** The connection is shared and closed by its owner. */
  async close() {}
}

function describe(entry: Entry): Claim {
  return entry.state === 'done'
    ? { kind: 'done', fingerprint: entry.fingerprint, result: entry.result }
    : { kind: 'pending', fingerprint: entry.fingerprint };
}

function parseEntry(text: string): Entry {
  const value = JSON.parse(text) as Entry;
  if (value?.state !== 'pending' && value?.state !== 'done') throw new Error('idempotency entry of an unknown shape');
  return value;
}
