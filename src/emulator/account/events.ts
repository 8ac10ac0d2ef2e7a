import { isoTime, type Clock } from './clock.js';

/**
 * The per-user log of push events, kept so a reconnecting client can resume
 * (shared/UPSTREAM.md §1, the websocket). Ids are a per-user counter, zero
 * padded so they also sort as strings; they strictly increase but a socket
 * may see a jump (a `session.expired` addressed to another session of the
 * same user takes a number too).
 */
export interface PushEvent {
  seq: number;
  id: string;
  event: string;
  at: string;
  atMs: number;
  data: unknown;
  /** Set on `session.expired`: only sockets of this session receive it. */
  sessionToken?: string;
}

export interface EventLogOptions {
  /** How long an event is kept for resuming, on the emulator clock. Default 5 minutes. */
  retentionMs?: number;
  /** At most this many events are kept per user. Default 1000. */
  maxEvents?: number;
}

const ID_DIGITS = 12;

export function eventId(seq: number): string {
  return String(seq).padStart(ID_DIGITS, '0');
}

/** The sequence number of an event id, or null when it is not one. */
export function parseEventId(id: unknown): number | null {
  if (typeof id !== 'string' || !/^\d{1,15}$/.test(id)) return null;
  return Number(id);
}

/** The JSON text frame `{ id, event, at, data }`. */
export function frameOf(event: PushEvent): string {
  return JSON.stringify({ id: event.id, event: event.event, at: event.at, data: event.data });
}

export class EventLog {
  #users = new Map<string, { seq: number; entries: PushEvent[] }>();
  readonly #retentionMs: number;
  readonly #maxEvents: number;

  constructor(
    private readonly clock: Clock,
    options: EventLogOptions = {},
  ) {
    this.#retentionMs = options.retentionMs ?? 5 * 60 * 1000;
    this.#maxEvents = options.maxEvents ?? 1000;
  }

  append(userId: string, event: string, data: unknown, sessionToken?: string): PushEvent {
    const log = this.#users.get(userId) ?? { seq: 0, entries: [] };
    this.#users.set(userId, log);
    const atMs = this.clock.now();
    log.seq += 1;
    const entry: PushEvent = { seq: log.seq, id: eventId(log.seq), event, at: isoTime(atMs), atMs, data };
    if (sessionToken !== undefined) entry.sessionToken = sessionToken;
    log.entries.push(entry);
    this.#prune(log.entries);
    return entry;
  }

  /** The number of the user's latest event (0 when none). */
  lastSeq(userId: string): number {
    return this.#users.get(userId)?.seq ?? 0;
  }

  /** The retained events numbered after `seq`, oldest first. */
  after(userId: string, seq: number): PushEvent[] {
    const log = this.#users.get(userId);
    if (!log) return [];
    this.#prune(log.entries);
    return log.entries.filter((e) => e.seq > seq);
  }

  forget(userId: string): void {
    this.#users.delete(userId);
  }

  clear(): void {
    this.#users.clear();
  }

  /** Each user's counter and retained events, for the state file: ids go on increasing after a restart. */
  snapshot(): [string, { seq: number; entries: PushEvent[] }][] {
    return [...this.#users];
  }

  restore(users: readonly [string, { seq: number; entries: PushEvent[] }][]): void {
    this.#users = new Map(users.map(([userId, log]) => [userId, { seq: log.seq, entries: [...log.entries] }]));
  }

  #prune(entries: PushEvent[]): void {
    const oldest = this.clock.now() - this.#retentionMs;
    let drop = Math.max(0, entries.length - this.#maxEvents);
    while (drop < entries.length && entries[drop]!.atMs < oldest) drop += 1;
    entries.splice(0, drop);
  }
}
