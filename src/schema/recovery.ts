import { z } from 'zod';
import { countAuthAttempt } from '../context.js';
import { endSessionSubscriptions } from '../events/publish.js';
import { Outcome, ValidationError, type Channel } from '../outcomes.js';
import { builder } from './builder.js';
import { ValidationErrorType, VerificationChannel } from './errors.js';
import { AuthPayload, signedIn } from './sign-in.js';
import { code, email, newPassword, phone, token, validate } from './validation.js';

/** An email or a phone: the recovery code goes to it. */
const recoveryLogin = z.union([email, phone], { error: 'Enter your email or phone (international format, e.g. +15551234567).' });

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
    type: builder.unionType('StartPasswordRecoveryPayload', { types: [RecoveryStartedType, ValidationErrorType] }),
    description:
      'Sends a password recovery code to the email or phone (user/auth/recovery). The answer is the same whether an account has this login or not (src/flows/password-recovery.ts): a code arrives only if one does.',
    args: { input: t.arg({ type: StartPasswordRecoveryInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await countAuthAttempt(ctx);
      const parsed = validate(z.object({ login: recoveryLogin }), input);
      if (parsed instanceof ValidationError) return parsed;
      const started = await ctx.recoveries.start(parsed.login);
      return new RecoveryStarted(started.recoveryToken, started.codeSentTo);
    },
  }),
);

/* ---------- completePasswordRecovery ---------- */

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
      const result = await ctx.recoveries.complete(parsed.recoveryToken, parsed.code, parsed.newPassword);
      // The Account API ended every other session of the user (shared/UPSTREAM.md §3): so do their subscriptions.
      if (!(result instanceof Outcome)) await endSessionSubscriptions(ctx, result.user.id, { allBut: result.session.token });
      return signedIn(result);
    },
  }),
);
