import { AlreadyRegistered, EmailRejected, type FieldError, Outcome, SiteRateLimited, ValidationError } from '../../outcomes.js';
import type { DatingUser } from '../../upstream/dating/wire.js';
import { builder } from '../builder.js';
import { errorType, ValidationErrorType } from '../errors.js';
import { AlreadyRegisteredType, DatingUserCreated, DatingUserCreatedType, EmailRejectedType, SiteRateLimitedType } from './outcomes.js';
import { DatingSiteType, siteOf } from './site.js';

/* What joinDating answers, and how a final answer is kept for its idempotency key. */

export class JoinedDating {
  constructor(
    readonly created: DatingUserCreated,
    /** This call activated `dating` (it was inactive before). */
    readonly productActivated: boolean,
    readonly replayed = false,
  ) {}
}

export type Refusal = ValidationError | EmailRejected | AlreadyRegistered | SiteRateLimited;

/** The site refused the user; `dating` was deactivated again when this call had activated it. */
export class DatingRefused extends Outcome {
  readonly message: string;
  constructor(
    readonly siteId: string,
    readonly reason: Refusal,
    readonly productDeactivated: boolean,
    readonly replayed = false,
  ) {
    super();
    this.message = `The dating site refused the user: ${reason.message}${productDeactivated ? ' The dating product was deactivated again.' : ''}`;
  }
}

/** The first call with this idempotency key is still running. */
export class JoinDatingInProgress extends Outcome {
  readonly message = 'A joinDating call with this idempotency key is still running. Try again shortly.';
  constructor(readonly retryAfterSeconds: number) {
    super();
  }
}

export const JoinedDatingType = builder.objectType(JoinedDating, {
  name: 'JoinDatingSuccess',
  description: 'The dating product is active and the user exists on the dating site.',
  isTypeOf: (v) => v instanceof JoinedDating,
  fields: (t) => ({
    datingUser: t.field({ type: DatingUserCreatedType, resolve: (j) => j.created }),
    productActivated: t.exposeBoolean('productActivated', { description: 'This call activated `dating`; false when it was active already.' }),
    replayed: t.exposeBoolean('replayed', { description: 'The outcome of an earlier call with the same idempotencyKey; nothing was done again.' }),
  }),
});

const RefusalReason = builder.unionType('DatingRefusalReason', {
  description: 'Why the dating site did not create the user.',
  types: [ValidationErrorType, EmailRejectedType, AlreadyRegisteredType, SiteRateLimitedType],
});

export const DatingRefusedType = errorType(DatingRefused, 'DatingRefused', 'The dating site refused the user. When this call had activated `dating`, it was deactivated again.', (t) => ({
  site: t.field({ type: DatingSiteType, resolve: (r, _args, ctx) => siteOf(r.siteId, ctx) }),
  reason: t.field({ type: RefusalReason, resolve: (r) => r.reason }),
  productDeactivated: t.exposeBoolean('productDeactivated', { description: 'The activation made by this call was undone; `dating` is inactive.' }),
  replayed: t.exposeBoolean('replayed', { description: 'The outcome of an earlier call with the same idempotencyKey; nothing was done again.' }),
}));

export const JoinDatingInProgressType = errorType(JoinDatingInProgress, 'JoinDatingInProgress', 'A call with the same idempotencyKey is still running; repeat this one later to get its outcome.', (t) => ({
  retryAfterSeconds: t.exposeInt('retryAfterSeconds'),
}));

/* ---------- kept outcomes (no password, no API key; the auto-login URL is the user's own) ---------- */

type StoredRefusal =
  | { kind: 'validation'; fieldErrors: FieldError[]; message: string }
  | { kind: 'email-rejected' }
  | { kind: 'already-registered' };

type Stored =
  | { kind: 'joined'; user: DatingUser; productActivated: boolean }
  | { kind: 'refused'; siteId: string; reason: StoredRefusal; productDeactivated: boolean };

/** The text kept for a final outcome; null for a transient one (a rate limit), which is not kept. */
export function serializeOutcome(outcome: JoinedDating | DatingRefused): string | null {
  if (outcome instanceof JoinedDating) {
    return JSON.stringify({ kind: 'joined', user: outcome.created.user, productActivated: outcome.productActivated } satisfies Stored);
  }
  const { reason } = outcome;
  let stored: StoredRefusal;
  if (reason instanceof ValidationError) stored = { kind: 'validation', fieldErrors: reason.fieldErrors, message: reason.message };
  else if (reason instanceof EmailRejected) stored = { kind: 'email-rejected' };
  else if (reason instanceof AlreadyRegistered) stored = { kind: 'already-registered' };
  else return null;
  return JSON.stringify({ kind: 'refused', siteId: outcome.siteId, reason: stored, productDeactivated: outcome.productDeactivated } satisfies Stored);
}

/** A kept outcome, marked as replayed. */
export function deserializeOutcome(text: string): JoinedDating | DatingRefused {
  const stored = JSON.parse(text) as Stored;
  if (stored.kind === 'joined') return new JoinedDating(new DatingUserCreated(stored.user), stored.productActivated, true);
  const { reason, siteId } = stored;
  const refusal =
    reason.kind === 'validation'
      ? new ValidationError(reason.fieldErrors, reason.message)
      : reason.kind === 'email-rejected'
        ? new EmailRejected(siteId)
        : new AlreadyRegistered(siteId);
  return new DatingRefused(siteId, refusal, stored.productDeactivated, true);
}
