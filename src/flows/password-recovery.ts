import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { makeRoom } from '../bounded-map.js';
import { LimitsUnavailable, RateLimited } from '../errors.js';
import type { AccountLimits } from '../infra/account-limits.js';
import { loginKey } from '../infra/account-limits.js';
import type { Logger } from '../logger.js';
import { CodeCooldown, InvalidCode, Outcome, type Channel } from '../outcomes.js';
import { LIMITS_UNAVAILABLE_RETRY_SECONDS } from '../rate-limit.js';
import { redisHealth } from '../redis.js';
import type { AccountClient } from '../upstream/account/client.js';

/**
 * Password recovery that tells nobody whether a login exists.
 *
 * `startPasswordRecovery` answers at once, before the Account API is asked,
 * with the same answer for every well-formed login: a `recoveryToken` of the
 * gateway's own (32 random bytes; never the upstream's token) and the
 * channel the login names (an email gets the code by email, a phone by SMS,
 * as the Account API does). The `user/auth/recovery` call runs after the
 * answer, and its outcome is kept under the token: the upstream token, or
 * "no such login". So content and timing are the same whether the login
 * exists or not; only the code's arrival differs, and only its owner sees it.
 *
 * `completePasswordRecovery` and `resendCode(PASSWORD_RECOVERY)` look the
 * token up (waiting briefly if the upstream call is still out). For a login
 * that does not exist they make the same kind of upstream call with a
 * random token, so they too take an upstream round trip and answer like a
 * wrong code (InvalidCode) or a sent code.
 *
 * Kept in Redis with REDIS_URL (any instance can complete what another
 * started), else in memory; for PASSWORD_RECOVERY_TTL_SECONDS.
 */
export class PasswordRecoveries {
  constructor(
    private readonly store: RecoveryStore,
    private readonly account: AccountClient,
    private readonly limits: AccountLimits,
    private readonly options: { ttlSeconds: number; upstreamTimeoutMs: number; logger: Logger },
  ) {}

  /** RATE_LIMITED when a code went to this login less than the interval ago, or too many today. */
  async start(login: string): Promise<{ recoveryToken: string; codeSentTo: Channel }> {
    const wait = await this.limits.codeSend('recovery', [login]);
    if (wait > 0) throw new RateLimited(wait, 'A code was sent to this login recently. Try again later.');
    const recoveryToken = randomBytes(32).toString('base64url');
    const key = tokenKey(recoveryToken);
    await this.store.set(key, { login, state: 'pending' }, this.options.ttlSeconds);
    void this.#askUpstream(key, login);
    return { recoveryToken, codeSentTo: login.includes('@') ? 'EMAIL' : 'PHONE' };
  }

  /** The new session, or InvalidCode (wrong code, unknown or expired token, or no such login). */
  async complete(recoveryToken: string, code: string, newPassword: string) {
    const key = tokenKey(recoveryToken);
    const flow = await this.#settled(key);
    if (!flow) return new InvalidCode();
    await this.limits.codeAttempt(loginKey(flow.login));
    const result = await this.account.completeRecovery(flow.upstreamToken ?? decoyToken(), code, newPassword);
    if (result instanceof Outcome) return flow.upstreamToken ? result : new InvalidCode();
    // The password is set: a failing delete (Redis down) only leaves a token that no longer works upstream.
    await Promise.all([this.store.delete(key).catch(() => undefined), this.limits.codeAccepted(loginKey(flow.login))]);
    return result;
  }

  /**
   * A new code for the token's login: true when it went (or would have, for
   * no such login), CodeCooldown when too soon, null for an unknown or
   * expired token (the gateway's own: it says nothing about the login).
   */
  async resend(recoveryToken: string): Promise<true | CodeCooldown | null> {
    const flow = await this.#settled(tokenKey(recoveryToken));
    if (!flow) return null;
    const wait = await this.limits.codeSend('recovery', [flow.login]);
    if (wait > 0) return new CodeCooldown(wait);
    if (!flow.upstreamToken) {
      await this.account.resendCode({ recoveryToken: decoyToken() }).catch(() => undefined);
      return true;
    }
    const result = await this.account.resendCode({ recoveryToken: flow.upstreamToken });
    // AlreadyVerified does not apply to recovery codes.
    return result instanceof CodeCooldown ? result : true;
  }

  async #askUpstream(key: string, login: string): Promise<void> {
    let flow: RecoveryFlow;
    try {
      const result = await this.account.startRecovery(login);
      flow = result instanceof Outcome ? { login, state: 'none' } : { login, state: 'sent', upstreamToken: result.token };
    } catch (error) {
      this.options.logger.warn('password recovery: the Account API call failed', { error: (error as Error).name });
      flow = { login, state: 'failed' };
    }
    await this.store.set(key, flow, this.options.ttlSeconds).catch((error: Error) => {
      this.options.logger.error('password recovery: the outcome could not be stored', { error: error.name });
    });
  }

  /** The flow once the upstream call has answered (or null: unknown, expired). Failed start: UPSTREAM_UNAVAILABLE. */
  async #settled(key: string): Promise<(RecoveryFlow & { state: 'sent' | 'none' }) | null> {
    const deadline = Date.now() + this.options.upstreamTimeoutMs + 1000;
    for (;;) {
      const flow = await this.store.get(key);
      if (!flow) return null;
      if (flow.state === 'sent' || flow.state === 'none') return flow as RecoveryFlow & { state: 'sent' | 'none' };
      if (flow.state === 'failed' || Date.now() > deadline) {
        await this.store.delete(key);
        return null;
      }
      await sleep(50);
    }
  }
}

interface RecoveryFlow {
  login: string;
  /** pending: the upstream call is out; sent: a code went; none: no such login; failed: the call failed. */
  state: 'pending' | 'sent' | 'none' | 'failed';
  upstreamToken?: string;
}

const tokenKey = (token: string) => createHash('sha256').update(token).digest('base64url');
/** Same shape as ours; the Account API knows no such token and answers as for a wrong one. */
const decoyToken = () => randomBytes(32).toString('base64url');

/** Where recovery flows are kept, by the hash of their token. */
export interface RecoveryStore {
  get(key: string): Promise<RecoveryFlow | null>;
  set(key: string, flow: RecoveryFlow, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemoryRecoveryStore implements RecoveryStore {
  readonly #flows = new Map<string, { flow: RecoveryFlow; expiresAt: number }>();
  constructor(private readonly maxFlows = 10_000) {}

  async get(key: string) {
    const entry = this.#flows.get(key);
    return entry && entry.expiresAt > Date.now() ? entry.flow : null;
  }

  async set(key: string, flow: RecoveryFlow, ttlSeconds: number) {
    const now = Date.now();
    if (!this.#flows.has(key)) makeRoom(this.#flows, this.maxFlows, (e) => e.expiresAt <= now, true);
    this.#flows.set(key, { flow, expiresAt: now + ttlSeconds * 1000 });
  }

  async delete(key: string) {
    this.#flows.delete(key);
  }
}

/** Fails closed: while Redis fails, recovery answers LIMITS_UNAVAILABLE. */
export class RedisRecoveryStore implements RecoveryStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

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
