import { randomUUID } from 'node:crypto';
import { UpstreamUnavailable } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import { endsSession, type BusMessage, type EventBus } from './bus.js';
import { EventDedupe } from './dedupe.js';
import type { AccountEvent, AccountEventData } from '../domain/account-events.js';
import { BoundedQueue } from './queue.js';
import { UpstreamRelay, type RelayOptions } from './relay.js';
import { sessionKey } from '../infra/session-key.js';
import { SessionUsers } from '../upstream/account/session-users.js';

export interface AccountEventsOptions {
  bus: EventBus;
  /** The upstream relay's options; it publishes to `bus`. */
  relay: Omit<RelayOptions, 'publish' | 'logger'>;
  logger: Logger;
  /** Events buffered per subscription for a slow client; beyond it the oldest is dropped (and logged). */
  bufferSize: number;
  /** How long a subscription remembers event ids and contents to drop repeats (dedupe.ts), in ms. */
  dedupeWindowMs: number;
  /**
   * Session → user id (src/upstream/account/session-users.ts), whose
   * remembered ids are forgotten here when their sessions end. Default: one
   * of its own over `relay.account`.
   */
  sessions?: SessionUsers;
}

/**
 * Sessions a gateway mutation ended: one (logout), or every session of the
 * user but `allBut` (password recovery keeps its new session; account
 * deletion, `allBut: null`, keeps none). Tokens, never sent anywhere: the bus
 * carries their keys (src/infra/session-key.ts).
 */
export type EndedSessions = { session: string } | { allBut: string | null };

/** `ended(key)`: whether the session with that key (sessionKey()) of `userId` has ended. */
export type SessionEndedListener = (userId: string, ended: (key: string) => boolean) => void;

/** Ids and content keys one subscription remembers, at most. */
const DEDUPE_ENTRIES = 512;

interface Stream {
  subscriptions: Set<Subscription>;
  bus: Promise<() => Promise<void>>;
}

/**
 * `accountEvents` of this instance: the subscriptions by user, the bus that
 * brings every event of a user to every instance, and the relay that holds
 * the upstream sockets. A user only ever receives their own events: the
 * user id comes from the Account API for the subscription's session, and it
 * names the only bus channel the subscription listens to.
 */
export class AccountEvents {
  readonly #streams = new Map<string, Stream>();
  readonly #sessionEndedListeners = new Set<SessionEndedListener>();
  readonly #bus: EventBus;
  readonly #relay: UpstreamRelay;
  readonly #logger: Logger;
  readonly #options: AccountEventsOptions;
  /** Session → user id; mutations and subscriptions look their user up here. */
  readonly sessions: SessionUsers;
  #active = 0;
  #closing = false;

