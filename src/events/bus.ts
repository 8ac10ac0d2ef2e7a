import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../infra/logger.js';
import { ACCOUNT_EVENT_TYPES, type AccountEvent, type EventOrigin } from '../domain/account-events.js';

/**
 * What travels on the bus, on one channel per user id. A SessionExpired is
 * for the subscriptions of the sessions it names, not for every device of
 * the user: `sessionKey` names one session (a hash of it, see
 * src/infra/session-key.ts: an upstream expiry, a logout), `allSessions` every
 * session of the user but `except` (password recovery keeps its new
 * session; account deletion, `except: null`, none). One of the two is set on
 * SessionExpired only; a SessionExpired with neither ends nothing.
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

export type BusListener = (message: BusMessage) => void;

/**
 * Fan-out of account events to the subscriptions of a user, on every gateway
 * instance. Delivery is at most once per listener and message; order is kept
 * per publisher.
 */
export interface EventBus {
  publish(userId: string, message: BusMessage): Promise<void>;
  /** Resolves once messages published from now on reach `listener`; the answer unsubscribes. */
  subscribe(userId: string, listener: BusListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** One process: a map of listeners. */
export class MemoryEventBus implements EventBus {
  readonly #listeners = new Map<string, Set<BusListener>>();

  async publish(userId: string, message: BusMessage): Promise<void> {
    // A copy, as Redis would give: listeners never share objects with the publisher.
    const copy = decodeMessage(encodeMessage(message));
    for (const listener of [...(this.#listeners.get(userId) ?? [])]) if (copy) listener(copy);
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

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}

/**
 * Redis pub/sub: channel `<prefix>events:<userId>`, one connection to publish
 * and one in subscriber mode, a channel subscribed while this instance has a
 * subscription of that user. Messages published while Redis is unreachable
 * are lost (pub/sub keeps nothing); ioredis resubscribes after a reconnect.
 */
export class RedisEventBus implements EventBus {
  readonly #channels = new Map<string, { listeners: Set<BusListener>; ready: Promise<unknown> }>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    subscriber.on('message', (channel: string, text: string) => {
      const entry = this.#channels.get(channel);
      if (!entry) return;
      const message = decodeMessage(text);
      if (!message) return this.logger.warn('event bus message off format ignored', { channel });
      for (const listener of [...entry.listeners]) listener(message);
    });
  }

  channelOf(userId: string): string {
    return `${this.prefix}events:${userId}`;
  }

  async publish(userId: string, message: BusMessage): Promise<void> {
    await this.publisher.publish(this.channelOf(userId), encodeMessage(message));
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

  async close(): Promise<void> {
    this.#channels.clear();
    await Promise.all([this.subscriber, this.publisher].map((redis) => redis.quit().catch(() => redis.disconnect())));
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
