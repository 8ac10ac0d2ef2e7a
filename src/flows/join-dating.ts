import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import type { DatingGender, NewDatingUser } from '../domain/dating.js';
import { DatingUserCreated } from '../domain/dating.js';
import { RateLimited } from '../domain/errors.js';
import { DomainOutcome, type ProductNotFound, ValidationError } from '../domain/outcomes.js';
import type { Deadline } from '../infra/deadline.js';
import type { Claim } from '../infra/idempotency.js';
import type { Logger } from '../infra/logger.js';
import { joinDatingLifetimes, type Services } from '../services.js';
import { type CreateDatingUserResult, mayHaveCreatedUser } from '../upstream/dating/client.js';
import { DatingRefused, deserializeOutcome, JoinDatingInProgress, JoinDatingOutcomeUnknown, JoinedDating, serializeOutcome } from './join-dating-outcomes.js';

/**
 * joinDating, the one workflow across both APIs: under the caller's
 * idempotency key and a per-user lock, activate the `dating` product (unless
 * active), create the user on the dating site, and undo the activation when
 * the site created nobody. docs/api.md "joinDating" tells the choices.
 */

/** The Account API product joinDating activates (shared/UPSTREAM.md §1, onboarding flow). */
export const DATING_PRODUCT = 'dating';

/** The validated input, as the client gave it (email, gender and birthDate may be left to the account). */
export interface JoinDatingInput {
  site: string;
  idempotencyKey: string;
  password: string;
  email?: string;
  gender?: DatingGender;
  birthDate?: string;
  nickname?: string;
  tracking?: { key: string; value: string }[];
  subId?: string;
}

export interface JoinDatingRequest {
  session: string;
  /** The caller's user id. */
  userId: string;
  input: JoinDatingInput;
  /** Email, gender and birth date: from the input, else from the account. */
  profile: { email: string; gender: DatingGender; birthDate: string };
  /** The end user's IP and user agent (never from the input). */
  clientIp: string;
  userAgent: string | null;
  /** The operation's deadline: every call but the undo of an activation is bounded by it. */
  deadline: Deadline;
}

export type JoinDatingDeps = Pick<Services, 'logger' | 'account' | 'sessions' | 'dating' | 'idempotency'> & {
  config: Pick<Config, 'UPSTREAM_TIMEOUT_MS'>;
  /** The account's user and products changed (the request's cached copies are stale). */
  accountChanged(): void;
};

export type JoinDatingResult = JoinedDating | DatingRefused | JoinDatingInProgress | JoinDatingOutcomeUnknown | ValidationError | ProductNotFound;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What makes two calls "the same request": the input without the password. */
const fingerprintOf = (input: JoinDatingInput) =>
  sha256(JSON.stringify([input.site, input.email, input.gender, input.birthDate, input.nickname, input.tracking, input.subId]));

const reusedKey = () => new ValidationError([{ path: ['idempotencyKey'], message: 'This idempotency key was used for a different request; use a new key.' }]);

type ClaimedKey = Extract<Claim, { kind: 'claimed' }>;

/**
 * Runs one joinDating: replays the kept outcome of a repeated key, answers
 * JoinDatingInProgress while another call holds the key or the user's lock,
 * and otherwise joins. Throws only request errors.
 */
export async function joinDating(deps: JoinDatingDeps, request: JoinDatingRequest): Promise<JoinDatingResult> {
  const { userId, input } = request;
  const fingerprint = fingerprintOf(input);
  const claim = await claimKey(deps, `joinDating:${userId}:${sha256(input.idempotencyKey)}`, fingerprint);
  if (claim.kind === 'full') throw new RateLimited(claim.retryAfterSeconds, 'The gateway is holding too many joinDating calls. Try again later.');
  if (claim.kind !== 'claimed' && claim.fingerprint !== fingerprint) return reusedKey();
  if (claim.kind === 'done') return deserializeOutcome(claim.result);
  if (claim.kind === 'pending') return new JoinDatingInProgress(2);

  const log = deps.logger.child({ operation: 'joinDating', userId, site: input.site });
  const release = () => claim.release().catch(() => log.error('joinDating could not release its idempotency key'));
  // One joinDating per user at a time (in this process, and with Redis across
  // instances): whether this call activated `dating`, and so may undo it,
  // must not change under it because of another join of the same user.
  let unlock;
  try {
    unlock = await deps.idempotency.lock(`joinDating:${userId}`, joinDatingLifetimes(deps.config.UPSTREAM_TIMEOUT_MS));
  } catch (error) {
    await release();
    throw error;
  }
  if (unlock === null) {
    await release();
    return new JoinDatingInProgress(2, 'user');
  }
  try {
    return await joinLocked(deps, request, claim, log);
  } finally {
    await unlock().catch(() => log.error('joinDating could not free its per-user lock'));
  }
}

