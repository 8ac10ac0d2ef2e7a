import { z } from 'zod';
import { requireSession, type GatewayContext } from './context.js';
import { CodeCooldown, ValidationError, type Channel, AlreadyVerified, UserAlreadyExists } from '../domain/outcomes.js';
import type { CodePurpose as CodePurposeKey } from '../infra/account-limits.js';
import { RESEND_COOLDOWN_SECONDS, type ResendTarget } from '../upstream/account/client.js';
import { resendRecoveryCode } from '../flows/password-recovery.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { VerificationChannel } from './outcome-types.js';
import { AuthPayload, signedIn } from './sign-in.js';
import { LanguageEnum } from './user.js';
import { code, email, id, language, newPassword, optional, personName, phone, token } from './validation.js';

/* ---------- register ---------- */

class Registered {
  constructor(readonly userId: string, readonly codeSentTo: Channel[]) {}
}
const RegisteredType = builder.objectType(Registered, {
  name: 'RegisterSuccess',
  description: 'The account exists; verify it with the codes sent to `codeSentTo` (verifyRegistration).',
  isTypeOf: (v) => v instanceof Registered,
  fields: (t) => ({
    userId: t.exposeID('userId'),
    codeSentTo: t.field({ type: [VerificationChannel], resolve: (r) => r.codeSentTo }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  description: 'Give an email, a phone or both; each gets a verification code.',
  fields: (t) => ({
    email: t.string(),
    phone: t.string({ description: 'International format, e.g. +15551234567.' }),
    name: t.string(),
    surname: t.string(),
    password: t.string({ required: true, description: '8 to 128 characters.' }),
    language: t.field({ type: LanguageEnum }),
  }),
});
const registerInput = z
  .object({
    email: optional(email),
    phone: optional(phone),
    name: optional(personName),
    surname: optional(personName),
    password: newPassword,
    language: optional(language),
  })
  .refine((i) => i.email !== undefined || i.phone !== undefined, { message: 'Give an email, a phone or both.', path: ['email'] });

builder.mutationField('register', (t) =>
  t.field({
    type: builder.errorUnion('RegisterPayload', { types: [RegisteredType, ValidationError, UserAlreadyExists] }),
    description: 'Creates an account (user/auth/registration) and sends verification codes.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, input, {
        countsAttempt: true,
        input: registerInput,
        call: (parsed) => ctx.account.register(parsed, ctx.deadline),
        success: async (userId, parsed) => {
          const sentTo: Channel[] = [];
          if (parsed.email !== undefined) sentTo.push('EMAIL');
          if (parsed.phone !== undefined) sentTo.push('PHONE');
          // An email or phone gets one registration code per account the Account
          // API creates (a second register answers UserAlreadyExists); the codes
          // are counted so that resendCode waits out the interval after this one.
          await ctx.accountLimits.codeSent('registration', sentTo.map((channel) => `user:${userId}:${channel}`), ctx.clientIp);
          return new Registered(userId, sentTo);
        },
      }),
  }),
);

/* ---------- verifyRegistration ---------- */

const VerifyRegistrationInput = builder.inputType('VerifyRegistrationInput', {
  description: 'The codes sent at registration; one channel per call is fine.',
  fields: (t) => ({
    userId: t.id({ required: true }),
    emailCode: t.string(),
    phoneCode: t.string(),
  }),
});
const verifyInput = z
  .object({ userId: id, emailCode: optional(code), phoneCode: optional(code) })
  .refine((i) => i.emailCode !== undefined || i.phoneCode !== undefined, { message: 'Give the email code, the phone code or both.', path: ['emailCode'] });

builder.mutationField('verifyRegistration', (t) =>
  t.field({
    type: AuthPayload,
    description: 'Verifies a new account with its codes (user/auth/verify). Signs in once every channel is verified.',
    args: { input: t.arg({ type: VerifyRegistrationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, input, {
        countsAttempt: true,
        input: verifyInput,
        call: async (parsed) => {
          // Per user, from any address (CODE_ATTEMPTS_PER_TARGET); a right code starts it again.
          await ctx.accountLimits.codeAttempt(`user:${parsed.userId}`);
          return ctx.account.verifyRegistration(parsed, ctx.deadline);
        },
        success: async (result, parsed) => {
          const verified = [parsed.emailCode && 'EMAIL', parsed.phoneCode && 'PHONE'].filter(Boolean).map((c) => `user:${parsed.userId}:${c}`);
          await Promise.all([ctx.accountLimits.codeAccepted(`user:${parsed.userId}`), ctx.accountLimits.codeFlowDone('registration', verified)]);
          return signedIn(result);
        },
      }),
  }),
);

/* ---------- resendCode ---------- */

const CodePurpose = builder.enumType('CodePurpose', {
  values: {
    REGISTRATION: { description: 'Needs `userId` and `channel`.' },
    PASSWORD_RECOVERY: { description: 'Needs `recoveryToken`.' },
    ACCOUNT_DELETION: { description: 'Needs `deletionToken` from requestAccountDeletion.' },
    CONTACT_CHANGE: { description: 'A pending email or phone change; needs a session only.' },
  } as const,
});

class CodeSent {
  constructor(readonly retryAfterSeconds: number) {}
}
const CodeSentType = builder.objectType(CodeSent, {
  name: 'ResendCodeSuccess',
  description: 'A new code is on its way.',
  isTypeOf: (v) => v instanceof CodeSent,
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'Seconds before another code can be asked for.' }),
  }),
});

