import { randomUUID } from 'node:crypto';
import type { AccountEvent } from '../domain/account-events.js';
import { UpstreamUnavailable } from '../domain/errors.js';
import { Backoff } from '../infra/backoff.js';
import type { Logger } from '../infra/logger.js';
import type { EventMetrics } from '../infra/metrics.js';
import { sessionKey } from '../infra/session-key.js';
import { SessionUsers } from '../upstream/account/session-users.js';
import { AdmissionQueue, type AdmissionOptions } from './admission.js';
import { endsSession, type BusEntry, type BusMessage, type EventBus, type LogRead } from './bus.js';
import { decodeEventId, type Cursor } from './event-id.js';
import { Pacer } from './pacer.js';
import { UpstreamRelay, type RelayOptions } from './relay.js';
import { Subscription } from './subscription.js';

export interface AccountEventsOptions {
  bus: EventBus;
  /** The upstream relay's options; it appends to `bus`, through `admission` and at `pushOpensPerSecond`. */
  relay: Omit<RelayOptions, 'bus' | 'logger' | 'admission' | 'pacer'>;
  /** Session checks and push tickets: at most this many at once, the rest in a bounded line with a deadline. */
  admission: AdmissionOptions;
  /** Push sockets opened per second at most, steadily. */
  pushOpensPerSecond: number;
  /** A session check this recent (ms) admits further subscriptions of the session without asking again. */
  sessionFreshMs: number;
  logger: Logger;
  /** Events buffered per subscription for a slow client; beyond it the oldest is dropped (and logged). */
  bufferSize: number;
  /**
   * Session → user id (src/upstream/account/session-users.ts), whose
   * remembered ids are forgotten here when their sessions end. Default: one
   * of its own over `relay.account`.
   */
  sessions?: SessionUsers;
  /** Live subscriptions, dropped events, push sockets (src/infra/metrics.ts). */
  metrics?: EventMetrics;
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

/** The cursor of an `after` that is no id of the subscriber's: never replayable, so answered EventsMissed. */
const UNKNOWN_CURSOR: Cursor = { epoch: '', position: '0-0' };
/**
 * How long a new subscription waits for its user's push socket to open: the
 * first socket of a user resumes from nothing, so an upstream event before it
 * opened (the echo of a change made through another device meanwhile) is
 * never sent on it.
 */
const PUSH_OPEN_WAIT_MS = 2000;
/** Waits before reading again what a subscription may have missed, when the read failed. */
const RESYNC_RETRY = { initialMs: 200, maxMs: 5000 };

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
  readonly #admission: AdmissionQueue;
  readonly #pacer: Pacer;
  readonly #stopResync: () => void;
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
    this.#admission = new AdmissionQueue(options.admission);
    this.#pacer = new Pacer(options.pushOpensPerSecond);
    this.#relay = new UpstreamRelay({
      ...options.relay,
      metrics: options.metrics,
      bus: this.#bus,
      admission: this.#admission,
      pacer: this.#pacer,
      logger: options.logger.child({ component: 'push-relay' }),
    });
    this.#stopResync = this.#bus.onResync((phase) => {
      for (const stream of this.#streams.values()) {
        for (const subscription of stream.subscriptions) {
          if (phase === 'lost') subscription.pause();
          else this.#resync(subscription);
        }
      }
    });
  }

  /**
   * The user id of a session for a new socket or subscription, checked with
   * the Account API by the one session cache (SessionUsers.verify, which
   * throws UNAUTHENTICATED for an ended session). A check at most
   * `sessionFreshMs` old is reused (the subscribes that follow a socket's
   * `connection_init`, a reconnect storm), concurrent checks of one session
   * share one call, and calls wait their turn in the admission queue,
   * failing with AdmissionTimeout (UPSTREAM_UNAVAILABLE) when their deadline
   * passes. A session known to have ended is never reused (#forget).
   */
  async verifiedUserId(session: string): Promise<string> {
    const reuse = { freshMs: this.#options.sessionFreshMs, admit: <T>(call: () => Promise<T>) => this.#admission.run(call) };
    return (await this.sessions.verify(session, undefined, reuse)).id;
  }

  /**
   * A live subscription to the events of `userId`, signed in with `session`.
   * Without `after`: events appended from now on. With `after` (the id of an
   * event the subscriber received, on any instance): first every later
   * event of the user's log, once and in order, then live ones; an `after`
   * the log cannot replay (older than the retention window, unknown) gives
   * one EventsMissed first. Resolves once it is live.
   */
  async subscribe(session: string, userId: string, after: string | null = null): Promise<AsyncIterableIterator<AccountEvent>> {
    if (this.#closing) throw new UpstreamUnavailable('gateway', 'shutting down');
    const subscription = new Subscription(sessionKey(session), userId, this.#options, this.#logger);
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
        this.#options.metrics?.subscriptionEnded();
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
      this.#logger.error('event bus subscribe failed', { userId, error: error instanceof Error ? error.name : 'unknown' });
      throw new UpstreamUnavailable('event bus', 'subscribe failed');
    }
    if (subscription.queue.closed) return subscription.queue;
    const cursor = after === null ? null : (decodeEventId(after, userId) ?? UNKNOWN_CURSOR);
    let read: LogRead;
    try {
      read = await this.#bus.read(userId, cursor);
    } catch (error) {
      await subscription.queue.return();
      this.#logger.error('event log read failed', { userId, error: error instanceof Error ? error.name : 'unknown' });
      throw new UpstreamUnavailable('event bus', 'read failed');
    }
    subscription.begin(read);
    if (subscription.resyncDue) this.#resync(subscription); // the bus reconnected while it read: read what it may have missed
    if (subscription.queue.closed) return subscription.queue;
    const relay = this.#relay.acquire(userId, session);
    // Live once the user's push socket is open (or a while later at most, e.g. while the upstream refuses sockets): a change made meanwhile reaches the subscription as the upstream's echo.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([relay.opened, subscription.delivering, new Promise((resolve) => (timer = setTimeout(resolve, PUSH_OPEN_WAIT_MS)))]);
    clearTimeout(timer);
    if (subscription.queue.closed) {
      relay.release();
      return subscription.queue;
    }
    release = relay.release;
    this.#active += 1;
    this.#options.metrics?.subscriptionStarted();
    return subscription.queue;
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
      await this.#bus.append(userId, message);
    } catch (error) {
      this.#logger.warn('end of sessions not published; the session check ends their subscriptions later', { userId, error: error instanceof Error ? error.name : 'unknown' });
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

  /** The admission queue's counts, and relays waiting for their turn to open a push socket. */
  admissionStats(): ReturnType<AdmissionQueue['stats']> & { pushSocketsWaiting: number } {
    return { ...this.#admission.stats(), pushSocketsWaiting: this.#pacer.waiting };
  }

  /**
   * Closes the upstream sockets and the bus. Completes no subscription: at
   * shutdown the transports close first (graphql-ws with 1012, SSE cut), so
   * clients resume elsewhere with `after` instead of taking the end as final.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#stopResync();
    this.#relay.close();
    this.#pacer.close();
    await this.#bus.close();
  }

  /** Reads back what `subscription` may have missed while live delivery was down (it held live entries back meanwhile), then goes on live. */
  #resync(subscription: Subscription, backoff = new Backoff(RESYNC_RETRY)): void {
    subscription.resyncDue = false;
    const cursor = subscription.pause();
    if (!cursor) return;
    this.#bus.read(subscription.userId, cursor).then(
      (read) => subscription.begin(read),
      (error: Error) => {
        this.#logger.warn('event log read after a bus reconnect failed; retrying', { error: error.name });
        const timer = setTimeout(() => !subscription.queue.closed && !this.#closing && this.#resync(subscription, backoff), backoff.next());
        timer.unref();
      },
    );
  }

  #dispatch(userId: string, stream: Stream, entry: BusEntry): void {
    const message = entry.message;
    for (const subscription of [...stream.subscriptions]) subscription.offer(entry);
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
    this.#logger.debug('session ended for subscriptions', { userId, allSessions: message.allSessions !== undefined });
  }

  /** Forgets the user ids of the sessions a SessionExpired message ends, and tells the relay not to use them. */
  #forget(userId: string, message: BusMessage): void {
    const ended = (key: string) => endsSession(message, key);
    this.sessions.forget(userId, ended);
    this.#relay.sessionsEnded(userId, ended);
  }
}
