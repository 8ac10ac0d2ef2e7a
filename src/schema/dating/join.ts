import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { requireSession, type GatewayContext } from '../../context.js';
import { publishAccountEvent } from '../../events/publish.js';
import { RateLimited, Unauthenticated } from '../../errors.js';
import type { Claim } from '../../idempotency.js';
import type { Logger } from '../../logger.js';
import { type FieldError, Outcome, ValidationError } from '../../outcomes.js';
import type { Sex } from '../../upstream/account/wire.js';
import { type CreateDatingUserResult, mayHaveCreatedUser } from '../../upstream/dating/client.js';
import type { DatingGender } from '../../upstream/dating/wire.js';
import { builder } from '../builder.js';
import { ProductNotFoundType, ValidationErrorType } from '../errors.js';
import { optional, validate } from '../validation.js';
import { datingUserFields, datingUserRules, profileRules } from './input.js';
import {
  DatingRefused,
  DatingRefusedType,
  deserializeOutcome,
  JoinDatingInProgress,
  JoinDatingInProgressType,
  JoinDatingOutcomeUnknown,
  JoinDatingOutcomeUnknownType,
  JoinedDating,
  JoinedDatingType,
  serializeOutcome,
} from './join-outcomes.js';
import { DatingUserCreated } from './outcomes.js';
import { datingBirthDate, datingEmail } from './rules.js';

/** The Account API product joinDating activates (shared/UPSTREAM.md §1, onboarding flow). */
const DATING_PRODUCT = 'dating';

/** The account's `sex` as a dating gender; the others have none, and the input must give one. */
const GENDER_OF_SEX: Partial<Record<Sex, DatingGender>> = {
  CISGENDER_WOMAN: 'FEMALE',
  TRANSGENDER_WOMAN: 'FEMALE',
  CISGENDER_MAN: 'MALE',
  TRANSGENDER_MAN: 'MALE',
};

const JoinDatingInput = builder.inputType('JoinDatingInput', {
  description: 'Joins a dating site with what the account knows; each optional field overrides the account\'s value.',
  fields: (t) => ({
    ...datingUserFields(t, {
      email: 'Default: the account\'s email.',
      gender: 'Default: from the account\'s sex (women: FEMALE, men: MALE); required for other values.',
      birthDate: 'Default: the account\'s birthday. At least 18 years ago.',
    }),
    idempotencyKey: t.string({
      required: true,
      description: 'Chosen by the client, e.g. a UUID, and reused for retries of this join: a repeat returns the first outcome and never creates a second dating user.',
    }),
  }),
});

const joinInput = (ctx: GatewayContext) =>
  z.object({
    ...datingUserRules(ctx),
    idempotencyKey: z.string().trim().regex(/^[\x21-\x7e]{1,200}$/, '1 to 200 printable ASCII characters, e.g. a UUID.'),
    gender: optional(profileRules.gender),
    birthDate: optional(profileRules.birthDate),
    email: optional(profileRules.email),
  });
type JoinInput = z.output<ReturnType<typeof joinInput>>;

/**
 * Email, gender and birth date: from the input, else from the account. A
 * value the account lacks, or has in a form the sites refuse, is a field
 * error that names the input field to give instead.
 */
