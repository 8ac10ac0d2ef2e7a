import { z } from 'zod';
import { countAuthAttempt, requireSession } from '../context.js';
import { endSessionSubscriptions, userOfEndingSession } from '../events/publish.js';
import { Outcome, ValidationError } from '../outcomes.js';
import type { AccountUser, Session } from '../upstream/account/wire.js';
import { builder } from './builder.js';
import {
  InvalidCodeType,
  InvalidCredentialsType,
  UserDeactivatedType,
  UserNotFoundType,
  ValidationErrorType,
  VerificationRequiredType,
} from './errors.js';
import { SessionType, UserType } from './user.js';
import { anyPassword, validate } from './validation.js';

/* ---------- AuthSuccess and AuthPayload: the answer of verifyRegistration, login, completePasswordRecovery ---------- */

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

export const AuthPayload = builder.unionType('AuthPayload', {
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
export const signedIn = <O extends Outcome>(result: { user: AccountUser; session: Session } | O): O | SignedIn =>
  result instanceof Outcome ? result : new SignedIn(result.user, result.session);

/* ---------- login ---------- */

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    login: t.string({ required: true, description: 'Email or phone.' }),
    password: t.string({ required: true }),
  }),
});
export const loginInput = z.object({ login: z.string().trim().min(1, 'Enter your email or phone.').max(254), password: anyPassword });

builder.mutationField('login', (t) =>
  t.field({
    type: AuthPayload,
    description: 'Signs in with email or phone and password (user/auth/login).',
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(loginInput, input);
      if (parsed instanceof ValidationError) return parsed;
      await ctx.accountLimits.passwordAttempt(parsed.login);
      const result = await ctx.account.login(parsed.login, parsed.password);
      if (!(result instanceof Outcome)) await ctx.accountLimits.passwordAccepted(parsed.login);
      return signedIn(result);
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
