import { z } from 'zod';
import { ValidationError } from '../domain/outcomes.js';
import type { Channel } from '../domain/outcomes.js';
import { completeRecovery, startRecovery } from '../flows/password-recovery.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { VerificationChannel } from './outcome-types.js';
import { AuthPayload, signedIn } from './sign-in.js';
import { code, email, newPassword, phone, token } from './validation.js';

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
    type: builder.errorUnion('StartPasswordRecoveryPayload', { types: [RecoveryStartedType, ValidationError] }),
    description:
      'Sends a password recovery code to the email or phone (user/auth/recovery). The answer is the same whether an account has this login or not (src/flows/password-recovery.ts): a code arrives only if one does.',
    args: { input: t.arg({ type: StartPasswordRecoveryInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, input, {
        countsAttempt: true,
        input: z.object({ login: recoveryLogin }),
        call: ({ login }) => startRecovery(ctx, login),
        success: (started) => new RecoveryStarted(started.recoveryToken, started.codeSentTo),
      }),
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
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, input, {
        countsAttempt: true,
        input: completeRecoveryInput,
        call: (p) => completeRecovery(ctx, p.recoveryToken, p.code, p.newPassword),
        success: async (result) => {
          // The Account API ended every other session of the user (shared/UPSTREAM.md §3): so do their subscriptions.
          await ctx.events.endSessions(result.user.id, { allBut: result.session.token });
          return signedIn(result);
        },
      }),
  }),
);
