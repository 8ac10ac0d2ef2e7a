import { z } from 'zod';
import { countAuthAttempt, requireSession } from '../context.js';
import { endSessionSubscriptions, userOfEndingSession } from '../events/publish.js';
import { Outcome, ValidationError, type Channel } from '../outcomes.js';
import { RESEND_COOLDOWN_SECONDS, type ResendTarget } from '../upstream/account/client.js';
import type { AccountUser, Session } from '../upstream/account/wire.js';
import { builder } from './builder.js';
import {
  AlreadyVerifiedType,
  CodeCooldownType,
  InvalidCodeType,
  InvalidCredentialsType,
  UserAlreadyExistsType,
  UserDeactivatedType,
  UserNotFoundType,
  ValidationErrorType,
  VerificationChannel,
  VerificationRequiredType,
} from './errors.js';
import { LanguageEnum, SessionType, UserType } from './user.js';
import { anyPassword, code, email, id, language, newPassword, optional, personName, phone, token, validate } from './validation.js';

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
    type: builder.unionType('RegisterPayload', { types: [RegisteredType, ValidationErrorType, UserAlreadyExistsType] }),
    description: 'Creates an account (user/auth/registration) and sends verification codes.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(registerInput, input);
      if (parsed instanceof ValidationError) return parsed;
      const userId = await ctx.account.register(parsed);
      if (userId instanceof Outcome) return userId;
      const sentTo: Channel[] = [];
      if (parsed.email !== undefined) sentTo.push('EMAIL');
      if (parsed.phone !== undefined) sentTo.push('PHONE');
      return new Registered(userId, sentTo);
    },
  }),
);

/* ---------- sign-in: verifyRegistration, login, completePasswordRecovery ---------- */

class SignedIn {
  constructor(readonly user: AccountUser, readonly session: Session) {}
}
const SignedInType = builder.objectType(SignedIn, {
  name: 'AuthSuccess',
  description: 'Signed in. Send `session.token` as `Authorization: Bearer <token>` from now on.',
  isTypeOf: (v) => v instanceof SignedIn,
  fields: (t) => ({
    user: t.field({ type: UserType, resolve: (s) => s.user }),
    session: t.field({ type: SessionType, resolve: (s) => s.session }),
  }),
});

const AuthPayload = builder.unionType('AuthPayload', {
  types: [
    SignedInType,
    ValidationErrorType,
    VerificationRequiredType,
    InvalidCredentialsType,
    InvalidCodeType,
    UserNotFoundType,
    UserDeactivatedType,
  ],
});

/** A sign-in answer as a payload member. */
const signedIn = <O extends Outcome>(result: { user: AccountUser; session: Session } | O): O | SignedIn =>
  result instanceof Outcome ? result : new SignedIn(result.user, result.session);

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
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(verifyInput, input);
      if (parsed instanceof ValidationError) return parsed;
      return signedIn(await ctx.account.verifyRegistration(parsed));
    },
  }),
);

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    login: t.string({ required: true, description: 'Email or phone.' }),
    password: t.string({ required: true }),
  }),
});
const loginInput = z.object({ login: z.string().trim().min(1, 'Enter your email or phone.').max(254), password: anyPassword });

builder.mutationField('login', (t) =>
  t.field({
    type: AuthPayload,
    description: 'Signs in with email or phone and password (user/auth/login).',
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(loginInput, input);
      if (parsed instanceof ValidationError) return parsed;
      return signedIn(await ctx.account.login(parsed.login, parsed.password));
    },
  }),
);

const CompletePasswordRecoveryInput = builder.inputType('CompletePasswordRecoveryInput', {
  fields: (t) => ({
    recoveryToken: t.string({ required: true, description: 'From startPasswordRecovery.' }),
    code: t.string({ required: true }),
    newPassword: t.string({ required: true, description: '8 to 128 characters.' }),
  }),
});
const completeRecoveryInput = z.object({ recoveryToken: token, code, newPassword });