function fromAccount(input: JoinInput, account: { email: string | null; sex: Sex; birthday: string | null }) {
  const problems: FieldError[] = [];
  const fallback = <T>(field: string, given: T | undefined, stored: string | null, rule: z.ZodType<T>, absent: string, refused: string) => {
    if (given !== undefined) return given;
    if (stored === null) {
      problems.push({ path: [field], message: absent });
      return undefined;
    }
    const parsed = rule.safeParse(stored);
    if (!parsed.success) problems.push({ path: [field], message: refused });
    return parsed.data;
  };
  const email = fallback('email', input.email, account.email, datingEmail, 'The account has no email address; give email.', 'The dating sites refuse the account\'s email address; give email.');
  const birthDate = fallback('birthDate', input.birthDate, account.birthday, datingBirthDate, 'The account has no birthday; give birthDate or set it in the settings.', 'The account\'s birthday is less than 18 years ago.');
  const gender = input.gender ?? GENDER_OF_SEX[account.sex];
  if (gender === undefined) {
    problems.push({ path: ['gender'], message: `The account's sex (${account.sex}) has no dating gender; give gender (MALE, FEMALE or COUPLE).` });
  }
  if (problems.length > 0) return new ValidationError(problems);
  return { email: email!, gender: gender!, birthDate: birthDate! };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What makes two calls "the same request": the input without the password. */
const fingerprintOf = (input: JoinInput) =>
  sha256(JSON.stringify([input.site, input.email, input.gender, input.birthDate, input.nickname, input.tracking, input.subId]));

const reusedKey = () => new ValidationError([{ path: ['idempotencyKey'], message: 'This idempotency key was used for a different request; use a new key.' }]);

/** How long a call waits for its key, or for another join of the same user: twice the upstream timeout, 15 s at most. */
const waitMs = (ctx: GatewayContext) => Math.min(2 * ctx.config.UPSTREAM_TIMEOUT_MS, 15_000);

/**
 * Longest hold of the per-user lock: four upstream calls (fresh user,
 * activate, create, deactivate), each bounded by the timeout, plus slack.
 * The in-flight marker of the key outlives a wait plus a hold
 * (src/dating-services.ts).
 */
const holdMs = (ctx: GatewayContext) => 4 * ctx.config.UPSTREAM_TIMEOUT_MS + 10_000;

/** Claims the key, waiting while another call holds it. */
async function claimKey(ctx: GatewayContext, key: string, fingerprint: string): Promise<Claim> {
  const deadline = Date.now() + waitMs(ctx);
  for (;;) {
    const claim = await ctx.idempotency.claim(key, fingerprint);
    if (claim.kind !== 'pending' || claim.fingerprint !== fingerprint || Date.now() >= deadline) return claim;
    await sleep(100);
  }
}

/** Undoes this call's activation; false when the Account API would not (logged, the payload tells). */
async function deactivateDating(ctx: GatewayContext, session: string): Promise<boolean> {
  try {
    // No deadline: the undo runs even when the operation's time is up (its own UPSTREAM_TIMEOUT_MS bounds it).
    const result = await ctx.account.deactivateProduct(session, DATING_PRODUCT);
    if (result instanceof Outcome) throw result;
    await publishAccountEvent(ctx, session, { type: 'ProductsUpdated', activeProductIds: result.modules });
    return true;
  } catch (error) {
    ctx.logger.error('joinDating could not deactivate dating after the site created nobody', { error: (error as Error)?.constructor?.name });
    return false;
  } finally {
    ctx.loaders.user.clear(session);
    ctx.loaders.products.clear(session);
  }
}

type ClaimedKey = Extract<Claim, { kind: 'claimed' }>;

async function join(ctx: GatewayContext, rawInput: unknown) {
  const session = requireSession(ctx);
  const input = validate(joinInput(ctx), rawInput);
  if (input instanceof ValidationError) return input;
  const [user, settings] = await Promise.all([ctx.loaders.user.load(session), ctx.loaders.settings.load(session)]);
  const derived = fromAccount(input, { email: user.email, sex: settings.sex, birthday: settings.birthday });
  if (derived instanceof ValidationError) return derived;

  const fingerprint = fingerprintOf(input);
  const claim = await claimKey(ctx, `joinDating:${user.id}:${sha256(input.idempotencyKey)}`, fingerprint);
  if (claim.kind === 'full') throw new RateLimited(claim.retryAfterSeconds, 'The gateway is holding too many joinDating calls. Try again later.');
  if (claim.kind !== 'claimed' && claim.fingerprint !== fingerprint) return reusedKey();
  if (claim.kind === 'done') return deserializeOutcome(claim.result);
  if (claim.kind === 'pending') return new JoinDatingInProgress(2);

  const log = ctx.logger.child({ operation: 'joinDating', userId: user.id, site: input.site });
  const release = () => claim.release().catch(() => log.error('joinDating could not release its idempotency key'));
  // One joinDating per user at a time (in this process, and with Redis across
  // instances): whether this call activated `dating`, and so may undo it,
  // must not change under it because of another join of the same user.
  let unlock;
  try {
    unlock = await ctx.idempotency.lock(`joinDating:${user.id}`, { waitMs: waitMs(ctx), holdMs: holdMs(ctx) });
  } catch (error) {
    await release();
    throw error;
  }
  if (unlock === null) {
    await release();
    return new JoinDatingInProgress(2, 'user');
  }
  try {
    return await joinLocked(ctx, session, input, derived, claim, log);
  } finally {
    await unlock().catch(() => log.error('joinDating could not free its per-user lock'));
  }
}

/** The join proper, holding the key and the user's lock. */
async function joinLocked(
  ctx: GatewayContext,
  session: string,
  input: JoinInput,
  derived: { email: string; gender: DatingGender; birthDate: string },
  claim: ClaimedKey,
  log: Logger,
) {
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
    const current = await ctx.account.getUser(session, ctx.deadline);
    if (current instanceof Outcome) throw new Unauthenticated(current.message, { reason: current.constructor.name });
    if (!current.modules.includes(DATING_PRODUCT)) {
      const activation = await ctx.account.activateProduct(session, DATING_PRODUCT, ctx.deadline);
      ctx.loaders.user.clear(session);
      ctx.loaders.products.clear(session);
      if (activation instanceof Outcome) {
        await release();
        return activation;
      }
      activated = true;
      await publishAccountEvent(ctx, session, { type: 'ProductsUpdated', activeProductIds: activation.modules });
    }
  } catch (error) {
    await release();
    throw error;
  }

  let result: CreateDatingUserResult;
  try {
    result = await ctx.dating.createUser(input.site, {
      ...derived,
      password: input.password,
      nickname: input.nickname,
      tracking: input.tracking,
      subId: input.subId,
      clientIp: ctx.clientIp,
      userAgent: ctx.userAgent,
    }, ctx.deadline);
  } catch (error) {
    if (!mayHaveCreatedUser(error)) {
      // The site answered an error status or never got the call: nobody was created, undo and free the key.
      if (activated) await deactivateDating(ctx, session);
      await release();
      throw error;
    }
    // A timeout or an unreadable answer may hide a created user: keep that, so a retry does not post again; `dating` stays.
    log.error('joinDating cannot tell whether the dating site created the user', { alert: true, error: (error as Error)?.name, activated });
    return keep(new JoinDatingOutcomeUnknown(input.site, activated));
  }
  const outcome =
    result instanceof Outcome
      ? new DatingRefused(input.site, result, activated && (await deactivateDating(ctx, session)))
      : new JoinedDating(new DatingUserCreated(result), activated);
  log.info('joinDating finished', { outcome: outcome instanceof JoinedDating ? 'joined' : result.constructor.name, activated });
  return keep(outcome);
}

builder.mutationField('joinDating', (t) =>
  t.field({
    type: builder.unionType('JoinDatingPayload', {
      types: [JoinedDatingType, DatingRefusedType, ValidationErrorType, ProductNotFoundType, JoinDatingInProgressType, JoinDatingOutcomeUnknownType],
    }),
    description:
      'Activates the dating product and creates the user on a dating site from the account (email, birthday, sex, the request\'s IP and user agent); input fields override. When the site refuses, the activation this call made is undone; when the site leaves it unknown whether the user was created, the answer is JoinDatingOutcomeUnknown, also for every repeat with the same idempotencyKey. One call per account runs at a time. Needs a session.',
    args: { input: t.arg({ type: JoinDatingInput, required: true }) },
    resolve: (_root, { input }, ctx) => join(ctx, input),
  }),
);
