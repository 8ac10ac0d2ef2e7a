import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../infra/logger.js';
import { ACCOUNT_EVENT_TYPES, type AccountEvent, type EventOrigin } from '../domain/account-events.js';
import { comparePositions, type Cursor } from './event-id.js';

/**
 * What travels on the bus, in each user's log. A SessionExpired is for the
 * subscriptions of the sessions it names, not for every device of the user:
 * `sessionKey` names one session (a hash of it, see src/infra/session-key.ts:
 * an upstream expiry, a logout), `allSessions` every session of the user but
 * `except` (password recovery keeps its new session; account deletion,
 * `except: null`, none). One of the two is set on SessionExpired only; a
 * SessionExpired with neither ends nothing.
 */
export interface BusMessage {
  origin: EventOrigin;
  event: AccountEvent;
  sessionKey?: string;
  allSessions?: { except: string | null };
}

/** Whether `message` ends the session with this key (sessionKey()) of the channel's user. */
export function endsSession(message: BusMessage, key: string): boolean {
  if (message.event.type !== 'SessionExpired') return false;
  if (message.sessionKey !== undefined) return message.sessionKey === key;
  return message.allSessions !== undefined && message.allSessions.except !== key;
}

/** A message at its place in the user's log. */
export interface BusEntry extends Cursor {
  message: BusMessage;
}

export type BusListener = (entry: BusEntry) => void;

export type ResyncListener = (phase: 'lost' | 'restored') => void;

/**
 * Where a subscriber starts. `replay`: the entries after its cursor (none
 * without one), plus `seed`, the entries of the dedupe window up to and
 * including the cursor, which it has seen already (to rebuild its dedupe);
 * `position` is the log's last position, where live delivery takes over.
 * `missed`: the cursor cannot be replayed (older than the retention window,
 * of another epoch, unknown); `position` is where to go on from.
 */
export type LogRead =
  | { kind: 'replay'; epoch: string; position: string; seed: BusEntry[]; entries: BusEntry[] }
  | { kind: 'missed'; epoch: string; position: string };

export interface LogOptions {
  /** How long each user's events are kept for resuming, in ms. */
  retentionMs: number;
  /** At most this many events are kept per user (oldest trimmed first). */
  maxEntries: number;
  /** How long an upstream event id is remembered to append it once, whichever instances relay it, in ms. */
  seenMs: number;
}

/** How long the last upstream event id of a user is kept, the relay's `resume_after` on any instance. */
export const LAST_UPSTREAM_ID_MS = 24 * 3600_000;

/**
 * The log of each user's account events and its fan-out to every instance.
 * `append` gives a message its position (ordered per user) and delivers it
 * to the live listeners of every instance; an upstream event is appended
 * once, however many instances relay it. `read` replays what came after a
 * cursor, within the retention window. Live delivery is at most once per
 * listener; `onResync` tells when it may miss entries (`lost`: the bus's
 * connection dropped) and when it is back (`restored`: resubscribed), so
 * subscribers hold live entries back meanwhile and read what they missed.
 */
export interface EventBus {
  /** The entry, or null for an upstream event appended already (by any instance). */
  append(userId: string, message: BusMessage): Promise<BusEntry | null>;
  /** Resolves once entries appended from now on reach `listener`; the answer unsubscribes. */
  subscribe(userId: string, listener: BusListener): Promise<() => Promise<void>>;
  /** See LogRead. `after` null: no replay, only the log's last position. */
  read(userId: string, after: Cursor | null, seedMs: number): Promise<LogRead>;
  /** The id of the user's last upstream event appended (kept LAST_UPSTREAM_ID_MS), for the relay's `resume_after`. */
  lastUpstreamId(userId: string): Promise<string | null>;
  /** `listener` runs when live delivery may miss entries (`lost`), and when it works again (`restored`). */
  onResync(listener: ResyncListener): () => void;
  close(): Promise<void>;
}

/** A fresh epoch: the log's name for one life of its store. */
function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

interface MemoryLog {
  entries: BusEntry[];
  /** Entries before this position were trimmed for the count limit. */
  floor: string | null;
  lastUpstream: { id: string; expiresAt: number } | null;
}

/** One process: the logs in memory, a new epoch per process. */
export class MemoryEventBus implements EventBus {
  readonly #epoch = newEpoch();
  readonly #logs = new Map<string, MemoryLog>();
  readonly #listeners = new Map<string, Set<BusListener>>();
  /** `userId \n upstream id` → expiry; all live as long, so Map order is expiry order. */
  readonly #seen = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout;
  #lastMs = 0;
  #seq = 0;

