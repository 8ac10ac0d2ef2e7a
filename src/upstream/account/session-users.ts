import type { AccountUser } from '../../domain/account.js';
import { SessionRefused } from '../../domain/errors.js';
import { DomainOutcome } from '../../domain/outcomes.js';
import { makeRoom } from '../../infra/bounded-map.js';
import type { Deadline } from '../../infra/deadline.js';
import { sessionKey } from '../../infra/session-key.js';
import type { AccountClient } from './client.js';

/**
 * The user of a session, checked with the Account API (`user/get`) now. Any
 * outcome instead of a user (the session ended, the user is gone or
 * deactivated) is SessionRefused, an UNAUTHENTICATED request error that
 * carries the outcome. The one place that turns a session into a user.
 */
export async function userOfSession(account: Pick<AccountClient, 'getUser'>, session: string, deadline?: Deadline): Promise<AccountUser> {
  const user = await account.getUser(session, deadline);
  if (user instanceof DomainOutcome) throw new SessionRefused(user);
  return user;
}

export interface SessionUsersOptions {
  /** How long the user id of a session is remembered for routing events, in ms. Default 5 minutes. */
  ttlMs?: number;
  /** Remembered session → user id pairs, at most. Default 10 000. */
  maxEntries?: number;
}

/**
 * Session → user id for the whole gateway: `verify` checks with the Account
 * API (userOfSession) and remembers the answer; `userId` answers from what is
 * remembered, to route an event, and checks only when nothing is. A
 * remembered id never admits anything: every new subscription and socket
 * calls `verify`. Entries are keyed by sessionKey(), never the token, and
 * forgotten when their session ends (AccountEvents).
 */
export class SessionUsers {
  readonly #known = new Map<string, { userId: string; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(
    private readonly account: Pick<AccountClient, 'getUser'>,
    options: SessionUsersOptions = {},
  ) {
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** The user of `session`, checked with the Account API now (within `deadline`, if given). */
  async verify(session: string, deadline?: Deadline): Promise<AccountUser> {
    const user = await userOfSession(this.account, session, deadline);
    this.#remember(session, user.id);
    return user;
  }

  /** The user id of `session`, to route an event to: remembered, else verified. */
  async userId(session: string, deadline?: Deadline): Promise<string> {
    const known = this.#known.get(sessionKey(session));
    if (known && known.expiresAt > Date.now()) return known.userId;
    return (await this.verify(session, deadline)).id;
  }

  /** Forgets the sessions of `userId` for which `ended(sessionKey)` holds. */
  forget(userId: string, ended: (key: string) => boolean): void {
    for (const [key, known] of this.#known) if (known.userId === userId && ended(key)) this.#known.delete(key);
  }

  #remember(session: string, userId: string): void {
    const key = sessionKey(session);
    const now = Date.now();
    this.#known.delete(key);
    makeRoom(this.#known, this.#maxEntries, (entry) => entry.expiresAt <= now, true);
    this.#known.set(key, { userId, expiresAt: now + this.#ttlMs });
  }
}
