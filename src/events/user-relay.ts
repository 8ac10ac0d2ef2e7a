import { randomUUID } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import { Unauthenticated } from '../domain/errors.js';
import { Backoff } from '../infra/backoff.js';
import type { Logger } from '../infra/logger.js';
import type { EventMetrics } from '../infra/metrics.js';
import type { AccountClient } from '../upstream/account/client.js';
import { closedForEndedSession, parsePushFrame, pushSocketUrl, resumeFrame } from '../upstream/account/push.js';
import type { RepeatedWarnings } from '../infra/repeated-warnings.js';
import { sessionKey } from '../infra/session-key.js';
import type { AdmissionQueue } from './admission.js';
import type { BusMessage, EventBus } from './bus.js';
import type { Pacer } from './pacer.js';
import { RelaySessions } from './relay-sessions.js';

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
  /** First reconnect delay; it grows per failed attempt up to `reconnectMaxMs`, with jitter (infra/backoff.ts). */
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
 * One user's push socket on this instance (see UpstreamRelay, relay.ts):
 * opened with the newest live session, its frames appended to the bus in
 * order, reopened with `resume_after` = the last event the bus took.
 */
export class UserRelay {
  readonly #sessions = new RelaySessions();
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  #socket: WebSocket | null = null;
  #socketSession: string | null = null;
  #connecting = false;
  #closed = false;
  /** The last upstream event id the bus has taken (or skipped, unknown): `resume_after` of the next socket. */
  #lastId: string | null = null;
  /** Appends in frame order, each after the one before. */
  #appending: Promise<void> = Promise.resolve();
  /** A socket whose append failed: nothing more of it is appended (it is being replaced, and resumes from #lastId). */
  #broken: WebSocket | null = null;
  #markOpened: () => void = () => undefined;
  /** Resolves when a push socket of this relay first opens (see UpstreamRelay.acquire). */
  readonly opened = new Promise<void>((resolve) => (this.#markOpened = resolve));
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #sessionCheckTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly userId: string,
    private readonly options: RelayOptions,
    private readonly warnings: RepeatedWarnings,
  ) {
    this.#logger = options.logger.child({ userId });
    this.#backoff = new Backoff({ initialMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    if (options.sessionCheckMs > 0) {
      this.#sessionCheckTimer = setInterval(() => {
        this.#sessions
          .check(options.account, this.#socketSession, () => this.#closed, (session) => this.#sessionEnded(session))
          .catch((error: unknown) => this.#logger.error('session check failed', { error: errorName(error) }));
      }, options.sessionCheckMs);
      this.#sessionCheckTimer.unref();
    }
  }

  add(session: string): void {
    this.#sessions.add(session);
    if (!this.#socket && !this.#connecting && !this.#reconnectTimer) this.#connectNow();
  }

  markEnded(ended: (key: string) => boolean): void {
    this.#sessions.markEnded(ended);
  }

  /** Answers how many subscriptions are left. */
  remove(session: string): number {
    return this.#sessions.remove(session);
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
    if (this.#closed || !this.#sessions.pick()) return;
    this.#connecting = true;
    if (!(await this.options.pacer.turn(() => !this.#closed))) {
      this.#connecting = false;
      return;
    }
    const session = this.#sessions.pick();
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
      this.#backoff.reset();
      // Always a first frame, at once: the upstream holds the socket's events until it comes (or a while), so replay and live never interleave.
      socket.send(resumeFrame(resumeAfter));
      this.#markOpened();
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
      this.#backoff.reset();
      return this.#connectNow();
    }
    this.#logger.info('push socket closed; reconnecting', { closeCode: code });
    this.#scheduleReconnect();
  }

  /** Tells that session's subscriptions (on every instance) SessionExpired; the socket moves to another live session, if any. */
  #sessionEnded(session: string, upstreamEvent?: BusMessage['event'], socket?: WebSocket): void {
    const key = sessionKey(session);
    if (!this.#sessions.end(session) && !upstreamEvent) return;
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
    this.#reconnectTimer = setTimeout(() => this.#connectNow(), this.#backoff.next());
  }

  /** Any sign of life restarts the clock; silence for `heartbeatMs` ends the socket. */
  #beat(socket: WebSocket): void {
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => {
      if (socket !== this.#socket) return;
      this.#logger.info('push socket silent; terminating it', { silentMs: this.options.heartbeatMs });
      socket.terminate();
    }, this.options.heartbeatMs);
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
