import { SessionRefused, Unauthenticated } from '../domain/errors.js';
import { UserDeactivated, UserNotFound } from '../domain/outcomes.js';
import { sessionKey } from '../infra/session-key.js';
import type { AccountClient } from '../upstream/account/client.js';
import { userOfSession } from '../upstream/account/session-users.js';

/**
 * The sessions of one user's subscriptions on this instance, as the relay
 * needs them: how many subscriptions each has, which have ended, which one
 * the push socket is opened with (the newest live one), and the periodic
 * check of the others (the upstream only tells the socket's own session
 * that it ended).
 */
export class RelaySessions {
  /** Live sessions with their subscription counts; Map order = order added. */
  readonly #counts = new Map<string, number>();
  /** Keys (sessionKey()) of sessions known to have ended. */
  readonly #ended = new Set<string>();

  add(session: string): void {
    const count = this.#counts.get(session) ?? 0;
    this.#counts.delete(session); // re-inserted last: the newest session
    this.#counts.set(session, count + 1);
  }

  /** Answers how many subscriptions are left. */
  remove(session: string): number {
    const count = (this.#counts.get(session) ?? 1) - 1;
    if (count > 0) this.#counts.set(session, count);
    else this.#counts.delete(session);
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  /** Marks the sessions `ended` names; never picked again. */
  markEnded(ended: (key: string) => boolean): void {
    for (const session of this.#counts.keys()) {
      const key = sessionKey(session);
      if (ended(key)) this.#ended.add(key);
    }
  }

  /** Marks `session` ended; false when it was known already. */
  end(session: string): boolean {
    const key = sessionKey(session);
    if (this.#ended.has(key)) return false;
    this.#ended.add(key);
    return true;
  }

  /** The newest live session not known to have ended. */
  pick(): string | null {
    let picked: string | null = null;
    for (const session of this.#counts.keys()) if (!this.#ended.has(sessionKey(session))) picked = session;
    return picked;
  }

  /**
   * Asks the Account API about every session but `skip` (the socket's own)
   * not known to have ended; `onEnded` gets each one that has: the user is
   * gone or deactivated, or the session ended. Any other answer (an
   * unverified contact, a failure) proves nothing.
   */
  async check(account: Pick<AccountClient, 'getUser'>, skip: string | null, stop: () => boolean, onEnded: (session: string) => void): Promise<void> {
    for (const session of [...this.#counts.keys()]) {
      if (stop()) return;
      if (session === skip || this.#ended.has(sessionKey(session))) continue;
      try {
        await userOfSession(account, session);
      } catch (error) {
        const ended = error instanceof SessionRefused ? error.outcome instanceof UserNotFound || error.outcome instanceof UserDeactivated : error instanceof Unauthenticated;
        if (ended) onEnded(session);
      }
    }
  }
}