/** Claims the key, waiting while another call holds it. */
async function claimKey(deps: JoinDatingDeps, key: string, fingerprint: string): Promise<Claim> {
  const deadline = Date.now() + joinDatingLifetimes(deps.config.UPSTREAM_TIMEOUT_MS).waitMs;
  for (;;) {
    const claim = await deps.idempotency.claim(key, fingerprint);
    if (claim.kind !== 'pending' || claim.fingerprint !== fingerprint || Date.now() >= deadline) return claim;
    await sleep(100);
  }
}

/** The join proper, holding the key and the user's lock. */
async function joinLocked(deps: JoinDatingDeps, request: JoinDatingRequest, claim: ClaimedKey, log: Logger) {
  const { session, userId, input, deadline } = request;
  const release = () => claim.release().catch(() => log.error('joinDating could not release its idempotency key'));
  const keep = async (outcome: JoinedDating | DatingRefused | JoinDatingOutcomeUnknown) => {
    const kept = serializeOutcome(outcome);
    await (kept === null ? claim.release() : claim.complete(kept)).catch((error: unknown) => {
      log.error('joinDating could not keep its outcome for the idempotency key', { error: (error as Error)?.name });
    });
    return outcome;
  };

  let activated = false;
  try {
    // Read now, inside the lock: the request's cached user predates any join that ran meanwhile.
    const current = await deps.sessions.verify(session, deadline);
    if (!current.modules.includes(DATING_PRODUCT)) {
      const activation = await deps.account.activateProduct(session, DATING_PRODUCT, deadline);
      deps.accountChanged();
      if (activation instanceof DomainOutcome) {
        await release();
        return activation;
      }
      activated = true;
    }
  } catch (error) {
    await release();
    throw error;
  }

  const user: NewDatingUser = {
    ...request.profile,
    password: input.password,
    nickname: input.nickname,
    tracking: input.tracking,
    subId: input.subId,
    clientIp: request.clientIp,
    userAgent: request.userAgent,
  };
  let result: CreateDatingUserResult;
  try {
    result = await deps.dating.createUser(input.site, user, deadline);
  } catch (error) {
    if (!mayHaveCreatedUser(error)) {
      // The site answered an error status or never got the call: nobody was created, undo and free the key.
      if (activated) await deactivateDating(deps, request);
      await release();
      throw error;
    }
    // A timeout or an unreadable answer may hide a created user: keep that, so a retry does not post again; `dating` stays.
    log.error('joinDating cannot tell whether the dating site created the user', { alert: true, error: (error as Error)?.name, activated });
    return keep(new JoinDatingOutcomeUnknown(input.site, activated));
  }
  const outcome =
    result instanceof DomainOutcome
      ? new DatingRefused(input.site, result, activated && (await deactivateDating(deps, request)))
      : new JoinedDating(new DatingUserCreated(result), activated);
  log.info('joinDating finished', { outcome: outcome instanceof JoinedDating ? 'joined' : result.constructor.name, activated });
  return keep(outcome);
}

/** Undoes this call's activation; false when the Account API would not (logged, the payload tells). */
async function deactivateDating(deps: JoinDatingDeps, { session, userId }: JoinDatingRequest): Promise<boolean> {
  try {
    // No deadline: the undo runs even when the operation's time is up (its own UPSTREAM_TIMEOUT_MS bounds it).
    const result = await deps.account.deactivateProduct(session, DATING_PRODUCT);
    if (result instanceof DomainOutcome) throw result;
    return true;
  } catch (error) {
    deps.logger.error('joinDating could not deactivate dating after the site created nobody', { error: (error as Error)?.constructor?.name });
    return false;
  } finally {
    deps.accountChanged();
  }
}
