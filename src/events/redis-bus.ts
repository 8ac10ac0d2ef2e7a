import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import { type BusEntry, type BusListener, type BusMessage, decodeMessage, encodeMessage, type EventBus, LAST_UPSTREAM_ID_MS, type LogOptions, type LogRead, newEpoch, type ResyncListener } from './bus.js';
import type { Cursor } from './event-id.js';

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

/** KEYS: log, epoch, floor. ARGV: candidate epoch, cursor epoch or '', cursor position, retention ms. */
const READ_LUA = `${LUA_HEAD}
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local position = string.format('%d', now - 1) .. '-18446744073709551615'
if #last > 0 then position = last[1][1] end
if ARGV[2] == '' then return {epoch, 'replay', position, {}} end
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
return {epoch, 'replay', position, redis.call('XRANGE', KEYS[1], '(' .. after, '+')}
`;

type StreamEntries = Array<[string, string[]]>;
type ScriptedRedis = Redis & {
  eventsAppend(...args: string[]): Promise<[string, string?]>;
  eventsRead(...args: string[]): Promise<[string, 'replay' | 'missed', string, StreamEntries?]>;
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

  async read(userId: string, after: Cursor | null): Promise<LogRead> {
    const keys = this.#keys(userId);
    const [epoch, kind, position, entries] = await this.#publisher.eventsRead(
      keys.log, keys.epoch, keys.floor,
      this.#candidateEpoch, after?.epoch ?? '', after?.position ?? '', String(this.options.retentionMs),
    );
    if (kind === 'missed') return { kind, epoch, position };
    const decode = (list: StreamEntries = []) =>
      list.flatMap(([id, fields]) => {
        const message = decodeMessage(fields[1] ?? '');
        return message ? [{ epoch, position: id, message }] : [];
      });
    return { kind, epoch, position, entries: decode(entries) };
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

/** `epoch \n position \n message` of the live channel. */
function decodeEntry(text: string): BusEntry | null {
  const first = text.indexOf('\n');
  const second = text.indexOf('\n', first + 1);
  if (first <= 0 || second < 0) return null;
  const message = decodeMessage(text.slice(second + 1));
  return message && { epoch: text.slice(0, first), position: text.slice(first + 1, second), message };
}
