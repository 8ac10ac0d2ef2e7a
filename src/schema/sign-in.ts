import { z } from 'zod';
import { requireSession, userOfEndingSession } from './context.js';
import type { AccountUser, Session } from '../domain/account.js';
import { DomainOutcome, InvalidCode, InvalidCredentials, UserDeactivated, UserNotFound, ValidationError, VerificationRequired } from '../domain/outcomes.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { SessionType, UserType } from './user.js';
import { anyPassword } from './validation.js';

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

export const AuthPayload = builder.errorUnion('AuthPayload', {
  types: [SignedInType, ValidationError, VerificationRequired, InvalidCredentials, InvalidCode, UserNotFound, UserDeactivated],
});

/** A successful sign-in as a payload member. */
export const signedIn = (result: { user: AccountUser; session: Session }) => new SignedIn(result.user, result.session);

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
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, input, {
        countsAttempt: true,
        input: loginInput,
        call: async ({ login, password }) => {
          // Per login, from any address (PASSWORD_ATTEMPTS_PER_LOGIN); a right password starts it again.
          await ctx.accountLimits.passwordAttempt(login);
          const result = await ctx.account.login(login, password, ctx.deadline);
          if (!(result instanceof DomainOutcome)) await ctx.accountLimits.passwordAccepted(login);
          return result;
        },
        success: signedIn,
      }),
  }),
);

/* ---------- logout ---------- */

class LoggedOut {
  readonly loggedOut = true;
}
builder.mutationField('logout', (t) =>
  t.field({
    type: builder.errorUnion('LogoutPayload', {
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
      await ctx.account.logout(session, ctx.deadline);
      if (userId !== null) await ctx.events.endSessions(userId, { session });
      return new LoggedOut();
    },
  }),
);
