import { RepeatedWarnings } from '../infra/repeated-warnings.js';
import { UserRelay, type RelayOptions } from './user-relay.js';

export type { RelayOptions } from './user-relay.js';

/**
 * The upstream side of `accountEvents` on this instance: for every user with
 * at least one live subscription, one websocket to the Account API, shared by
 * all of that user's subscriptions, closed when the last one ends.
 *
 * Nothing the upstream sent is lost on the way to the bus: events are
 * appended in order, and the socket's resume point (`resume_after`) moves
 * only past events the bus has taken. When an append fails (Redis down),
 * the socket is dropped and reopened later from the last event taken; a
 * new socket (this instance had none for the user, or just started) resumes
 * from the last upstream event any instance appended, so the events no
 * instance saw come from the upstream's own replay. Sockets open at the
 * pacer's steady rate, one ticket request per user at a time, through the
 * admission queue.
 */
export class UpstreamRelay {
  readonly #users = new Map<string, UserRelay>();
  /** The warnings every relay of an outage repeats (one per user), as counts (src/infra/repeated-warnings.ts). */
  readonly #warnings: RepeatedWarnings;

  constructor(private readonly options: RelayOptions) {
    this.#warnings = new RepeatedWarnings(options.logger);
  }

  /**
   * Registers a subscription of `userId` signed in with `session`; `release`
   * releases it. `opened` resolves once the user's push socket has been open
   * on this instance (at once when it is): from then on every upstream event
   * reaches the log, or is replayed to it after a reconnect.
   */
  acquire(userId: string, session: string): { release: () => void; opened: Promise<void> } {
    let relay = this.#users.get(userId);
    if (!relay) {
      relay = new UserRelay(userId, this.options, this.#warnings);
      this.#users.set(userId, relay);
    }
    relay.add(session);
    const owner = relay;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (owner.remove(session) > 0) return;
      owner.close();
      if (this.#users.get(userId) === owner) this.#users.delete(userId);
    };
    return { release, opened: owner.opened };
  }

  /**
   * Sessions of `userId` ended elsewhere (a gateway's logout, deletion or
   * recovery): never picked for the push socket again. Their subscriptions
   * are ended through the bus; the upstream closes a socket of theirs itself.
   */
  sessionsEnded(userId: string, ended: (key: string) => boolean): void {
    this.#users.get(userId)?.markEnded(ended);
  }

  /** Users with a relay on this instance. */
  get users(): number {
    return this.#users.size;
  }

  close(): void {
    for (const relay of this.#users.values()) relay.close();
    this.#users.clear();
    this.#warnings.flush();
  }
}
