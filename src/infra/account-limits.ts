import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimited } from '../domain/errors.js';
import { addressBlock } from './client-address.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';

export interface AccountLimitsOptions {
  /** Prefix of the Redis keys, e.g. `gateway:`. */
  prefix: string;
  /** Code attempts per user or login per window (CODE_ATTEMPTS_PER_TARGET, CODE_ATTEMPTS_WINDOW_SECONDS). */
  codeAttempts: { limit: number; windowSeconds: number };
  /** Password attempts per login per window (PASSWORD_ATTEMPTS_PER_LOGIN, PASSWORD_ATTEMPTS_WINDOW_SECONDS). */
  passwordAttempts: { limit: number; windowSeconds: number };
  /** Least seconds between two codes to one destination and purpose (CODE_SEND_INTERVAL_SECONDS); 0: none. */
  sendIntervalSeconds: number;
  /** Codes to one destination and purpose per day asked from one client address block (CODE_SENDS_PER_DAY). */
  sendsPerDay: number;
  /** Codes to one destination and purpose per day from all addresses together (CODE_SENDS_PER_DAY_PER_DESTINATION). */
  sendsPerDayPerDestination: number;
  /**
   * Without Redis: counts each limit keeps in memory (MEMORY_LIMITS_MAX_KEYS).
   * Full of live counts, a new target is refused with LIMITS_UNAVAILABLE
   * (`retryAfterSeconds`: until the oldest count ends) rather than a live
   * count dropped: a flood of other targets must not reset a victim's.
   */
  maxKeys?: number;
}

/** What a code is sent for; with the destination it names one send rhythm. */
export type CodePurpose = 'registration' | 'recovery' | 'contact_change' | 'deletion';

/**
 * Limits per account rather than per address, shared by every instance
 * through Redis (in memory without REDIS_URL), so spreading guesses over
 * many addresses gains nothing:
 *
 * - code attempts per user or login (verifyRegistration,
 *   completePasswordRecovery, confirmContactChange, confirmAccountDeletion);
 * - password attempts per login (login);
 * - codes sent per destination and purpose: one per interval (the Account
 *   API's own 90 s rhythm, kept by the gateway for every flow, not only
 *   resendCode), a daily cap per client address block (so one attacker
 *   cannot use up a victim's day: startPasswordRecovery needs no session),
 *   and a higher daily ceiling from all addresses (so many addresses
 *   together cannot bomb one inbox or phone).
 *
 * Each attempt is counted before the upstream call, so parallel guesses
 * cannot slip through together; a right code or password resets its count.
 * All of them fail closed: while Redis fails, and in memory when every one
 * of MEMORY_LIMITS_MAX_KEYS counts is live, they refuse with
 * LIMITS_UNAVAILABLE instead of letting guesses through. Keys are hashed:
 * Redis never holds a login, an address or a user id in clear.
 */
export class AccountLimits {
  readonly #codes: RateLimiter;
  readonly #passwords: RateLimiter;
  /** Null when CODE_SEND_INTERVAL_SECONDS is 0. */
  readonly #sendInterval: RateLimiter | null;
  readonly #sendsPerDay: RateLimiter;
  readonly #sendsPerDayPerDestination: RateLimiter;

  constructor(redis: Redis | null, options: AccountLimitsOptions) {
    const limiter = (name: string, limit: number, windowSeconds: number) =>
      createRateLimiter(redis, `${options.prefix}ratelimit:${name}:`, { limit, windowSeconds, whenRedisFails: 'closed', maxKeys: options.maxKeys });
    this.#codes = limiter('code-attempts', options.codeAttempts.limit, options.codeAttempts.windowSeconds);
    this.#passwords = limiter('password-attempts', options.passwordAttempts.limit, options.passwordAttempts.windowSeconds);
    this.#sendInterval = options.sendIntervalSeconds > 0 ? limiter('code-send-interval', 1, options.sendIntervalSeconds) : null;
    this.#sendsPerDay = limiter('code-sends-per-day-per-address', options.sendsPerDay, 86_400);
    this.#sendsPerDayPerDestination = limiter('code-sends-per-day', options.sendsPerDayPerDestination, 86_400);
  }

