import { z } from 'zod';
import { requireSession, userOfEndingSession } from './context.js';
import { RateLimited } from '../domain/errors.js';
import { DomainOutcome, type Channel, InvalidCode, UserNotFound, ValidationError } from '../domain/outcomes.js';
import { BLOCK_REASONS } from '../domain/account.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { VerificationChannel } from './outcome-types.js';
import { code, id } from './validation.js';

/* What a user controls about their data and their contacts: the data archive,
 * blocking other users, and deleting the account. */

/* ---------- requestDataArchive ---------- */

class ArchiveRequested {
  readonly requested = true;
}
const ArchiveRequestedType = builder.objectType(ArchiveRequested, {
  name: 'RequestDataArchiveSuccess',
  description: 'The archive of the user\'s data is being prepared, protected by the given password.',
  isTypeOf: (v) => v instanceof ArchiveRequested,
  fields: (t) => ({ requested: t.exposeBoolean('requested') }),
});

const RequestDataArchiveInput = builder.inputType('RequestDataArchiveInput', {
  fields: (t) => ({ password: t.string({ required: true, description: 'Protects the archive; 6 to 128 characters.' }) }),
});

builder.mutationField('requestDataArchive', (t) =>
  t.field({
    type: builder.errorUnion('RequestDataArchivePayload', { types: [ArchiveRequestedType, ValidationError] }),
    description: 'Asks for an archive of all the user\'s data (user/archive). Needs a session.',
    args: { input: t.arg({ type: RequestDataArchiveInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      return runMutation(ctx, input, {
        input: z.object({ password: z.string().min(6, 'At least 6 characters.').max(128, 'At most 128 characters.') }),
        call: ({ password }) => ctx.account.requestArchive(session, password, ctx.deadline),
        success: () => new ArchiveRequested(),
      });
    },
  }),
);

/* ---------- blockUser ---------- */

const BlockReasonEnum = builder.enumType('BlockReason', {
  values: {
    NOT_INTERESTED: { description: 'Does not want to talk anymore.' },
    SPAM: {},
    SEXUAL_HARASSMENT: {},
    POSSIBLE_VIOLENCE: {},
    BREACH_OF_CONFIDENTIALITY: {},
  } satisfies Record<(typeof BLOCK_REASONS)[number], object>,
});

class UserBlocked {
  constructor(readonly userId: string) {}
}
const UserBlockedType = builder.objectType(UserBlocked, {
  name: 'BlockUserSuccess',
  isTypeOf: (v) => v instanceof UserBlocked,
  fields: (t) => ({ userId: t.exposeID('userId', { description: 'The user that is now blocked.' }) }),
});

const BlockUserInput = builder.inputType('BlockUserInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    reason: t.field({ type: BlockReasonEnum, defaultValue: 'NOT_INTERESTED' }),
  }),
});

builder.mutationField('blockUser', (t) =>
  t.field({
    type: builder.errorUnion('BlockUserPayload', { types: [UserBlockedType, UserNotFound, ValidationError] }),
    description: 'Blocks another user (user/block). Needs a session.',
    args: { input: t.arg({ type: BlockUserInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      return runMutation(ctx, input, {
        input: z.object({ userId: id, reason: z.enum(BLOCK_REASONS).nullish().transform((r) => r ?? 'NOT_INTERESTED') }),
        call: ({ userId, reason }) => ctx.account.blockUser(session, userId, reason, ctx.deadline),
        success: (_blocked, { userId }) => new UserBlocked(userId),
      });
    },
  }),
);

/* ---------- requestAccountDeletion, confirmAccountDeletion ---------- */

class DeletionRequested {
  constructor(readonly deletionToken: string, readonly codeSentTo: Channel) {}
}
const DeletionRequestedType = builder.objectType(DeletionRequested, {
  name: 'RequestAccountDeletionSuccess',
  description: 'A confirmation code went to `codeSentTo`; confirm with confirmAccountDeletion.',
  isTypeOf: (v) => v instanceof DeletionRequested,
  fields: (t) => ({
    deletionToken: t.exposeString('deletionToken', { description: 'For resendCode with purpose ACCOUNT_DELETION.' }),
    codeSentTo: t.field({ type: VerificationChannel, resolve: (d) => d.codeSentTo }),
  }),
});

builder.mutationField('requestAccountDeletion', (t) =>
  t.field({
    type: builder.errorUnion('RequestAccountDeletionPayload', { types: [DeletionRequestedType, UserNotFound] }),
    description: 'Starts deleting the account (user/auth/delete): sends a confirmation code. Needs a session.',
    resolve: async (_root, _args, ctx) => {
      const session = requireSession(ctx);
      const wait = await ctx.accountLimits.codeSend('deletion', [`user:${await ctx.sessions.userId(session, ctx.deadline)}`], ctx.clientIp);
      if (wait > 0) throw new RateLimited(wait, 'A deletion code was sent recently. Try again later.');
      const result = await ctx.account.requestDeletion(session, ctx.deadline);
      if (result instanceof DomainOutcome) return result;
      // A resendCode with this token alone waits out the same interval.
      await ctx.accountLimits.codeSent('deletion', [`token:${result.token}`], ctx.clientIp);
      return new DeletionRequested(result.token, result.channel);
    },
  }),
);

class AccountDeleted {
  readonly deleted = true;
}
const AccountDeletedType = builder.objectType(AccountDeleted, {
  name: 'ConfirmAccountDeletionSuccess',
  description: 'The account is deleted and its sessions have ended.',
  isTypeOf: (v) => v instanceof AccountDeleted,
  fields: (t) => ({ deleted: t.exposeBoolean('deleted') }),
});

const ConfirmAccountDeletionInput = builder.inputType('ConfirmAccountDeletionInput', {
  fields: (t) => ({ code: t.string({ required: true }) }),
});

builder.mutationField('confirmAccountDeletion', (t) =>
  t.field({
    type: builder.errorUnion('ConfirmAccountDeletionPayload', { types: [AccountDeletedType, InvalidCode, ValidationError] }),
    description: 'Deletes the account with the code sent by requestAccountDeletion (user/auth/delete_done). Needs a session.',
    args: { input: t.arg({ type: ConfirmAccountDeletionInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      let userId: string | null = null;
      let attempts = '';
      return runMutation(ctx, input, {
        countsAttempt: true,
        input: z.object({ code }),
        call: async (parsed) => {
          userId = await userOfEndingSession(ctx, session);
          // Per user, from any address (CODE_ATTEMPTS_PER_TARGET); without the user (logged), per session.
          attempts = userId === null ? `session:${session}` : `user:${userId}`;
          await ctx.accountLimits.codeAttempt(attempts);
          return ctx.account.confirmDeletion(session, parsed.code, ctx.deadline);
        },
        success: async () => {
          await ctx.accountLimits.codeAccepted(attempts);
          // Every session of the deleted user has ended: so do their subscriptions.
          if (userId !== null) await ctx.events.endSessions(userId, { allBut: null });
          return new AccountDeleted();
        },
      });
    },
  }),
);
