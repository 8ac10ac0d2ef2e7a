import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
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

/**
 * Where recovery flows are kept: in memory, or in Redis so that any instance
 * completes what another started. Each is found by the sha256 of its
 * recoveryToken; the token itself is never kept.
 */
export interface RecoveryStore {
  get(recoveryToken: string): Promise<RecoveryFlow | null>;
  set(recoveryToken: string, flow: RecoveryFlow, ttlSeconds: number): Promise<void>;
  delete(recoveryToken: string): Promise<void>;
}

/** The lookup key of a flow: the sha256 of its recoveryToken. */
const lookupKey = (recoveryToken: string) => createHash('sha256').update(recoveryToken).digest('base64url');

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

  async get(recoveryToken: string) {
    const entry = this.#flows.get(lookupKey(recoveryToken));
    return entry && entry.expiresAt > Date.now() ? entry.flow : null;
  }

  async set(recoveryToken: string, flow: RecoveryFlow, ttlSeconds: number) {
    const key = lookupKey(recoveryToken);
    const now = Date.now();
    const known = this.#flows.delete(key);
    if (!known && !makeRoomOldestFirst(this.#flows, this.maxFlows, (e) => e.expiresAt <= now, false)) {
      throw memoryFull(secondsUntil(oldest(this.#flows)!.expiresAt, now));
    }
    this.#flows.set(key, { flow, expiresAt: now + ttlSeconds * 1000 });
  }

  async delete(recoveryToken: string) {
    this.#flows.delete(lookupKey(recoveryToken));
  }
}

/**
 * Each flow under `<prefix><sha256 of the token>`, sealed with AES-256-GCM
 * under a key derived from the token (HKDF-SHA256): Redis, its backups and
 * whoever reads them see neither the login nor the Account API's recovery
 * token, and only the holder of the recoveryToken can open it. The lookup key
 * is bound in as associated data, so a value moved to another key does not
 * open. Fails closed: while Redis fails, recovery answers LIMITS_UNAVAILABLE.
 */
export class RedisRecoveryStore implements RecoveryStore {
  constructor(
    private readonly redis: Redis,
    /** Prepended to every key, e.g. `gateway:recovery:`. */
    private readonly prefix: string,
  ) {}

  get(recoveryToken: string) {
    const key = lookupKey(recoveryToken);
    return this.#guard(async () => {
      const sealed = await this.redis.get(this.prefix + key);
      return sealed ? unseal(recoveryToken, key, sealed) : null;
    });
  }

  set(recoveryToken: string, flow: RecoveryFlow, ttlSeconds: number) {
    const key = lookupKey(recoveryToken);
    return this.#guard(async () => {
      await this.redis.set(this.prefix + key, seal(recoveryToken, key, flow), 'EX', ttlSeconds);
    });
  }

  delete(recoveryToken: string) {
    return this.#guard(async () => {
      await this.redis.del(this.prefix + lookupKey(recoveryToken));
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

/** The flow's own AES-256 key, from its recoveryToken (32 random bytes, so no stretching is needed). */
const flowKey = (recoveryToken: string) => Buffer.from(hkdfSync('sha256', recoveryToken, 'gateway password recovery', 'flow v1', 32));

/** `v1.<iv>.<ciphertext>.<tag>`, base64url. */
function seal(recoveryToken: string, key: string, flow: RecoveryFlow): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', flowKey(recoveryToken), iv);
  cipher.setAAD(Buffer.from(key));
  const body = Buffer.concat([cipher.update(JSON.stringify(flow), 'utf8'), cipher.final()]);
  return ['v1', iv, body, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** The flow, or null when the value does not open with this token (another format, tampered). */
function unseal(recoveryToken: string, key: string, sealed: string): RecoveryFlow | null {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || body === undefined || tag === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', flowKey(recoveryToken), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(key));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return JSON.parse(Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')) as RecoveryFlow;
  } catch {
    return null;
  }
}
