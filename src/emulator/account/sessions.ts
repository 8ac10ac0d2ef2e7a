import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';

/** Sessions last 30 days (shared/UPSTREAM.md §3). */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface SessionRecord {
  token: string;
  userId: string;
  expiresAt: number;
}

/**
 * Session tokens. Ending a session (logout, expiry, recovery, deletion,
 * /_emulator/expire) calls `onEnd`, which the push hub uses to send
 * `session.expired` to that session's sockets.
 */
export class SessionStore {
  #byToken = new Map<string, SessionRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly onEnd: (session: SessionRecord) => void,
  ) {}

  create(userId: string): SessionRecord {
    const session = { token: randomUUID(), userId, expiresAt: this.clock.now() + SESSION_TTL_MS };
    this.#byToken.set(session.token, session);
    return session;
  }

  /** The live session of this token; an expired one is ended on the way. */
  resolve(token: string): SessionRecord | null {
    const session = this.#byToken.get(token);
    if (!session) return null;
    if (session.expiresAt <= this.clock.now()) {
      this.end(token);
      return null;
    }
    return session;
  }

  end(token: string): boolean {
    const session = this.#byToken.get(token);
    if (!session) return false;
    this.#byToken.delete(token);
    this.onEnd(session);
    return true;
  }

  /** Ends every session of the user except `keep`; answers how many ended. */
  endForUser(userId: string, keep?: string): number {
    const doomed = [...this.#byToken.values()].filter((s) => s.userId === userId && s.token !== keep);
    for (const session of doomed) this.end(session.token);
    return doomed.length;
  }

  /** Ends the sessions the clock has passed (called after the clock moves). */
  sweep(): number {
    const now = this.clock.now();
    const doomed = [...this.#byToken.values()].filter((s) => s.expiresAt <= now);
    for (const session of doomed) this.end(session.token);
    return doomed.length;
  }

  /** Forgets every session without calling `onEnd` (reset). */
  clear(): void {
    this.#byToken.clear();
  }

  snapshot(): SessionRecord[] {
    return [...this.#byToken.values()];
  }

  restore(sessions: readonly SessionRecord[]): void {
    this.#byToken = new Map(sessions.map((session) => [session.token, { ...session }]));
  }
}
