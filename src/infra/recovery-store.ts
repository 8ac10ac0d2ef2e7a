import type { Redis } from 'ioredis';
import { LimitsUnavailable } from '../domain/errors.js';
import { makeRoomOldestFirst, oldest } from './bounded-map.js';
import { LIMITS_UNAVAILABLE_RETRY_SECONDS, memoryFull, secondsUntil } from './rate-limit.js';
import { redisHealth } from './redis.js';

/** One password recovery, kept under the hash of the gateway's recoveryToken (src/flows/password-recovery.ts). */
export interface RecoveryFlow {
  login: string;
  /** pending: the upstream call is out; sent: a code went; none: no such login; failed: the call failed. */
  state: 'pending' | 'sent' | 'none' | 'failed';
  /** The Account API's token, when a code went: never shown to a client. */
  upstreamToken?: string;
}

/** Where recovery flows are kept: in memory, or in Redis so that any instance completes what another started. */
export interface RecoveryStore {
  get(key: string): Promise<RecoveryFlow | null>;
  set(key: string, flow: RecoveryFlow, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemoryRecoveryStore implements RecoveryStore {
  /** In insertion order, which is expiry order: every flow lives PASSWORD_RECOVERY_TTL_SECONDS from its last set. */
  readonly #flows = new Map<string, { flow: RecoveryFlow; expiresAt: number }>();
  /**
   * Flows kept at most (MEMORY_LIMITS_MAX_KEYS); expired ones are reclaimed
   * first. When all are live a new flow is refused with LIMITS_UNAVAILABLE:
   * dropping a live one would turn its owner's code into InvalidCode.
   * Default 100 000.
   */
  constructor(private readonly maxFlows = 100_000) {}

  async get(key: string) {
    const entry = this.#flows.get(key);
    return entry && entry.expiresAt > Date.now() ? entry.flow : null;
  }

  async set(key: string, flow: RecoveryFlow, ttlSeconds: number) {
    const now = Date.now();
    const known = this.#flows.delete(key);
    if (!known && !makeRoomOldestFirst(this.#flows, this.maxFlows, (e) => e.expiresAt <= now, false)) {
      throw memoryFull(secondsUntil(oldest(this.#flows)!.expiresAt, now));
    }
    this.#flows.set(key, { flow, expiresAt: now + ttlSeconds * 1000 });
  }

  async delete(key: string) {
    this.#flows.delete(key);
  }
}

/** Fails closed: while Redis fails, recovery answers LIMITS_UNAVAILABLE. */
export class RedisRecoveryStore implements RecoveryStore {
  constructor(
    private readonly redis: Redis,
    /** Prepended to every key, e.g. `gateway:recovery:`. */
    private readonly prefix: string,
  ) {}

  get(key: string) {
    return this.#guard(async () => {
      const text = await this.redis.get(this.prefix + key);
      return text ? (JSON.parse(text) as RecoveryFlow) : null;
    });
  }

  set(key: string, flow: RecoveryFlow, ttlSeconds: number) {
    return this.#guard(async () => {
      await this.redis.set(this.prefix + key, JSON.stringify(flow), 'EX', ttlSeconds);
    });
  }

  delete(key: string) {
    return this.#guard(async () => {
      await this.redis.del(this.prefix + key);
    });
  }

  async #guard<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await command();
      redisHealth(this.redis).worked();
      return result;
    } catch (error) {
      redisHealth(this.redis).failed(error as Error);
      throw new LimitsUnavailable(LIMITS_UNAVAILABLE_RETRY_SECONDS);
    }
  }
}
