import { requireSession, type GatewayContext } from './context.js';
import { LANGUAGES, type AccountUser, type Session } from '../domain/account.js';
import { builder } from './builder.js';

export const LanguageEnum = builder.enumType('Language', {
  description: 'A language of the account and its messages (ISO 639-1; `IW` is Hebrew as the API names it).',
  values: Object.fromEntries(LANGUAGES.map((l) => [l.toUpperCase(), { value: l }])) as Record<Uppercase<(typeof LANGUAGES)[number]>, { value: (typeof LANGUAGES)[number] }>,
});

/** `User.settings` and `User.products` are added by settings.ts and products.ts. */
export const UserType = builder.objectRef<AccountUser>('User').implement({
  description: 'An account of the Account API.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    emailVerified: t.exposeBoolean('emailVerified'),
    phoneVerified: t.exposeBoolean('phoneVerified'),
    name: t.exposeString('name', { nullable: true }),
    surname: t.exposeString('surname', { nullable: true }),
    language: t.field({ type: LanguageEnum, nullable: true, resolve: (u) => u.language }),
    activeProductIds: t.exposeIDList('modules', { description: 'Ids of the products this user has activated.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const SessionType = builder.objectRef<Session>('Session').implement({
  description: 'A signed-in session. Send the token as `Authorization: Bearer <token>`.',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

/** The signed-in user's id: the `id` of the per-user objects a normalized cache keys (`Settings`, `Consents`). Remembered per session (SessionUsers). */
export function signedInUserId(ctx: GatewayContext): Promise<string> {
  return ctx.sessions.userId(requireSession(ctx));
}

/**
 * The `user` field of a mutation's success: the signed-in user after the
 * change, so a normalized cache (Apollo Client, urql graphcache) updates
 * `User:<id>` without a refetch. The mutation clears the loaders it made stale.
 */
export function changedUser(ctx: GatewayContext): Promise<AccountUser> {
  return ctx.loaders.user.load(requireSession(ctx));
}

builder.queryField('viewer', (t) =>
  t.field({
    type: UserType,
    nullable: true,
    description: 'The signed-in user; null without a session. An expired or unknown session is UNAUTHENTICATED.',
    resolve: (_root, _args, ctx) => (ctx.session === null ? null : ctx.loaders.user.load(requireSession(ctx))),
  }),
);
