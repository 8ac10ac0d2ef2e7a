import { z } from 'zod';
import { AlreadyRegistered, EmailRejected, SiteRateLimited, ValidationError } from '../../domain/outcomes.js';
import { addressBlock } from '../../infra/client-address.js';
import { requireSession, type GatewayContext } from '../context.js';
import { RateLimited, Unauthenticated } from '../../domain/errors.js';
import { builder } from '../builder.js';
import { runMutation } from '../mutation.js';
import { DatingUserCreated, DatingUserCreatedType } from './outcome-types.js';
import { datingUserFields, datingUserRules, profileRules } from './input.js';

const CreateDatingUserInput = builder.inputType('CreateDatingUserInput', {
  description: 'A new user of one dating site. The end user\'s IP and user agent are taken from the request.',
  fields: (t) => datingUserFields(t),
});

const createUserInput = (ctx: GatewayContext) => z.object({ ...datingUserRules(ctx), ...profileRules });

/**
 * Who may create dating users: a signed-in user (the session is checked),
 * or, with DATING_ANONYMOUS_SIGNUPS, anyone, at most
 * DATING_ANONYMOUS_PER_MINUTE times per client IP (IPv6: per /64) and minute. The sites'
 * affiliate keys must not become an open sign-up relay.
 */
async function admit(ctx: GatewayContext): Promise<void> {
  if (ctx.session !== null) {
    await ctx.loaders.user.load(requireSession(ctx));
    return;
  }
  if (!ctx.config.DATING_ANONYMOUS_SIGNUPS) throw new Unauthenticated('Sign in first: creating dating users needs a session.');
  const wait = await ctx.anonymousDatingLimit.take(addressBlock(ctx.clientIp));
  if (wait > 0) throw new RateLimited(wait, 'Too many dating sign-ups from this address. Try again later.');
}

builder.mutationField('createDatingUser', (t) =>
  t.field({
    type: builder.errorUnion('CreateDatingUserPayload', {
      types: [DatingUserCreatedType, ValidationError, EmailRejected, AlreadyRegistered, SiteRateLimited],
    }),
    description:
      'Creates a user on one dating site (Dating API v2). Needs a session unless anonymous sign-ups are switched on (then rate-limited per client IP). Never retried by the gateway: a retry is a new attempt.',
    args: { input: t.arg({ type: CreateDatingUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await admit(ctx);
      return runMutation(ctx, input, {
        input: createUserInput(ctx),
        call: ({ site, ...user }) => ctx.dating.createUser(site, { ...user, clientIp: ctx.clientIp, userAgent: ctx.userAgent }, ctx.deadline),
        success: (created) => new DatingUserCreated(created),
      });
    },
  }),
);