  constructor(
    private readonly options: LogOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.#sweep = setInterval(() => this.#sweepAll(), Math.min(60_000, options.retentionMs));
    this.#sweep.unref();
  }

  async append(userId: string, message: BusMessage): Promise<BusEntry | null> {
    const now = this.now();
    const log = this.#log(userId);
    if (message.origin === 'upstream') {
      for (const [key, expiresAt] of this.#seen) {
        if (expiresAt > now) break;
        this.#seen.delete(key);
      }
      const key = `${userId}\n${message.event.id}`;
      if (this.#seen.has(key)) return null;
      this.#seen.set(key, now + this.options.seenMs);
      log.lastUpstream = { id: message.event.id, expiresAt: now + LAST_UPSTREAM_ID_MS };
    }
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#seq = 0;
    } else {
      this.#seq += 1;
    }
    // A copy, as Redis would give: listeners never share objects with the publisher.
    const copy = decodeMessage(encodeMessage(message))!;
    const entry: BusEntry = { epoch: this.#epoch, position: `${this.#lastMs}-${this.#seq}`, message: copy };
    log.entries.push(entry);
    this.#prune(log, now);
    for (const listener of [...(this.#listeners.get(userId) ?? [])]) listener(entry);
    return entry;
  }

  async subscribe(userId: string, listener: BusListener): Promise<() => Promise<void>> {
    const set = this.#listeners.get(userId) ?? new Set();
    set.add(listener);
    this.#listeners.set(userId, set);
    return async () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(userId) === set) this.#listeners.delete(userId);
    };
  }

  async read(userId: string, after: Cursor | null, seedMs: number): Promise<LogRead> {
    const now = this.now();
    const log = this.#logs.get(userId);
    if (log) this.#prune(log, now);
    const entries = log?.entries ?? [];
    const position = entries.at(-1)?.position ?? this.#reservePosition(now);
    if (!after) return { kind: 'replay', epoch: this.#epoch, position, seed: [], entries: [] };
    if (!replayable(after, this.#epoch, position, log?.floor ?? null, now - this.options.retentionMs)) {
      return { kind: 'missed', epoch: this.#epoch, position };
    }
    const seedFrom = `${positionMs(after.position) - seedMs}-0`;
    return {
      kind: 'replay',
      epoch: this.#epoch,
      position,
      seed: entries.filter((e) => comparePositions(e.position, seedFrom) >= 0 && comparePositions(e.position, after.position) <= 0),
      entries: entries.filter((e) => comparePositions(e.position, after.position) > 0),
    };
  }

  async lastUpstreamId(userId: string): Promise<string | null> {
    const last = this.#logs.get(userId)?.lastUpstream;
    return last && last.expiresAt > this.now() ? last.id : null;
  }

  onResync(): () => void {
    return () => undefined; // one process: live delivery misses nothing
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#listeners.clear();
  }

  /** A position no entry has, before every entry to come (a user without entries starts there). */
  #reservePosition(now: number): string {
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#seq = 0;
    }
    return `${this.#lastMs}-${this.#seq}`;
  }

  #log(userId: string): MemoryLog {
    let log = this.#logs.get(userId);
    if (!log) {
      log = { entries: [], floor: null, lastUpstream: null };
      this.#logs.set(userId, log);
    }
    return log;
  }

  #prune(log: MemoryLog, now: number): void {
    const oldest = now - this.options.retentionMs;
    let drop = 0;
    while (drop < log.entries.length && positionMs(log.entries[drop]!.position) < oldest) drop += 1;
    const over = log.entries.length - drop - this.options.maxEntries;
    if (over > 0) {
      drop += over;
      log.floor = log.entries[drop]!.position;
    }
    if (drop > 0) log.entries.splice(0, drop);
  }

  #sweepAll(): void {
    const now = this.now();
    for (const [userId, log] of this.#logs) {
      this.#prune(log, now);
      if (log.entries.length === 0 && (!log.lastUpstream || log.lastUpstream.expiresAt <= now)) this.#logs.delete(userId);
    }
  }
}

/** Whether the log can replay what came after `after`: same epoch, inside the window, not past the log's end. */
function replayable(after: Cursor, epoch: string, last: string, floor: string | null, oldestMs: number): boolean {
  if (after.epoch !== epoch || positionMs(after.position) < oldestMs) return false;
  if (comparePositions(after.position, last) > 0) return false;
  return floor === null || comparePositions(after.position, floor) >= 0;
}

function positionMs(position: string): number {
  return Number(position.slice(0, position.indexOf('-')));
}

/*
 * The Redis side, in two scripts so that each step is atomic: the epoch key
 * (created by the first instance, gone when Redis loses its data), the log
 * (a stream trimmed by age and count, expiring with its last entry), the
 * ids of upstream events appended (so that several relays append one copy),
 * and the live fan-out (PUBLISH in the same script: channel order is log
 * order). Times are Redis's own (TIME), the clock of the stream ids.
 */
