import { requireSession } from './context.js';
import type { AccountEventOf } from '../domain/account-events.js';
import { builder } from './builder.js';
import { VerificationChannel } from './outcome-types.js';
import { SettingsType } from './settings.js';

const eventFields = {
  id: 'Unique per event of a user; opaque.',
  at: 'When the change happened.',
};

const SettingsUpdatedType = builder.objectRef<AccountEventOf<'SettingsUpdated'>>('SettingsUpdated').implement({
  description: 'The settings changed (through this API, another app or the Account API itself).',
  fields: (t) => ({
    id: t.exposeID('id', { description: eventFields.id }),
    at: t.expose('at', { type: 'DateTime', description: eventFields.at }),
    settings: t.field({ type: SettingsType, description: 'The settings after the change.', resolve: (e) => e.settings }),
  }),
});

const ProductsUpdatedType = builder.objectRef<AccountEventOf<'ProductsUpdated'>>('ProductsUpdated').implement({
  description: 'A product was activated or deactivated.',
  fields: (t) => ({
    id: t.exposeID('id', { description: eventFields.id }),
    at: t.expose('at', { type: 'DateTime', description: eventFields.at }),
    activeProductIds: t.exposeIDList('activeProductIds', { description: 'The products active after the change.' }),
  }),
});

const ContactVerifiedType = builder.objectRef<AccountEventOf<'ContactVerified'>>('ContactVerified').implement({
  description: 'An email or phone was verified (at registration, recovery or a contact change).',
  fields: (t) => ({
    id: t.exposeID('id', { description: eventFields.id }),
    at: t.expose('at', { type: 'DateTime', description: eventFields.at }),
    channel: t.field({ type: VerificationChannel, resolve: (e) => e.channel }),
  }),
});

const NotificationType = builder.objectRef<AccountEventOf<'Notification'>>('Notification').implement({
  description: 'A message for the user from the Account API.',
  fields: (t) => ({
    id: t.exposeID('id', { description: eventFields.id }),
    at: t.expose('at', { type: 'DateTime', description: eventFields.at }),
    notificationId: t.exposeID('notificationId'),
    kind: t.exposeString('kind'),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
  }),
});

const SessionExpiredType = builder.objectRef<AccountEventOf<'SessionExpired'>>('SessionExpired').implement({
  description: 'The session of this subscription ended (expiry, logout, password recovery, deletion). It is the last event: the subscription completes, and a graphql-ws socket is then closed with 4403. Sign in again.',
  fields: (t) => ({
    id: t.exposeID('id', { description: eventFields.id }),
    at: t.expose('at', { type: 'DateTime', description: eventFields.at }),
  }),
});

const AccountEventUnion = builder.unionType('AccountEvent', {
  description: 'Something that happened to the signed-in user\'s account.',
  types: [SettingsUpdatedType, ProductsUpdatedType, ContactVerifiedType, NotificationType, SessionExpiredType],
  resolveType: (event) => event.type,
});

builder.subscriptionField('accountEvents', (t) =>
  t.field({
    type: AccountEventUnion,
    description:
      'The signed-in user\'s account events, each once, from the moment of subscribing. Over graphql-ws (session in `connectionParams.authorization`) or SSE (`Authorization` header). Needs a session.',
    subscribe: async (_root, _args, ctx) => {
      const session = requireSession(ctx);
      // Checked with the Account API for every new subscription, whatever is remembered: the session may have ended since.
      const { id: userId } = await ctx.loaders.user.load(session);
      return ctx.events.subscribe(session, userId);
    },
    resolve: (event) => event,
  }),
);