const ResendCodeInput = builder.inputType('ResendCodeInput', {
  fields: (t) => ({
    purpose: t.field({ type: CodePurpose, required: true }),
    userId: t.id(),
    channel: t.field({ type: VerificationChannel }),
    recoveryToken: t.string(),
    deletionToken: t.string(),
  }),
});
const resendInput = z.discriminatedUnion('purpose', [
  z.object({ purpose: z.literal('REGISTRATION'), userId: id, channel: z.enum(['EMAIL', 'PHONE']) }),
  z.object({ purpose: z.literal('PASSWORD_RECOVERY'), recoveryToken: token }),
  z.object({ purpose: z.literal('ACCOUNT_DELETION'), deletionToken: token }),
  z.object({ purpose: z.literal('CONTACT_CHANGE') }),
]);

builder.mutationField('resendCode', (t) =>
  t.field({
    type: builder.errorUnion('ResendCodePayload', {
      types: [CodeSentType, CodeCooldown, AlreadyVerified, ValidationError],
    }),
    description: 'Sends a verification code again (user/auth/code); at most one per channel and purpose every 90 seconds.',
    args: { input: t.arg({ type: ResendCodeInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, input, {
        countsAttempt: true,
        input: resendInput,
        call: async (parsed) => {
          if (parsed.purpose === 'PASSWORD_RECOVERY') {
            const resent = await resendRecoveryCode(ctx, parsed.recoveryToken);
            return resent ?? new ValidationError([{ path: ['recoveryToken'], message: 'Unknown or expired: start the password recovery again.' }]);
          }
          const { target, destination } = await resendTarget(ctx, parsed);
          const wait = await ctx.accountLimits.codeSend(destination.purpose, [destination.key], ctx.clientIp);
          if (wait > 0) return new CodeCooldown(wait);
          return ctx.account.resendCode(target, ctx.deadline);
        },
        success: () => new CodeSent(resendInterval(ctx)),
      }),
  }),
);

/** The wait before the next code: the gateway's interval or the Account API's own 90 s, whichever is longer. */
const resendInterval = (ctx: GatewayContext) => Math.max(ctx.config.CODE_SEND_INTERVAL_SECONDS, RESEND_COOLDOWN_SECONDS);

/** What the Account API is asked to resend, and whose send rhythm it counts against. */
async function resendTarget(
  ctx: GatewayContext,
  input: Exclude<z.output<typeof resendInput>, { purpose: 'PASSWORD_RECOVERY' }>,
): Promise<{ target: ResendTarget; destination: { purpose: CodePurposeKey; key: string } }> {
  switch (input.purpose) {
    case 'REGISTRATION':
      return {
        target: { registration: { userId: input.userId, channel: input.channel } },
        destination: { purpose: 'registration', key: `user:${input.userId}:${input.channel}` },
      };
    case 'ACCOUNT_DELETION':
      // The user's rhythm when signed in (requestAccountDeletion counts there too), else the token's.
      return {
        target: { deletionToken: input.deletionToken },
        destination: { purpose: 'deletion', key: ctx.session ? `user:${await ctx.sessions.userId(ctx.session, ctx.deadline)}` : `token:${input.deletionToken}` },
      };
    case 'CONTACT_CHANGE': {
      const session = requireSession(ctx);
      return { target: { contactChange: { session } }, destination: { purpose: 'contact_change', key: `user:${await ctx.sessions.userId(session, ctx.deadline)}` } };
    }
  }
}