  /** Counts one code attempt for `target` (`user:<id>` or `login:<login>`); RATE_LIMITED past the limit. */
  async codeAttempt(target: string): Promise<void> {
    const wait = await this.#codes.take(hashed(target));
    if (wait > 0) throw new RateLimited(wait, 'Too many code attempts for this account. Request a new code later.');
  }

  /** The code was right: its attempts start again. */
  codeAccepted(target: string): Promise<void> {
    return afterTheFact(this.#codes.reset(hashed(target)));
  }

  /** Counts one password attempt for `login`; RATE_LIMITED past the limit. */
  async passwordAttempt(login: string): Promise<void> {
    const wait = await this.#passwords.take(hashed(loginKey(login)));
    if (wait > 0) throw new RateLimited(wait, 'Too many sign-in attempts for this login. Try again later.');
  }

  /** The password was right: its attempts start again. */
  passwordAccepted(login: string): Promise<void> {
    return afterTheFact(this.#passwords.reset(hashed(loginKey(login))));
  }

  /**
   * Takes one code send for each destination of `purpose` (an email, a
   * phone, or `user:<id>` where the gateway knows only the user), asked from
   * `clientIp`: 0 when a code may go, else the seconds to wait. A refusal by
   * the interval touches no daily count; one by the address block's daily
   * cap leaves the destination's ceiling as it was.
   */
  async codeSend(purpose: CodePurpose, destinations: readonly string[], clientIp: string): Promise<number> {
    const keys = destinations.map((d) => `${purpose}:${destinationKey(d)}`);
    const block = addressBlock(clientIp);
    let wait = 0;
    const take = async (limiter: RateLimiter, key: (k: string) => string) => {
      for (const k of keys) wait = Math.max(wait, await limiter.take(hashed(key(k))));
      return wait;
    };
    if (this.#sendInterval && (await take(this.#sendInterval, (k) => k)) > 0) return wait;
    if ((await take(this.#sendsPerDay, (k) => `${k}@${block}`)) > 0) return wait;
    return take(this.#sendsPerDayPerDestination, (k) => k);
  }

  /**
   * The flow is over for these destinations (e.g. the channel is verified):
   * the interval no longer holds, so the next ask gets the Account API's own
   * answer (AlreadyVerified) instead of a cooldown. The daily count stays.
   */
  async codeFlowDone(purpose: CodePurpose, destinations: readonly string[]): Promise<void> {
    const interval = this.#sendInterval;
    if (!interval) return;
    await afterTheFact(Promise.all(destinations.map((d) => interval.reset(hashed(`${purpose}:${destinationKey(d)}`)))));
  }

  /**
   * The Account API sent codes that were not asked through codeSend (a
   * registration): counted, so the next ask for these destinations waits
   * out the interval.
   */
  async codeSent(purpose: CodePurpose, destinations: readonly string[], clientIp: string): Promise<void> {
    await afterTheFact(this.codeSend(purpose, destinations, clientIp));
  }

  async close(): Promise<void> {
    await Promise.all([this.#codes, this.#passwords, this.#sendInterval, this.#sendsPerDay, this.#sendsPerDayPerDestination].map((l) => l?.close()));
  }
}

/**
 * Counts changed after the Account API acted: a failure (Redis down) must not
 * turn its success into an error, so it only leaves the count as it was.
 */
const afterTheFact = (work: Promise<unknown>): Promise<void> => work.then(() => undefined, () => undefined);

/** Logins compare case-insensitively and without spaces: `Ann@Example.com ` is `ann@example.com`. */
export const loginKey = (login: string) => `login:${destinationKey(login)}`;
const destinationKey = (destination: string) => destination.trim().toLowerCase();
const hashed = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 32);
