import { builder } from '../builder.js';
import { DatingRefused, JoinDatingInProgress, JoinDatingOutcomeUnknown, JoinedDating } from '../../flows/join-dating-outcomes.js';
import { errorType, ValidationErrorType } from '../outcome-types.js';
import { AlreadyRegisteredType, DatingUserCreatedType, EmailRejectedType, SiteRateLimitedType } from './outcome-types.js';
import { DatingSiteType, siteOf } from './site.js';
import { changedUser, UserType } from '../user.js';

/* What joinDating answers (src/flows/join-dating-outcomes.ts), as GraphQL types. */

export const JoinedDatingType = builder.objectType(JoinedDating, {
  name: 'JoinDatingSuccess',
  description: 'The dating product is active and the user exists on the dating site.',
  isTypeOf: (v) => v instanceof JoinedDating,
  fields: (t) => ({
    datingUser: t.field({ type: DatingUserCreatedType, resolve: (j) => j.created }),
    productActivated: t.exposeBoolean('productActivated', { description: 'This call activated `dating`; false when it was active already.' }),
    user: t.field({ type: UserType, description: 'The user after the join (`dating` among its active products).', resolve: (_j, _args, ctx) => changedUser(ctx) }),
    replayed: t.exposeBoolean('replayed', { description: 'The outcome of an earlier call with the same idempotencyKey; nothing was done again.' }),
  }),
});

const RefusalReason = builder.unionType('DatingRefusalReason', {
  description: 'Why the dating site did not create the user.',
  types: [ValidationErrorType, EmailRejectedType, AlreadyRegisteredType, SiteRateLimitedType],
});

errorType(DatingRefused, 'DatingRefused', 'The dating site refused the user. When this call had activated `dating`, it was deactivated again.', (t) => ({
  site: t.field({ type: DatingSiteType, resolve: (r, _args, ctx) => siteOf(r.siteId, ctx) }),
  reason: t.field({ type: RefusalReason, resolve: (r) => r.reason }),
  productDeactivated: t.exposeBoolean('productDeactivated', { description: 'The activation made by this call was undone; `dating` is inactive.' }),
  replayed: t.exposeBoolean('replayed', { description: 'The outcome of an earlier call with the same idempotencyKey; nothing was done again.' }),
}));

errorType(JoinDatingInProgress, 'JoinDatingInProgress', 'A call with the same idempotencyKey, or another joinDating call of this account, is still running; repeat this one later to get its outcome.', (t) => ({
  retryAfterSeconds: t.exposeInt('retryAfterSeconds'),
}));

errorType(
  JoinDatingOutcomeUnknown,
  'JoinDatingOutcomeUnknown',
  'The dating site did not tell whether it created the user (it timed out, or its answer was cut or unreadable). Repeats with the same idempotencyKey return this again and never post again. Have the user check the site or contact support; a new key makes a new attempt, which answers AlreadyRegistered when the first one did create the user.',
  (t) => ({
    site: t.field({ type: DatingSiteType, resolve: (u, _args, ctx) => siteOf(u.siteId, ctx) }),
    productActivated: t.exposeBoolean('productActivated', { description: 'This call activated `dating`; it stays active.' }),
    replayed: t.exposeBoolean('replayed', { description: 'The outcome of an earlier call with the same idempotencyKey; nothing was done again.' }),
  }),
);

