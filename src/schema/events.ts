import { requireSession } from './context.js';
import type { AccountEventOf } from '../domain/account-events.js';
import { builder } from './builder.js';
import { VerificationChannel } from './outcome-types.js';
import { SettingsType } from './settings.js';

const eventFields = {
  id: 'Unique across users, ordered per user; opaque. Pass the last one received as `accountEvents(after:)` to resume, on any gateway instance.',
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

const EventsMissedType = builder.objectRef<AccountEventOf<'EventsMissed'>>('EventsMissed').implement({
  description:
    'Events after the given `after` can no longer be replayed: it is older than what the gateway keeps for replay (a configured time window and number of events per user), or no id of this user\'s events. Refetch what you show (settings, products), then go on: the events that follow are live. Its `id` is a valid `after` from here on.',
  fields: (t) => ({
    id: t.exposeID('id', { description: eventFields.id }),
    at: t.expose('at', { type: 'DateTime', description: 'When the gap was found.' }),
  }),
});

const AccountEventUnion = builder.unionType('AccountEvent', {
  description: 'Something that happened to the signed-in user\'s account.',
  types: [SettingsUpdatedType, ProductsUpdatedType, ContactVerifiedType, NotificationType, SessionExpiredType, EventsMissedType],
  resolveType: (event) => event.type,
});

builder.subscriptionField('accountEvents', (t) =>
  t.field({
    type: AccountEventUnion,
    description:
      'The signed-in user\'s account events, each once and in order, from the moment of subscribing; with `after`, first every event since that one. Over graphql-ws (session in `connectionParams.authorization`) or SSE (`Authorization` header; an SSE reconnect\'s `Last-Event-ID` counts as `after`). Needs a session.',
    args: {
      after: t.arg.id({
        description:
          'The id of the last event received (on any instance, before a reconnect or a restart): every later event is delivered first, once and in order, then live ones. When it can no longer be replayed, the first event is EventsMissed.',
      }),
    },
    subscribe: async (_root, args, ctx) => {
      const session = requireSession(ctx);
      // Checked with the Account API (or a check of the last SUBSCRIPTIONS_SESSION_FRESH_MS): the session may have ended since.
      const userId = await ctx.events.verifiedUserId(session);
      const after = args.after ?? ctx.lastEventId;
      return ctx.events.subscribe(session, userId, after === null || after === undefined ? null : String(after));
    },
    resolve: (event) => event,
  }),
);
