import type { GatewayContext } from '../schema/context.js';
import type { EndedSessions } from './account-events.js';
import type { AccountEventData } from '../domain/account-events.js';

type EventsContext = Pick<GatewayContext, 'events' | 'loaders'>;

/**
 * For mutations: the event of a change they made, to the user's
 * `accountEvents` on every instance at once, without waiting for the
 * upstream socket (whose later copy each subscription drops, dedupe.ts).
 * Never fails the mutation.
 */
export function publishAccountEvent(ctx: EventsContext, session: string, data: AccountEventData): Promise<void> {
  return ctx.events.publishFor(session, () => ctx.loaders.user.load(session), data);
}

/**
 * For mutations that end `session` (logout, account deletion): its user id,
 * found before the Account API call that ends it, since afterwards the API
 * no longer knows the session. Null when it cannot be found (logged).
 * Never fails the mutation.
 */
export function userOfEndingSession(ctx: EventsContext, session: string): Promise<string | null> {
  return ctx.events.userIdBeforeEnding(session, () => ctx.loaders.user.load(session));
}

/**
 * After a mutation ended sessions of `userId` (logout: one; account
 * deletion: all; password recovery: all but the new one): their
 * subscriptions on every instance get SessionExpired and complete now,
 * instead of at the next session check. Never fails the mutation.
 */
export function endSessionSubscriptions(ctx: Pick<GatewayContext, 'events'>, userId: string, which: EndedSessions): Promise<void> {
  return ctx.events.endSessions(userId, which);
}
