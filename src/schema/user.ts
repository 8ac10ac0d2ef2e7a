import { requireSession } from './context.js';
import { LANGUAGES, type AccountUser, type Session } from '../domain/account.js';
import { builder } from './builder.js';
import { ProductType } from './products.js';
import { SettingsType } from './settings.js';

export const LanguageEnum = builder.enumType('Language', {
  description: 'A language of the account and its messages (ISO 639-1; `IW` is Hebrew as the API names it).',
  values: Object.fromEntries(LANGUAGES.map((l) => [l.toUpperCase(), { value: l }])) as Record<Uppercase<(typeof LANGUAGES)[number]>, { value: (typeof LANGUAGES)[number] }>,
});

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
    settings: t.field({
      type: SettingsType,
      description: 'Fetched once per request, however often it is named.',
      resolve: (_user, _args, ctx) => ctx.loaders.settings.load(requireSession(ctx)),
    }),
    products: t.field({
      type: [ProductType],
      description: 'The product catalogue with this user\'s state of each. Fetched once per request.',
      resolve: (_user, _args, ctx) => ctx.loaders.products.load(requireSession(ctx)),
    }),
  }),
});

export const SessionType = builder.objectRef<Session>('Session').implement({
  description: 'A signed-in session. Send the token as `Authorization: Bearer <token>`.',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: UserType,
    nullable: true,
    description: 'The signed-in user; null without a session. An expired or unknown session is UNAUTHENTICATED.',
    resolve: (_root, _args, ctx) => (ctx.session === null ? null : ctx.loaders.user.load(requireSession(ctx))),
  }),
);
