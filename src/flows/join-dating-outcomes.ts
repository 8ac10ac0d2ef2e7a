import { z } from 'zod';
import { DatingUserCreated, refusedFieldsOf, siteRefusal, type DatingUser } from '../domain/dating.js';
import { AlreadyRegistered, DomainOutcome, EmailRejected, SiteRateLimited, ValidationError } from '../domain/outcomes.js';

/* What joinDating answers (src/flows/join-dating.ts), and how a final answer is kept for its idempotency key. */

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
export class DatingRefused extends DomainOutcome {
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

/** The first call with this idempotency key, or another joinDating call of this user, is still running. */
export class JoinDatingInProgress extends DomainOutcome {
  readonly message: string;
  constructor(
    readonly retryAfterSeconds: number,
    /** `key`: the first call with this idempotency key; `user`: another joinDating call of this user. */
    readonly runningCall: 'key' | 'user' = 'key',
  ) {
    super();
    this.message =
      runningCall === 'key'
        ? 'A joinDating call with this idempotency key is still running. Try again shortly.'
        : 'Another joinDating call of this account is still running. Try again shortly.';
  }
}

/**
 * The site did not answer in a way that tells whether it created the user
 * (a timeout, a cut connection, an unreadable success). Kept for the
 * idempotency key like a final outcome: a repeat does not post again, since
 * that could create a second user or answer AlreadyRegistered for the
 * user this call created. `dating` stays active.
 */
export class JoinDatingOutcomeUnknown extends DomainOutcome {
  readonly message =
    'The dating site did not confirm whether your dating account was created. Check on the site (sign in, or reset the password with your email) or contact support before trying again.';
  constructor(
    readonly siteId: string,
    /** This call activated `dating`; it stays active. */
    readonly productActivated: boolean,
    readonly replayed = false,
  ) {
    super();
  }
}

/* ---------- kept outcomes ---------- */

/*
 * Only what the gateway produced is kept: for a refusal its kind and the
 * input field names the site refused (the messages are the gateway's and
 * made again on replay), never the site's texts. A success keeps the
 * validated user of the site's 201 (its URLs are what a replay must give);
 * no password, no API key.
 */

const storedRefusal = z.discriminatedUnion('kind', [
  // `fieldErrors` is the shape of earlier versions (Redis outlives a deploy): only its paths are read.
  z.object({ kind: z.literal('validation'), fields: z.array(z.string()).optional(), fieldErrors: z.array(z.object({ path: z.array(z.string()) })).optional() }),
  z.object({ kind: z.literal('email-rejected') }),
  z.object({ kind: z.literal('already-registered') }),
]);
type StoredRefusal = z.input<typeof storedRefusal>;

type Stored =
  | { kind: 'joined'; user: DatingUser; productActivated: boolean }
  | { kind: 'refused'; siteId: string; reason: StoredRefusal; productDeactivated: boolean }
  | { kind: 'unknown'; siteId: string; productActivated: boolean };

/** The text kept for a final outcome; null for a transient one (a rate limit), which is not kept. */
export function serializeOutcome(outcome: JoinedDating | DatingRefused | JoinDatingOutcomeUnknown): string | null {
  if (outcome instanceof JoinedDating) {
    return JSON.stringify({ kind: 'joined', user: outcome.created.user, productActivated: outcome.productActivated } satisfies Stored);
  }
  if (outcome instanceof JoinDatingOutcomeUnknown) {
    return JSON.stringify({ kind: 'unknown', siteId: outcome.siteId, productActivated: outcome.productActivated } satisfies Stored);
  }
  const { reason } = outcome;
  let stored: StoredRefusal;
  if (reason instanceof ValidationError) stored = { kind: 'validation', fields: refusedFieldsOf(reason) };
  else if (reason instanceof EmailRejected) stored = { kind: 'email-rejected' };
  else if (reason instanceof AlreadyRegistered) stored = { kind: 'already-registered' };
  else return null;
  return JSON.stringify({ kind: 'refused', siteId: outcome.siteId, reason: stored, productDeactivated: outcome.productDeactivated } satisfies Stored);
}

/** A kept outcome, marked as replayed. */
export function deserializeOutcome(text: string): JoinedDating | DatingRefused | JoinDatingOutcomeUnknown {
  const stored = JSON.parse(text) as Stored;
  if (stored.kind === 'joined') return new JoinedDating(new DatingUserCreated(stored.user), stored.productActivated, true);
  if (stored.kind === 'unknown') return new JoinDatingOutcomeUnknown(stored.siteId, stored.productActivated, true);
  const { siteId } = stored;
  const reason = storedRefusal.parse(stored.reason);
  const refusal =
    reason.kind === 'validation'
      ? siteRefusal(reason.fields ?? reason.fieldErrors?.map((e) => e.path[0] ?? '') ?? [])
      : reason.kind === 'email-rejected'
        ? new EmailRejected(siteId)
        : new AlreadyRegistered(siteId);
  return new DatingRefused(siteId, refusal, stored.productDeactivated, true);
}
