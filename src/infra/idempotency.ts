import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { makeRoom } from './bounded-map.js';

/**
 * Idempotency keys: the first call with a key runs, and its outcome is kept
 * (serialized by the caller) so a repeat gets that outcome instead of doing
 * the work again. While the first call runs, the key holds an in-flight
 * marker; a concurrent repeat sees `pending` and waits or gives up. Entry
 * keys are built by the caller from non-secret parts (user id, a hash of the
 * client's key); values hold no password or API key.
 *
 * The store also serializes work per key (`lock`), e.g. one joinDating per
 * user at a time: in this process, and with Redis across instances.
 */

/** The state a key was found in when claiming it. */
export type Claim =
  | { kind: 'claimed'; /** Stores the outcome for `ttlSeconds`. */ complete(result: string): Promise<void>; /** Frees the key, so a retry runs again. */ release(): Promise<void> }
  | { kind: 'pending'; fingerprint: string }
  | { kind: 'done'; fingerprint: string; result: string }
  /** The in-memory store is full of live entries: nothing was claimed; the soonest entry expires in `retryAfterSeconds`. */
  | { kind: 'full'; retryAfterSeconds: number };

/** Ends a hold taken with `lock`. */
export type Unlock = () => Promise<void>;

export interface LockOptions {
  /** How long to wait for the lock, in ms. */
  waitMs: number;
  /** Longest hold: with Redis the lock ends by itself after this, should the holder crash. */
  holdMs: number;
}

/** A claim or entry that Redis kept changing under us three times in a row. */
export class IdempotencyKeyContended extends Error {
  override readonly name = 'IdempotencyKeyContended';
  constructor() {
    super('idempotency key could not be claimed: it changed between SET NX and GET three times');
  }
}

/** A stored entry that is not one this store writes (another program, or a corrupted value). */
export class IdempotencyEntryUnreadable extends Error {
  override readonly name = 'IdempotencyEntryUnreadable';
  constructor() {
    super('idempotency entry of an unknown shape');
  }
}

export interface IdempotencyStore {
  /**
   * Claims `key` for one call. `fingerprint` describes the request (no
   * secrets) so a caller can tell a repeat from a different request that
   * reuses the key.
   */
  claim(key: string, fingerprint: string): Promise<Claim>;
  /** Holds `key` exclusively until the returned function is called; null when it stays taken for `waitMs`. */
  lock(key: string, options: LockOptions): Promise<Unlock | null>;
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

/** Locks among the calls of this process: a queue per key, in arrival order. */
class LocalLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async lock(key: string, waitMs: number): Promise<(() => void) | null> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // Whoever comes next waits for the holder before us too, even when we give up.
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    const unlock = () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
    const timeout = new AbortController();
    const held = await Promise.race([
      previous.then(() => true),
      sleep(waitMs, false, { signal: timeout.signal }).catch(() => false),
    ]);
    timeout.abort();
    if (held) return unlock;
    unlock();
    return null;
  }
}

/**
 * In this process only, each entry expiring. Bounded: when full, expired
 * entries go; live ones (in flight or kept outcomes) are never evicted, as
 * that would let a repeat run again; a claim that finds no room is refused
 * (`full`) instead.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, { entry: Entry; expiresAt: number }>();
  readonly #locks = new LocalLocks();
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
    if (!makeRoom(this.#entries, this.maxEntries, (e) => e.expiresAt <= now, false)) {
      let soonest = Infinity;
      for (const { expiresAt } of this.#entries.values()) soonest = Math.min(soonest, expiresAt);
      return { kind: 'full', retryAfterSeconds: Math.min(3600, Math.max(1, Math.ceil((soonest - now) / 1000))) };
    }
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

  async lock(key: string, { waitMs }: LockOptions): Promise<Unlock | null> {
    const unlock = await this.#locks.lock(key, waitMs);
    return unlock && (async () => unlock());
  }

  async close() {
    this.#entries.clear();
  }
}

/** Compare-and-set: replace the marker with the outcome only while this call still owns it. */
const COMPLETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0`;

/** Polling interval while another instance holds a Redis lock, in ms. */
const LOCK_POLL_MS = 50;

/**
 * Shared by every gateway instance on the same Redis: `SET key marker NX EX`
 * claims, a compare-and-set script stores the outcome with `EX ttl`. Locks
 * are `SET key token NX PX hold` (after the in-process lock, so one instance
 * polls Redis once per key), freed by a compare-and-delete.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #ttlSeconds: number;
  readonly #inFlightSeconds: number;
  readonly #locks = new LocalLocks();

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
    throw new IdempotencyKeyContended();
  }

  async lock(key: string, { waitMs, holdMs }: LockOptions): Promise<Unlock | null> {
    const deadline = Date.now() + waitMs;
    const unlockHere = await this.#locks.lock(key, waitMs);
    if (unlockHere === null) return null;
    const redisKey = `${this.prefix}lock:${key}`;
    const token = randomUUID();
    try {
      for (;;) {
        if ((await this.redis.set(redisKey, token, 'PX', holdMs, 'NX')) === 'OK') break;
        if (Date.now() >= deadline) {
          unlockHere();
          return null;
        }
        await sleep(LOCK_POLL_MS);
      }
    } catch (error) {
      unlockHere();
      throw error;
    }
    return async () => {
      try {
        await this.redis.eval(RELEASE, 1, redisKey, token);
      } finally {
        unlockHere();
      }
    };
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
  if (value?.state !== 'pending' && value?.state !== 'done') throw new IdempotencyEntryUnreadable();
  return value;
}
