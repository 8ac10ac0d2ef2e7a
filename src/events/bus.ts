import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ACCOUNT_EVENT_TYPES, type AccountEvent, type EventOrigin } from '../domain/account-events.js';
import type { Cursor } from './event-id.js';

/*
 * The event bus: what every store of it shares (its messages, their wire
 * form, the EventBus interface). Its two stores: memory-bus.ts (one process)
 * and redis-bus.ts (every instance on one Redis).
 */

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
 * without one); `position` is the log's last position, where live delivery
 * takes over.
 * `missed`: the cursor cannot be replayed (older than the retention window,
 * of another epoch, unknown); `position` is where to go on from.
 */
export type LogRead =
  | { kind: 'replay'; epoch: string; position: string; entries: BusEntry[] }
  | { kind: 'missed'; epoch: string; position: string };

export interface LogOptions {
  /** How long each user's events are kept for resuming, in ms. */
  retentionMs: number;
  /** At most this many events are kept per user (oldest trimmed first). */
  maxEntries: number;
  /** How long an upstream event id is remembered to append it once, whichever instances relay it (and however often the upstream replays it), in ms. */
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
  read(userId: string, after: Cursor | null): Promise<LogRead>;
  /** The id of the user's last upstream event appended (kept LAST_UPSTREAM_ID_MS), for the relay's `resume_after`. */
  lastUpstreamId(userId: string): Promise<string | null>;
  /** `listener` runs when live delivery may miss entries (`lost`), and when it works again (`restored`). */
  onResync(listener: ResyncListener): () => void;
  close(): Promise<void>;
}

/** A fresh epoch: the log's name for one life of its store. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
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