  constructor(options: AccountEventsOptions) {
    this.#options = options;
    this.#bus = options.bus;
    this.#logger = options.logger;
    this.sessions = options.sessions ?? new SessionUsers(options.relay.account);
    this.#relay = new UpstreamRelay({
      ...options.relay,
      logger: options.logger.child({ component: 'push-relay' }),
      publish: (userId, message) => {
        this.#bus.publish(userId, message).catch((error: Error) => this.#logger.error('event bus publish failed', { user_id: userId, error: error.name }));
      },
    });
  }

  /**
   * A live subscription to the events of `userId`, signed in with `session`.
   * Resolves once events published from now on reach it.
   */
  async subscribe(session: string, userId: string): Promise<AsyncIterableIterator<AccountEvent>> {
    const subscription = new Subscription(sessionKey(session), userId, this.#options, this.#logger);
    if (this.#closing) {
      subscription.queue.end();
      return subscription.queue;
    }
    let stream = this.#streams.get(userId);
    if (!stream) {
      const created: Stream = { subscriptions: new Set(), bus: this.#bus.subscribe(userId, (m) => this.#dispatch(userId, created, m)) };
      created.bus.catch(() => undefined); // awaited below; a failure is answered there
      this.#streams.set(userId, created);
      stream = created;
    }
    const owner = stream;
    owner.subscriptions.add(subscription);
    let release: (() => void) | null = null;
    subscription.onClose = () => {
      owner.subscriptions.delete(subscription);
      if (release) {
        release();
        this.#active -= 1;
      }
      if (owner.subscriptions.size > 0 || this.#streams.get(userId) !== owner) return;
      this.#streams.delete(userId);
      if (this.#closing) return;
      owner.bus
        .then((unsubscribe) => unsubscribe())
        .catch((error: Error) => this.#logger.warn('event bus unsubscribe failed', { error: error.name }));
    };
    try {
      await owner.bus;
    } catch (error) {
      await subscription.queue.return();
      this.#logger.error('event bus subscribe failed', { user_id: userId, error: error instanceof Error ? error.name : 'unknown' });
      throw new UpstreamUnavailable('event bus', 'subscribe failed');
    }
    if (subscription.queue.closed) return subscription.queue;
    release = this.#relay.acquire(userId, session);
    this.#active += 1;
    return subscription.queue;
  }

  /**
   * For mutations: publishes the event of a change they made to `userId`'s
   * subscriptions on every instance, at once (the upstream socket's later
   * copy is deduplicated, dedupe.ts). Never fails the mutation: a failure is
   * logged, and the upstream socket still delivers the change, later.
   */
  async publish(userId: string, data: AccountEventData): Promise<void> {
    const event = { ...data, id: `gw-${randomUUID()}`, at: new Date() } as AccountEvent;
    try {
      await this.#bus.publish(userId, { origin: 'gateway', event });
    } catch (error) {
      this.#logger.warn('event of a mutation not published', { event_type: data.type, error: error instanceof Error ? error.name : 'unknown' });
    }
  }

  /**
   * For mutations that end sessions (logout, account deletion, password
   * recovery): the subscriptions of those sessions, on every instance, get
   * SessionExpired and complete at once, and their graphql-ws sockets close
   * with 4403, as when the upstream tells a session ended; their remembered
   * user ids are forgotten. Never fails the mutation: a failure is logged,
   * and the session check (SUBSCRIPTIONS_SESSION_CHECK_SECONDS) still ends
   * them later.
   */
  async endSessions(userId: string, which: EndedSessions): Promise<void> {
    const event = { type: 'SessionExpired' as const, id: `gw-${randomUUID()}`, at: new Date() };
    const message: BusMessage =
      'session' in which
        ? { origin: 'gateway', event, sessionKey: sessionKey(which.session) }
        : { origin: 'gateway', event, allSessions: { except: which.allBut === null ? null : sessionKey(which.allBut) } };
    // This instance may have no subscription of the user, so no bus listener that would forget them.
    this.#forget(userId, message);
    try {
      await this.#bus.publish(userId, message);
    } catch (error) {
      this.#logger.warn('end of sessions not published', { user_id: userId, error: error instanceof Error ? error.name : 'unknown' });
    }
  }

  /** `listener` runs when sessions of a user with subscriptions here have ended. */
  onSessionEnded(listener: SessionEndedListener): () => void {
    this.#sessionEndedListeners.add(listener);
    return () => this.#sessionEndedListeners.delete(listener);
  }

  /** Live subscriptions, users with one, and upstream relays on this instance. */
  stats(): { subscriptions: number; users: number; relays: number } {
    return { subscriptions: this.#active, users: this.#streams.size, relays: this.#relay.users };
  }

  /** Completes every subscription (each drains what it has buffered), closes the upstream sockets and the bus. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const stream of this.#streams.values()) for (const subscription of stream.subscriptions) subscription.queue.end();
    this.#relay.close();
    await this.#bus.close();
  }

  #dispatch(userId: string, stream: Stream, message: BusMessage): void {
    for (const subscription of [...stream.subscriptions]) subscription.offer(message);
    if (message.event.type !== 'SessionExpired' || (message.sessionKey === undefined && message.allSessions === undefined)) return;
    this.#forget(userId, message);
    const ended = (key: string) => endsSession(message, key);
    for (const listener of this.#sessionEndedListeners) {
      try {
        listener(userId, ended);
      } catch (error) {
        this.#logger.error('session end listener failed', { error: error instanceof Error ? error.name : 'unknown' });
      }
    }
    this.#logger.debug('session ended for subscriptions', { user_id: userId, all_sessions: message.allSessions !== undefined });
  }

  /** Forgets the user ids of the sessions a SessionExpired message ends, and tells the relay not to use them. */
  #forget(userId: string, message: BusMessage): void {
    this.sessions.forget(userId, (key) => endsSession(message, key));
    this.#relay.sessionsEnded(userId, (key) => endsSession(message, key));
  }
}

/** One `accountEvents` subscription: its dedupe and its bounded buffer. */
class Subscription {
  readonly queue: BoundedQueue<AccountEvent>;
  readonly #dedupe: EventDedupe;
  #dropped = 0;
  onClose: () => void = () => undefined;

  constructor(
    readonly sessionKey: string,
    userId: string,
    options: AccountEventsOptions,
    logger: Logger,
  ) {
    this.#dedupe = new EventDedupe({ windowMs: options.dedupeWindowMs, maxEntries: DEDUPE_ENTRIES });
    this.queue = new BoundedQueue<AccountEvent>({
      capacity: options.bufferSize,
      onDrop: (event) => {
        this.#dropped += 1;
        if (this.#dropped === 1 || this.#dropped % 100 === 0) {
          logger.warn('slow subscriber: oldest buffered event dropped', { user_id: userId, event_type: event.type, dropped: this.#dropped });
        }
      },
      onClose: () => this.onClose(),
    });
  }

  offer(message: BusMessage): void {
    if (this.queue.closed) return;
    const { event } = message;
    if (event.type === 'SessionExpired' && !endsSession(message, this.sessionKey)) return;
    if (!this.#dedupe.admit(event, message.origin)) return;
    this.queue.push(event);
    if (event.type === 'SessionExpired') this.queue.end();
  }
}