const LUA_HEAD = `
redis.call('SET', KEYS[2], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: log, epoch, floor, seen, last upstream id. ARGV: candidate epoch, message, retention ms, max entries, upstream id or '', seen ms, last-id ms, channel. */
const APPEND_LUA = `${LUA_HEAD}
if ARGV[5] ~= '' then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[6]) then return {epoch} end
  redis.call('SET', KEYS[5], ARGV[5], 'PX', ARGV[7])
end
local retention = tonumber(ARGV[3])
local id = redis.call('XADD', KEYS[1], 'MINID', '~', string.format('%d', now - retention), '*', 'm', ARGV[2])
if redis.call('XLEN', KEYS[1]) > tonumber(ARGV[4]) then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[4])
  redis.call('SET', KEYS[3], redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1], 'PX', retention)
end
redis.call('PEXPIRE', KEYS[1], retention)
redis.call('PUBLISH', ARGV[8], epoch .. '\\n' .. id .. '\\n' .. ARGV[2])
return {epoch, id}
`;

/** KEYS: log, epoch, floor. ARGV: candidate epoch, cursor epoch or '', cursor position, retention ms, seed ms. */
const READ_LUA = `${LUA_HEAD}
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local position = string.format('%d', now - 1) .. '-18446744073709551615'
if #last > 0 then position = last[1][1] end
if ARGV[2] == '' then return {epoch, 'replay', position, {}, {}} end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local after = ARGV[3]
local afterMs = parse(after)
local floor = redis.call('GET', KEYS[3])
if ARGV[2] ~= epoch or afterMs < now - tonumber(ARGV[4]) or before(position, after) or (floor and before(after, floor)) then
  return {epoch, 'missed', position}
