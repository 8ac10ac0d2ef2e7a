import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from '../../infra/logger.js';
import { frameOf, parseEventId, type EventLog, type PushEvent } from './events.js';
import { isRecord } from './params.js';
import type { SessionRecord } from './sessions.js';

/** Close code sent after `session.expired` (shared/UPSTREAM.md §1). */
export const SESSION_EXPIRED_CLOSE = 4403;

export interface PushOptions {
  /** Interval of the server's ws pings. A socket that missed the previous pong is terminated. */
  pingIntervalMs: number;
  /**
   * How long a new socket's events are held back while waiting for its first
   * frame (`{ "resume_after": id }`), so replayed and live events never
   * interleave. Any first frame ends the wait.
   */
  resumeWindowMs: number;
  logger: Logger;
}

interface Client {
  ws: WebSocket;
  userId: string;
  sessionToken: string;
  /** The user's last event number when the socket opened. */
  openedSeq: number;
  /** Events of this socket are sent as they happen (the hold is over). */
  live: boolean;
  /** Highest event number delivered (or skipped) on this socket. */
  lastSent: number;
  sentAny: boolean;
  firstFrameSeen: boolean;
  alive: boolean;
  holdTimer?: NodeJS.Timeout;
}

/** The websocket side: open sockets per user, delivery, resume, pings. */
export class PushHub {
  #wss = new WebSocketServer({ noServer: true });
  #clients = new Map<string, Set<Client>>();
  #pingTimer: NodeJS.Timeout;

  constructor(
    private readonly log: EventLog,
    private readonly options: PushOptions,
  ) {
    this.#pingTimer = setInterval(() => this.#pingAll(), options.pingIntervalMs);
    this.#pingTimer.unref();
  }

  /** Completes an upgrade whose ticket was already checked. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, session: SessionRecord): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#register(ws, session));
  }

  /** Logs an event of the user and sends it to the user's live sockets. */
  emit(userId: string, event: string, data: unknown): PushEvent {
    const entry = this.log.append(userId, event, data);
    for (const client of this.#clients.get(userId) ?? []) if (client.live) this.#deliver(client, entry);
    return entry;
  }

  /** Sends `session.expired` to the sockets of this session and closes them with 4403. */
  endSession(session: SessionRecord): void {
    const entry = this.log.append(session.userId, 'session.expired', {}, session.token);
    for (const client of this.#clients.get(session.userId) ?? []) {
      if (client.sessionToken !== session.token) {
        if (client.live) this.#deliver(client, entry);
        continue;
      }
      if (client.live) this.#deliver(client, entry);
      else this.#goLive(client, client.openedSeq);
      client.ws.close(SESSION_EXPIRED_CLOSE, 'session expired');
    }
  }

  /** Terminates the user's sockets without a close frame, like a network drop. */
  drop(userId: string): number {
    const clients = [...(this.#clients.get(userId) ?? [])];
    for (const client of clients) this.#remove(client, true);
    return clients.length;
  }

  /** Open sockets per user id. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [userId, clients] of this.#clients) if (clients.size > 0) counts[userId] = clients.size;
    return counts;
  }

  terminateAll(): void {
    for (const userId of [...this.#clients.keys()]) this.drop(userId);
  }

  close(): void {
    clearInterval(this.#pingTimer);
    this.terminateAll();
    this.#wss.close();
  }

  #register(ws: WebSocket, session: SessionRecord): void {
    const openedSeq = this.log.lastSeq(session.userId);
    const client: Client = {
      ws,
      userId: session.userId,
      sessionToken: session.token,
      openedSeq,
      live: false,
      lastSent: openedSeq,
      sentAny: false,
      firstFrameSeen: false,
      alive: true,
    };
    const clients = this.#clients.get(client.userId) ?? new Set();
    clients.add(client);
    this.#clients.set(client.userId, clients);
    client.holdTimer = setTimeout(() => this.#goLive(client, openedSeq), this.options.resumeWindowMs);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (raw) => this.#onMessage(client, raw));
    ws.on('close', () => this.#remove(client, false));
    ws.on('error', (error) => this.options.logger.debug('push socket error', { error }));
    this.options.logger.debug('push socket opened', { userId: client.userId });
  }

  /** Only the first frame matters: `{ resume_after }` replays what came after that id. */
  #onMessage(client: Client, raw: RawData): void {
    if (client.firstFrameSeen) return;
    client.firstFrameSeen = true;
    let resumeSeq: number | null = null;
    try {
      const frame: unknown = JSON.parse(raw.toString());
      if (isRecord(frame)) resumeSeq = parseEventId(frame.resume_after);
    } catch {
      // Not JSON: treated as a first frame without resume.
    }
    const lastSeq = this.log.lastSeq(client.userId);
    if (!client.live) {
      this.#goLive(client, resumeSeq === null ? client.openedSeq : Math.min(resumeSeq, lastSeq));
    } else if (resumeSeq !== null && !client.sentAny) {
      // The hold ran out but nothing went out yet: replaying keeps the order.
      for (const entry of this.log.after(client.userId, resumeSeq)) {
        if (entry.seq <= client.lastSent) this.#send(client, entry);
      }
    }
  }

  #goLive(client: Client, fromSeq: number): void {
    if (client.live) return;
    clearTimeout(client.holdTimer);
    client.live = true;
    client.lastSent = fromSeq;
    for (const entry of this.log.after(client.userId, fromSeq)) this.#deliver(client, entry);
    client.lastSent = Math.max(client.lastSent, this.log.lastSeq(client.userId));
  }

  /** Sends an event newer than anything this socket has had; never twice. */
  #deliver(client: Client, entry: PushEvent): void {
    if (entry.seq <= client.lastSent) return;
    this.#send(client, entry);
    client.lastSent = entry.seq;
  }

  /** Writes the frame, unless the event is addressed to another session. */
  #send(client: Client, entry: PushEvent): void {
    if (entry.sessionToken !== undefined && entry.sessionToken !== client.sessionToken) return;
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.ws.send(frameOf(entry));
    client.sentAny = true;
  }

  #remove(client: Client, terminate: boolean): void {
    clearTimeout(client.holdTimer);
    const clients = this.#clients.get(client.userId);
    clients?.delete(client);
    if (clients?.size === 0) this.#clients.delete(client.userId);
    if (terminate) client.ws.terminate();
  }

  #pingAll(): void {
    for (const clients of this.#clients.values()) {
      for (const client of clients) {
        if (!client.alive) {
          this.#remove(client, true);
          continue;
        }
        client.alive = false;
        client.ws.ping();
      }
    }
  }
}
