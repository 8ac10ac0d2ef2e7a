import { randomUUID } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import { SessionRefused, Unauthenticated } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import type { EventMetrics } from '../infra/metrics.js';
import { UserDeactivated, UserNotFound } from '../domain/outcomes.js';
import type { AccountClient } from '../upstream/account/client.js';
import { userOfSession } from '../upstream/account/session-users.js';
import { closedForEndedSession, parsePushFrame, pushSocketUrl, resumeFrame } from '../upstream/account/push.js';
import { RepeatedWarnings } from '../infra/repeated-warnings.js';
import { sessionKey } from '../infra/session-key.js';
import type { AdmissionQueue } from './admission.js';
import type { BusMessage, EventBus } from './bus.js';
import type { Pacer } from './pacer.js';

export interface RelayOptions {
  account: Pick<AccountClient, 'websocketTicket' | 'getUser'>;
  /** Where upstream events go: the user's log, fanned out to every instance; and where the last one appended is known. */
  bus: Pick<EventBus, 'append' | 'lastUpstreamId'>;
  /** Ticket requests wait their turn here (shared with the session checks). */
  admission: AdmissionQueue;
  /** Push sockets open at its steady rate. */
  pacer: Pacer;
  logger: Logger;
  /** A socket silent (no frame, no ping) this long is taken for half-open: terminated and reopened. */
  heartbeatMs: number;
  /** First reconnect delay; it doubles per failed attempt up to `reconnectMaxMs`, with jitter. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Largest upstream frame accepted. */
  maxFrameBytes: number;
  /** How often the sessions of subscriptions other than the socket's own are checked (the upstream only tells the socket's own session it ended). 0: never. */
  sessionCheckMs: number;
  /** Counts open push sockets (src/infra/metrics.ts). */
  metrics?: EventMetrics;
}

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

  /** Registers a subscription of `userId` signed in with `session`; the answer releases it. */
  acquire(userId: string, session: string): () => void {
    let relay = this.#users.get(userId);
    if (!relay) {
      relay = new UserRelay(userId, this.options, this.#warnings);
      this.#users.set(userId, relay);
    }
    relay.add(session);
    const owner = relay;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (owner.remove(session) > 0) return;
      owner.close();
      if (this.#users.get(userId) === owner) this.#users.delete(userId);
    };
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

class UserRelay {
  /** Live sessions of this user's subscriptions, with their counts; Map order = order added. */
  readonly #sessions = new Map<string, number>();
  /** Keys of sessions known to have ended. */
  readonly #ended = new Set<string>();
  readonly #logger: Logger;
  #socket: WebSocket | null = null;
  #socketSession: string | null = null;
  #connecting = false;
  #closed = false;
  #attempt = 0;
  /** The last upstream event id the bus has taken (or skipped, unknown): `resume_after` of the next socket. */
  #lastId: string | null = null;
  /** Appends in frame order, each after the one before. */
  #appending: Promise<void> = Promise.resolve();
  /** A socket whose append failed: nothing more of it is appended (it is being replaced, and resumes from #lastId). */
  #broken: WebSocket | null = null;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #sessionCheckTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly userId: string,
    private readonly options: RelayOptions,
    private readonly warnings: RepeatedWarnings,
  ) {
    this.#logger = options.logger.child({ user_id: userId });
    if (options.sessionCheckMs > 0) {
      this.#sessionCheckTimer = setInterval(() => {
        this.#checkSessions().catch((error: unknown) => this.#logger.error('session check failed', { error: errorName(error) }));
      }, options.sessionCheckMs);
      this.#sessionCheckTimer.unref();
    }
  }

  add(session: string): void {
    const count = this.#sessions.get(session) ?? 0;
    this.#sessions.delete(session); // re-inserted last: the newest session
    this.#sessions.set(session, count + 1);
    if (!this.#socket && !this.#connecting && !this.#reconnectTimer) this.#connectNow();
  }

  markEnded(ended: (key: string) => boolean): void {
    for (const session of this.#sessions.keys()) {
      const key = sessionKey(session);
      if (ended(key)) this.#ended.add(key);
    }
  }

  /** Answers how many subscriptions are left. */
  remove(session: string): number {
    const count = (this.#sessions.get(session) ?? 1) - 1;
    if (count > 0) this.#sessions.set(session, count);
    else this.#sessions.delete(session);
    let total = 0;
    for (const n of this.#sessions.values()) total += n;
    return total;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#heartbeatTimer);
    clearInterval(this.#sessionCheckTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket?.readyState === WebSocket.OPEN) socket.close(1000, 'no subscriptions left');
    else socket?.terminate();
    this.#logger.debug('push relay closed');
  }

  /** The newest live session not known to have ended. */
  #pickSession(): string | null {
    let picked: string | null = null;
    for (const session of this.#sessions.keys()) if (!this.#ended.has(sessionKey(session))) picked = session;
    return picked;
  }

  /**
   * Opens the push socket now, never throwing: every path of `#connect` ends
   * in a socket, a scheduled retry or nothing to do; should one still
   * throw, it is logged and retried.
   */
  #connectNow(): void {
    this.#connect().catch((error: unknown) => {
      this.#connecting = false;
      this.#logger.error('push socket not opened; retrying', { error: errorName(error) });
      this.#scheduleReconnect();
    });
  }

  async #connect(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#closed || !this.#pickSession()) return;
    this.#connecting = true;
    if (!(await this.options.pacer.turn(() => !this.#closed))) {
      this.#connecting = false;
      return;
    }
    const session = this.#pickSession();
    if (this.#closed || !session) {
      this.#connecting = false;
      return;
    }
    let socket: WebSocket | null = null;
    let resumeAfter: string | null = null;
    try {
      const answer = await this.options.admission.run(() => this.options.account.websocketTicket(session));
      resumeAfter = this.#lastId ?? (await this.options.bus.lastUpstreamId(this.userId).catch(() => null));
      if (!this.#closed) {
        // An answer off contract never gets here (ticketWire, UpstreamUnavailable); a URL `ws` refuses still throws here, not later.
        socket = new WebSocket(pushSocketUrl(answer), {
          maxPayload: this.options.maxFrameBytes,
          handshakeTimeout: this.options.heartbeatMs,
        });
      }
    } catch (error) {
      this.#connecting = false;
      if (this.#closed) return;
      if (error instanceof Unauthenticated) {
        this.#sessionEnded(session);
        return this.#connect();
      }
      this.warnings.warn('push ticket not issued or its socket not opened; retrying', { error: errorName(error) });
      return this.#scheduleReconnect();
    }
    this.#connecting = false;
    if (!socket) return;
    this.#socket = socket;
    this.#socketSession = session;
    this.#beat(socket);
    socket.on('open', () => {
      this.#attempt = 0;
      if (resumeAfter !== null) socket.send(resumeFrame(resumeAfter));
      this.#logger.debug('push socket open', { resumed: resumeAfter !== null });
      this.options.metrics?.pushSocketOpened();
      socket.once('close', () => this.options.metrics?.pushSocketClosed());
    });
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      this.#beat(socket);
      if (!isBinary) this.#onFrame(socket, rawText(raw));
    });
    socket.on('ping', () => this.#beat(socket));
    socket.on('pong', () => this.#beat(socket));
    socket.on('error', (error) => this.#logger.debug('push socket error', { error: error.name }));
    socket.on('close', (code) => this.#onClose(socket, code));
  }

  #onFrame(socket: WebSocket, text: string): void {
    const frame = parsePushFrame(text);
    if (frame.kind === 'invalid') {
      this.#logger.warn('push frame off contract ignored', { reason: frame.reason });
      return;
    }
    if (frame.kind === 'unknown') {
      this.#logger.debug('push event of an unknown kind skipped', { event: frame.name });
      this.#inOrder(socket, frame.id, async () => undefined);
      return;
    }
    const { event } = frame;
    if (event.type !== 'SessionExpired') {
      this.#inOrder(socket, event.id, () => this.#append({ origin: 'upstream', event }));
      return;
    }
    // Addressed to the session this socket was opened with, not to the user's other devices.
    const session = socket === this.#socket ? this.#socketSession : null;
    if (session) this.#sessionEnded(session, event, socket);
    else this.#inOrder(socket, event.id, async () => undefined);
  }

  /**
   * Runs `step` (an append) after the steps of earlier frames; once it has
   * succeeded, the socket's events up to `id` are taken. A failure breaks the
   * socket: it is terminated, later frames of it are dropped, and the next
   * socket resumes after the last event taken.
   */
  #inOrder(socket: WebSocket, id: string, step: () => Promise<unknown>): void {
    this.#appending = this.#appending.then(async () => {
      if (this.#broken === socket || this.#closed) return;
      try {
        await step();
        this.#lastId = id;
      } catch (error) {
        this.#broken = socket;
        this.warnings.warn('push event not taken by the event bus; resuming it from the upstream', { error: errorName(error) });
        if (socket === this.#socket) socket.terminate();
      }
    });
  }

  async #append(message: BusMessage): Promise<void> {
    await this.options.bus.append(this.userId, message);
  }

  #onClose(socket: WebSocket, code: number): void {
    if (socket !== this.#socket) return;
    clearTimeout(this.#heartbeatTimer);
    this.#socket = null;
    const session = this.#socketSession;
    this.#socketSession = null;
    if (this.#closed) return;
    if (closedForEndedSession(code) && session) {
      this.#sessionEnded(session);
      this.#attempt = 0;
      return this.#connectNow();
    }
    this.#logger.info('push socket closed; reconnecting', { closeCode: code });
    this.#scheduleReconnect();
  }

  /** Tells that session's subscriptions (on every instance) SessionExpired; the socket moves to another live session, if any. */
  #sessionEnded(session: string, upstreamEvent?: BusMessage['event'], socket?: WebSocket): void {
    const key = sessionKey(session);
    if (this.#ended.has(key) && !upstreamEvent) return;
    this.#ended.add(key);
    this.#logger.info('session of a subscription ended');
    if (upstreamEvent && socket) {
      this.#inOrder(socket, upstreamEvent.id, () => this.#append({ origin: 'upstream', event: upstreamEvent, sessionKey: key }));
      return;
    }
    const event = { type: 'SessionExpired' as const, id: `gw-${randomUUID()}`, at: new Date() };
    this.#append({ origin: 'gateway', event, sessionKey: key }).catch((error: unknown) =>
      this.#logger.error('end of a session not published', { error: errorName(error) }),
    );
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return;
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const cap = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.#attempt, 20));
    this.#attempt += 1;
    // "Equal jitter": at least half the cap, so instances that lost the upstream together spread out.
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.#reconnectTimer = setTimeout(() => this.#connectNow(), delay);
  }

  /** Any sign of life restarts the clock; silence for `heartbeatMs` ends the socket. */
  #beat(socket: WebSocket): void {
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => {
      if (socket !== this.#socket) return;
      this.#logger.info('push socket silent; terminating it', { silent_ms: this.options.heartbeatMs });
      socket.terminate();
    }, this.options.heartbeatMs);
  }

  async #checkSessions(): Promise<void> {
    for (const session of [...this.#sessions.keys()]) {
      if (this.#closed) return;
      if (session === this.#socketSession || this.#ended.has(sessionKey(session))) continue;
      try {
        await userOfSession(this.options.account, session);
      } catch (error) {
        // The user is gone or deactivated, or the session ended; any other answer (an unverified contact, a failure) proves nothing.
        const ended = error instanceof SessionRefused ? error.outcome instanceof UserNotFound || error.outcome instanceof UserDeactivated : error instanceof Unauthenticated;
        if (ended) this.#sessionEnded(session);
      }
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown';
}

function rawText(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}
