import type { Channel } from './outcomes.js';
import type { Settings } from './account.js';

/**
 * What `accountEvents` delivers, in the gateway's words (shared/API.md). The
 * `type` names the GraphQL union member. Upstream frames become these in
 * src/upstream/account/push.ts; mutations of the gateway build them directly.
 */
export type AccountEventData =
  | { type: 'SettingsUpdated'; settings: Settings }
  | { type: 'ProductsUpdated'; activeProductIds: string[] }
  | { type: 'ContactVerified'; channel: Channel }
  | { type: 'Notification'; notificationId: string; kind: string; title: string; body: string }
  | { type: 'SessionExpired' }
  /** To one subscriber only, never on the bus: what came after its `after` can no longer be replayed. */
  | { type: 'EventsMissed' };

export type AccountEventType = AccountEventData['type'];

/** The types that travel on the bus (EventsMissed never does). */
export const ACCOUNT_EVENT_TYPES = ['SettingsUpdated', 'ProductsUpdated', 'ContactVerified', 'Notification', 'SessionExpired'] as const satisfies readonly AccountEventType[];

/**
 * One event. On the bus, `id` is the upstream event id for events that came
 * through the Account API's websocket, and `gw-<uuid>` for a SessionExpired
 * the gateway published itself (a logout, a session found ended); a
 * subscriber receives it with its public id instead (event-id.ts).
 */
export type AccountEvent = AccountEventData & { id: string; at: Date };

export type AccountEventOf<T extends AccountEventType> = Extract<AccountEvent, { type: T }>;

/**
 * Where an event entered the gateway: the upstream websocket (through a
 * relay, possibly on another instance) or a gateway instance (a SessionExpired).
 * The log appends an upstream id once (bus.ts).
 */
export type EventOrigin = 'upstream' | 'gateway';