end
local seed = redis.call('XRANGE', KEYS[1], string.format('%d', math.max(0, afterMs - tonumber(ARGV[5]))), after)
return {epoch, 'replay', position, seed, redis.call('XRANGE', KEYS[1], '(' .. after, '+')}
`;

type StreamEntries = Array<[string, string[]]>;
type ScriptedRedis = Redis & {
  eventsAppend(...args: string[]): Promise<[string, string?]>;
  eventsRead(...args: string[]): Promise<[string, 'replay' | 'missed', string, StreamEntries?, StreamEntries?]>;
};

/**
 * Redis Streams for the logs (`<prefix>events-log:<userId>`), pub/sub for
 * live delivery (channel `<prefix>events:<userId>`, subscribed while this
 * instance has a subscription of that user). Entries published while this
 * instance's subscriber connection was down are read back from the log when
 * it returns (onResync). A Redis restart keeps the logs as far as Redis
 * persists them (RDB/AOF); one that lost them has a new epoch, and cursors
 * of the old one are answered `missed`.
 */
export class RedisEventBus implements EventBus {
  readonly #channels = new Map<string, { listeners: Set<BusListener>; ready: Promise<unknown> }>();
  readonly #resyncListeners = new Set<ResyncListener>();
  readonly #publisher: ScriptedRedis;
  readonly #candidateEpoch = newEpoch();
  #lostConnection = false;
  #closed = false;

  constructor(
    publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly options: LogOptions,
    private readonly logger: Logger,
  ) {
    publisher.defineCommand('eventsAppend', { numberOfKeys: 5, lua: APPEND_LUA });
    publisher.defineCommand('eventsRead', { numberOfKeys: 3, lua: READ_LUA });
    this.#publisher = publisher as ScriptedRedis;
    subscriber.on('message', (channel: string, text: string) => {
      const entry = this.#channels.get(channel);
      if (!entry) return;
      const decoded = decodeEntry(text);
      if (!decoded) return this.logger.warn('event bus message off format ignored', { channel });
      for (const listener of [...entry.listeners]) listener(decoded);
    });
    subscriber.on('close', () => {
      if (this.#closed || this.#lostConnection) return;
      this.#lostConnection = true;
      for (const listener of this.#resyncListeners) listener('lost');
    });
    subscriber.on('ready', () => {
      if (!this.#lostConnection || this.#closed) return;
      this.#lostConnection = false;
      // ioredis resubscribes right after 'ready'; a SUBSCRIBE of ours answered means theirs are in effect too.
      setImmediate(() => {
        const channels = [...this.#channels.keys()];
        const resubscribed = channels.length > 0 ? this.subscriber.subscribe(...channels) : Promise.resolve();
        resubscribed.then(
          () => {
            if (this.#lostConnection) return; // lost again meanwhile: the next 'ready' restores
            for (const listener of this.#resyncListeners) listener('restored');
          },
          (error: Error) => this.logger.warn('event bus resubscribe failed', { error: error.name }),
        );
      });
    });
  }

  channelOf(userId: string): string {
    return `${this.prefix}events:${userId}`;
  }

  #keys(userId: string): { log: string; floor: string; upstream: string; epoch: string } {
    const log = `${this.prefix}events-log:${userId}`;
    return { log, floor: `${log}:floor`, upstream: `${log}:upstream`, epoch: `${this.prefix}events-epoch` };
  }

  async append(userId: string, message: BusMessage): Promise<BusEntry | null> {
    const keys = this.#keys(userId);
    const upstreamId = message.origin === 'upstream' ? message.event.id : '';
    const text = encodeMessage(message);
    const [epoch, position] = await this.#publisher.eventsAppend(
      keys.log, keys.epoch, keys.floor, `${keys.log}:seen:${upstreamId}`, keys.upstream,
      this.#candidateEpoch, text, String(this.options.retentionMs), String(this.options.maxEntries), upstreamId,
      String(this.options.seenMs), String(LAST_UPSTREAM_ID_MS), this.channelOf(userId),
    );
    if (!position) return null;
    return { epoch, position, message: decodeMessage(text)! };
  }

  async read(userId: string, after: Cursor | null, seedMs: number): Promise<LogRead> {
    const keys = this.#keys(userId);
    const [epoch, kind, position, seed, entries] = await this.#publisher.eventsRead(
      keys.log, keys.epoch, keys.floor,
      this.#candidateEpoch, after?.epoch ?? '', after?.position ?? '', String(this.options.retentionMs), String(seedMs),
    );
    if (kind === 'missed') return { kind, epoch, position };
    const decode = (list: StreamEntries = []) =>
      list.flatMap(([id, fields]) => {
        const message = decodeMessage(fields[1] ?? '');
        return message ? [{ epoch, position: id, message }] : [];
      });
    return { kind, epoch, position, seed: decode(seed), entries: decode(entries) };
  }

  async lastUpstreamId(userId: string): Promise<string | null> {
    return this.#publisher.get(this.#keys(userId).upstream);
  }

  async subscribe(userId: string, listener: BusListener): Promise<() => Promise<void>> {
    const channel = this.channelOf(userId);
    let entry = this.#channels.get(channel);
    if (!entry) {
      // Commands go out in order on the one connection: an UNSUBSCRIBE of an
      // earlier entry always precedes this SUBSCRIBE.
      entry = { listeners: new Set(), ready: this.subscriber.subscribe(channel) };
      this.#channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const current = entry;
    try {
      await current.ready;
    } catch (error) {
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.#channels.get(channel) === current) this.#channels.delete(channel);
      throw error;
    }
    return async () => {
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.#channels.get(channel) !== current) return;
      this.#channels.delete(channel);
      await this.subscriber.unsubscribe(channel).catch((error: Error) => this.logger.warn('redis unsubscribe failed', { error: error.name }));
    };
  }

  onResync(listener: ResyncListener): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    this.#resyncListeners.clear();
    await Promise.all([this.subscriber, this.#publisher].map((redis) => redis.quit().catch(() => redis.disconnect())));
  }
}

const messageWire = z.object({
  origin: z.enum(['upstream', 'gateway']),
  sessionKey: z.string().max(100).optional(),
  allSessions: z.object({ except: z.string().max(100).nullable() }).optional(),
  event: z.looseObject({ id: z.string().min(1).max(200), at: z.iso.datetime(), type: z.enum(ACCOUNT_EVENT_TYPES) }),
});

export function encodeMessage(message: BusMessage): string {
  return JSON.stringify(message);
}

/** The message, or null when the text is not one (Redis is shared: never trust a channel blindly). */
export function decodeMessage(text: string): BusMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = messageWire.safeParse(json);
  if (!parsed.success) return null;
  const { origin, sessionKey, allSessions, event } = parsed.data;
  const message: BusMessage = { origin, event: { ...event, at: new Date(event.at) } as AccountEvent };
  if (sessionKey !== undefined) message.sessionKey = sessionKey;
  if (allSessions !== undefined) message.allSessions = { except: allSessions.except };
  return message;
}

/** `epoch \n position \n message` of the live channel. */
function decodeEntry(text: string): BusEntry | null {
  const first = text.indexOf('\n');
  const second = text.indexOf('\n', first + 1);
  if (first <= 0 || second < 0) return null;
  const message = decodeMessage(text.slice(second + 1));
  return message && { epoch: text.slice(0, first), position: text.slice(first + 1, second), message };
}