builder.mutationField('completePasswordRecovery', (t) =>
  t.field({
    type: AuthPayload,
    description: 'Sets a new password with the recovery code (user/auth/recovery_done) and signs in. Ends every other session.',
    args: { input: t.arg({ type: CompletePasswordRecoveryInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(completeRecoveryInput, input);
      if (parsed instanceof ValidationError) return parsed;
      const result = await ctx.account.completeRecovery(parsed.recoveryToken, parsed.code, parsed.newPassword);
      // The Account API ended every other session of the user (shared/UPSTREAM.md §3): so do their subscriptions.
      if (!(result instanceof Outcome)) await endSessionSubscriptions(ctx, result.user.id, { allBut: result.session.token });
      return signedIn(result);
    },
  }),
);

/* ---------- startPasswordRecovery ---------- */

class RecoveryStarted {
  constructor(readonly recoveryToken: string, readonly codeSentTo: Channel) {}
}
const RecoveryStartedType = builder.objectType(RecoveryStarted, {
  name: 'StartPasswordRecoverySuccess',
  description: 'A code went to `codeSentTo`; pass it with `recoveryToken` to completePasswordRecovery.',
  isTypeOf: (v) => v instanceof RecoveryStarted,
  fields: (t) => ({
    recoveryToken: t.exposeString('recoveryToken'),
    codeSentTo: t.field({ type: VerificationChannel, resolve: (r) => r.codeSentTo }),
  }),
});

const StartPasswordRecoveryInput = builder.inputType('StartPasswordRecoveryInput', {
  fields: (t) => ({ login: t.string({ required: true, description: 'Email or phone.' }) }),
});

builder.mutationField('startPasswordRecovery', (t) =>
  t.field({
    type: builder.unionType('StartPasswordRecoveryPayload', { types: [RecoveryStartedType, UserNotFoundType, ValidationErrorType] }),
    description: 'Sends a password recovery code (user/auth/recovery).',
    args: { input: t.arg({ type: StartPasswordRecoveryInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(z.object({ login: loginInput.shape.login }), input);
      if (parsed instanceof ValidationError) return parsed;
      const result = await ctx.account.startRecovery(parsed.login);
      return result instanceof Outcome ? result : new RecoveryStarted(result.token, result.channel);
    },
  }),
);

/* ---------- logout ---------- */

class LoggedOut {
  readonly loggedOut = true;
}
builder.mutationField('logout', (t) =>
  t.field({
    type: builder.unionType('LogoutPayload', {
      types: [
        builder.objectType(LoggedOut, {
          name: 'LogoutSuccess',
          description: 'The session has ended.',
          isTypeOf: (v) => v instanceof LoggedOut,
          fields: (f) => ({ loggedOut: f.exposeBoolean('loggedOut') }),
        }),
      ],
    }),
    description: 'Ends the current session (user/auth/logout); its `accountEvents` subscriptions get SessionExpired. Needs a session.',
    resolve: async (_root, _args, ctx) => {
      const session = requireSession(ctx);
      const userId = await userOfEndingSession(ctx, session);
      await ctx.account.logout(session);
      if (userId !== null) await endSessionSubscriptions(ctx, userId, { session });
      return new LoggedOut();
    },
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
    type: builder.unionType('ResendCodePayload', {
      types: [CodeSentType, CodeCooldownType, AlreadyVerifiedType, ValidationErrorType],
    }),
    description: 'Sends a verification code again (user/auth/code); at most one per channel and purpose every 90 seconds.',
    args: { input: t.arg({ type: ResendCodeInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(resendInput, input);
      if (parsed instanceof ValidationError) return parsed;
      const target: ResendTarget =
        parsed.purpose === 'REGISTRATION'
          ? { registration: { userId: parsed.userId, channel: parsed.channel } }
          : parsed.purpose === 'PASSWORD_RECOVERY'
            ? { recoveryToken: parsed.recoveryToken }
            : parsed.purpose === 'ACCOUNT_DELETION'
              ? { deletionToken: parsed.deletionToken }
              : { contactChange: { session: requireSession(ctx) } };
      const result = await ctx.account.resendCode(target);
      return result instanceof Outcome ? result : new CodeSent(RESEND_COOLDOWN_SECONDS);
    },
  }),
);
