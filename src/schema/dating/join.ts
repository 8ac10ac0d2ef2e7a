import { z } from 'zod';
import { DatingRefused, JoinDatingInProgress, JoinDatingOutcomeUnknown } from '../../flows/join-dating-outcomes.js';
import type { Sex } from '../../domain/account.js';
import type { DatingGender } from '../../domain/dating.js';
import { type FieldError, ValidationError, ProductNotFound } from '../../domain/outcomes.js';
import { joinDating, type JoinDatingResult } from '../../flows/join-dating.js';
import { builder } from '../builder.js';
import { requireSession, type GatewayContext } from '../context.js';
import { optional, validate } from '../validation.js';
import { datingUserFields, datingUserRules, profileRules } from './input.js';
import { JoinedDatingType } from './join-outcome-types.js';
import { datingBirthDate, datingEmail } from './rules.js';

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

/** Validates, fills email, gender and birth date in from the account, and runs the flow (src/flows/join-dating.ts). */
async function join(ctx: GatewayContext, rawInput: unknown): Promise<JoinDatingResult> {
  const session = requireSession(ctx);
  const input = validate(joinInput(ctx), rawInput);
  const [user, settings] = await Promise.all([ctx.loaders.user.load(session), ctx.loaders.settings.load(session)]);
  const profile = fromAccount(input, { email: user.email, sex: settings.sex, birthday: settings.birthday });
  if (profile instanceof ValidationError) return profile;
  const accountChanged = () => {
    ctx.loaders.user.clear(session);
    ctx.loaders.products.clear(session);
  };
  return joinDating({ ...ctx, accountChanged }, { session, userId: user.id, input, profile, clientIp: ctx.clientIp, userAgent: ctx.userAgent, deadline: ctx.deadline });
}

builder.mutationField('joinDating', (t) =>
  t.field({
    type: builder.errorUnion('JoinDatingPayload', {
      types: [JoinedDatingType, DatingRefused, ValidationError, ProductNotFound, JoinDatingInProgress, JoinDatingOutcomeUnknown],
    }),
    description:
      'Activates the dating product and creates the user on a dating site from the account (email, birthday, sex, the request\'s IP and user agent); input fields override. When the site refuses, the activation this call made is undone; when the site leaves it unknown whether the user was created, the answer is JoinDatingOutcomeUnknown, also for every repeat with the same idempotencyKey. One call per account runs at a time. Needs a session.',
    args: { input: t.arg({ type: JoinDatingInput, required: true }) },
    resolve: (_root, { input }, ctx) => join(ctx, input),
  }),
);
