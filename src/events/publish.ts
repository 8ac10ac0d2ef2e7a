import type { GatewayContext } from '../context.js';
import type { AccountUser } from '../upstream/account/wire.js';
import type { AccountEventData } from './event.js';

/**
 * For mutations: the event of a change they made, to the user's
 * `accountEvents` on every instance at once, without waiting for the
 * upstream socket (whose later copy each subscription drops, dedupe.ts).
 * Never fails the mutation.
 */
export function publishAccountEvent(ctx: Pick<GatewayContext, 'events' | 'loaders'>, session: string, data: AccountEventData): Promise<void> {
  return ctx.events.publishFor(session, () => ctx.loaders.user.load(session), data);
}

/** Which contact a confirmed change replaced: the channel of a ContactVerified event. */
export function changedContact(before: AccountUser, after: AccountUser): 'EMAIL' | 'PHONE' | null {
  if (before.email !== after.email) return 'EMAIL';
  if (before.phone !== after.phone) return 'PHONE';
  return null;
}
