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
  /** How long the user id of a session is remembered for routing events (`userId`), in ms. Default 5 minutes. */
  ttlMs?: number;
  /** Remembered sessions, at most (the oldest go first). Default 10 000. */
  maxEntries?: number;
}

/** How a check may be spared (the checks of new sockets and subscriptions, AccountEvents.verifiedUserId). */
export interface ReuseOptions {
  /** A check of the session at most this old (ms) is reused instead of asking again (SUBSCRIPTIONS_SESSION_FRESH_MS); 0: never. */
  freshMs: number;
  /** Runs the Account API call, e.g. in its turn of an admission queue. Default: at once. */
  admit?: <T>(call: () => Promise<T>) => Promise<T>;
}

interface Known {
  user: AccountUser;
  checkedAt: number;
}

/**
 * Session → user for the whole gateway, the one cache of it: `verify`
 * checks with the Account API (userOfSession) and remembers the answer;
 * `userId` answers from what is remembered (for `ttlMs`), to route an event,
 * and checks only when nothing is. A remembered user admits nothing by
 * itself: a request's `viewer` always asks; a new socket or subscription
 * asks unless its caller allows a check `freshMs` old (ReuseOptions), and
 * such callers share one check in flight per session (a reconnect storm
 * costs one `user/get`). Entries are keyed by sessionKey(), never the token,
 * and forgotten, with their checks in flight, when their session ends
 * (AccountEvents).
 */
export class SessionUsers {
  readonly #known = new Map<string, Known>();
  /** Shared checks in flight, by session key. */
  readonly #checks = new Map<string, Promise<AccountUser>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(
    private readonly account: Pick<AccountClient, 'getUser'>,
    options: SessionUsersOptions = {},
  ) {
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /**
   * The user of `session`, checked with the Account API now (within
   * `deadline`, if given); with `reuse`, a check `reuse.freshMs` old is
   * enough, and a check of the session in flight is shared.
   */
  verify(session: string, deadline?: Deadline, reuse?: ReuseOptions): Promise<AccountUser> {
    const key = sessionKey(session);
    if (reuse) {
      const known = this.#known.get(key);
      if (known && known.checkedAt + reuse.freshMs > Date.now()) return Promise.resolve(known.user);
      const inFlight = this.#checks.get(key);
      if (inFlight) return inFlight;
    }
    const call = () => userOfSession(this.account, session, deadline);
    const check: Promise<AccountUser> = (reuse?.admit ? reuse.admit(call) : call()).then((user) => {
      // Not when the session ended meanwhile (forget dropped the check).
      if (!reuse || this.#checks.get(key) === check) this.#remember(key, user);
      return user;
    });
    if (reuse) {
      this.#checks.set(key, check);
      const done = () => {
        if (this.#checks.get(key) === check) this.#checks.delete(key);
      };
      check.then(done, done);
    }
    return check;
  }

  /** The user id of `session`, to route an event to: remembered, else verified. */
  async userId(session: string, deadline?: Deadline): Promise<string> {
    const known = this.#known.get(sessionKey(session));
    if (known && known.checkedAt + this.#ttlMs > Date.now()) return known.user.id;
    return (await this.verify(session, deadline)).id;
  }

  /**
   * Forgets the sessions of `userId` for which `ended(sessionKey)` holds,
   * and drops the checks in flight of sessions it ends (of any user, as an
   * answer in flight does not say whose it is yet: they are not remembered).
   */
  forget(userId: string, ended: (key: string) => boolean): void {
    for (const [key, known] of this.#known) if (known.user.id === userId && ended(key)) this.#known.delete(key);
    for (const key of this.#checks.keys()) if (ended(key)) this.#checks.delete(key);
  }

  #remember(key: string, user: AccountUser): void {
    const now = Date.now();
    this.#known.delete(key);
    makeRoom(this.#known, this.#maxEntries, (entry) => entry.checkedAt + this.#ttlMs <= now, true);
    this.#known.set(key, { user, checkedAt: now });
  }
}
