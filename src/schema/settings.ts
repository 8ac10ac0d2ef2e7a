import { z } from 'zod';
import { requireSession, type GatewayContext } from './context.js';
import { RateLimited } from '../domain/errors.js';
import { type Channel, InvalidCode, UserNotFound, ValidationError, VerificationRequired } from '../domain/outcomes.js';
import { CONSENT_NAMES, SEXES, type AccountUser, type Consents, type Settings } from '../domain/account.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { VerificationChannel } from './outcome-types.js';
import { changedUser, LanguageEnum, signedInUserId, UserType } from './user.js';
import { birthday, code, email, language, optional, personName, phone, text } from './validation.js';

export const SexEnum = builder.enumType('Sex', {
  description: 'Sex and gender identity as the user states it.',
  values: SEXES,
});

const consentDescriptions: Record<keyof Consents, string> = {
  socioDemographic: 'Use of socio-demographic and economic indicators, geography of requests and interactions with services.',
  webActivity: 'Use of visits to websites with activity tracking and small pieces of data sent from them (*.tazeros.com).',
  socialProfiles: 'Use of own profiles in social networks, messengers and apps whose data may be indexed.',
  personalityProfiling: 'Personality profiling, psycholinguistic analysis and interactions with other users.',
  biometrics: 'Any biometric information collected while using the services (face reconstruction, voice samples, typing patterns).',
};

const ConsentsType = builder.objectRef<Consents>('Consents').implement({
  description: 'Privacy consents: what the user allows their data to be used for.',
  fields: (t) => ({
    id: t.id({ description: 'The user\'s id: one Consents per user, for normalized caches.', resolve: (_c, _args, ctx) => signedInUserId(ctx) }),
    ...Object.fromEntries(CONSENT_NAMES.map((n) => [n, t.exposeBoolean(n, { description: consentDescriptions[n] })])),
  }),
});

export const SettingsType = builder.objectRef<Settings>('Settings').implement({
  description: 'Profile settings and consents of the signed-in user.',
  fields: (t) => ({
    id: t.id({ description: 'The user\'s id: one Settings per user, for normalized caches.', resolve: (_s, _args, ctx) => signedInUserId(ctx) }),
    firstName: t.exposeString('firstName', { nullable: true }),
    lastName: t.exposeString('lastName', { nullable: true }),
    avatar: t.exposeString('avatar', { nullable: true, description: 'CDN document id of the avatar.' }),
    sex: t.field({ type: SexEnum, resolve: (s) => s.sex }),
    news: t.exposeBoolean('news', { description: 'The user agreed to receive news.' }),
    consents: t.field({ type: ConsentsType, resolve: (s) => s.consents }),
    language: t.field({ type: LanguageEnum, nullable: true, resolve: (s) => s.language }),
    birthday: t.expose('birthday', { type: 'Date', nullable: true }),
    datingModel: t.exposeString('datingModel', { nullable: true }),
    email: t.exposeString('email', { nullable: true, description: 'The confirmed email; a change shows here once confirmed.' }),
    phone: t.exposeString('phone', { nullable: true, description: 'The confirmed phone; a change shows here once confirmed.' }),
  }),
});

builder.objectField(UserType, 'settings', (t) =>
  t.field({
    type: SettingsType,
    description: 'Fetched once per request, however often it is named.',
    resolve: (_user, _args, ctx) => ctx.loaders.settings.load(requireSession(ctx)),
  }),
);

const ConsentsInput = builder.inputType('ConsentsInput', {
  description: 'The consents to change; those left out stay as they are.',
  fields: (t) => Object.fromEntries(CONSENT_NAMES.map((n) => [n, t.boolean({ description: consentDescriptions[n] })])),
});

const UpdateSettingsInput = builder.inputType('UpdateSettingsInput', {
  description: 'The settings to change; fields left out stay as they are. A new email or phone stays pending until confirmed with confirmContactChange.',
  fields: (t) => ({
    firstName: t.string(),
    lastName: t.string(),
    avatar: t.string({ description: 'CDN document id.' }),
    sex: t.field({ type: SexEnum }),
    news: t.boolean(),
    consents: t.field({ type: ConsentsInput }),
    language: t.field({ type: LanguageEnum }),
    birthday: t.field({ type: 'Date' }),
    datingModel: t.string(),
    email: t.string(),
    phone: t.string(),
  }),
});

const settingsPatch = z
  .object({
    firstName: optional(personName),
    lastName: optional(personName),
    avatar: optional(text(200)),
    sex: optional(z.enum(SEXES)),
    news: optional(z.boolean()),
    consents: optional(z.object(Object.fromEntries(CONSENT_NAMES.map((n) => [n, optional(z.boolean())]))) as z.ZodType<Partial<Consents>>),
    language: optional(language),
    birthday: optional(birthday),
    datingModel: optional(text(100)),
    email: optional(email),
    phone: optional(phone),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'Change at least one setting.' });

class SettingsUpdated {
  constructor(readonly settings: Settings, readonly pendingConfirmation: Channel[]) {}
}
const SettingsUpdatedType = builder.objectType(SettingsUpdated, {
  name: 'UpdateSettingsSuccess',
  isTypeOf: (v) => v instanceof SettingsUpdated,
  fields: (t) => ({
    settings: t.field({ type: SettingsType, resolve: (s) => s.settings }),
    user: t.field({ type: UserType, description: 'The user after the change.', resolve: (_s, _args, ctx) => changedUser(ctx) }),
    pendingConfirmation: t.field({
      type: [VerificationChannel],
      description: 'New contacts that wait for the code sent to them (confirmContactChange).',
      resolve: (s) => s.pendingConfirmation,
    }),
  }),
});

const UpdateSettingsPayload = builder.errorUnion('UpdateSettingsPayload', {
  types: [SettingsUpdatedType, ValidationError, UserNotFound],
});

builder.mutationField('updateSettings', (t) =>
  t.field({
    type: UpdateSettingsPayload,
    description: 'Changes settings (user/settings/set). Needs a session.',
    args: { input: t.arg({ type: UpdateSettingsInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      return runMutation(ctx, input, {
        input: settingsPatch,
        call: async (patch) => {
          await countContactChangeCode(ctx, session, patch);
          return ctx.account.setSettings(session, patch, ctx.deadline);
        },
        success: async (settings, patch) => {
          ctx.loaders.settings.clear(session).prime(session, settings);
          ctx.loaders.user.clear(session);
          const pending: Channel[] = [];
          if (patch.email !== undefined && settings.email !== patch.email) pending.push('EMAIL');
          if (patch.phone !== undefined && settings.phone !== patch.phone) pending.push('PHONE');
          return new SettingsUpdated(settings, pending);
        },
      });
    },
  }),
);

/**
 * A new email or phone gets a code: one per CODE_SEND_INTERVAL_SECONDS and
 * CODE_SENDS_PER_DAY, counted for the user and for the new address (so
 * neither many addresses from one account nor many accounts at one address
 * get past it). The same email or phone again sends nothing and counts nothing.
 */
async function countContactChangeCode(ctx: GatewayContext, session: string, patch: { email?: string; phone?: string }) {
  if (patch.email === undefined && patch.phone === undefined) return;
  const current = await ctx.loaders.settings.load(session);
  const changed = [patch.email !== current.email && patch.email, patch.phone !== current.phone && patch.phone].filter((d) => typeof d === 'string');
  if (changed.length === 0) return;
  const wait = await ctx.accountLimits.codeSend('contact_change', [`user:${await ctx.sessions.userId(session, ctx.deadline)}`, ...changed], ctx.clientIp);
  if (wait > 0) throw new RateLimited(wait, 'A code was sent for a contact change recently. Try again later.');
}

class ContactChangeConfirmed {
  constructor(readonly user: AccountUser) {}
}
const ContactChangeConfirmedType = builder.objectType(ContactChangeConfirmed, {
  name: 'ConfirmContactChangeSuccess',
  isTypeOf: (v) => v instanceof ContactChangeConfirmed,
  fields: (t) => ({ user: t.field({ type: UserType, resolve: (c) => c.user }) }),
});

const ConfirmContactChangeInput = builder.inputType('ConfirmContactChangeInput', {
  fields: (t) => ({ code: t.string({ required: true, description: 'The 6-digit code sent to the new email or phone.' }) }),
});

const ConfirmContactChangePayload = builder.errorUnion('ConfirmContactChangePayload', {
  types: [ContactChangeConfirmedType, InvalidCode, VerificationRequired, ValidationError],
});

builder.mutationField('confirmContactChange', (t) =>
  t.field({
    type: ConfirmContactChangePayload,
    description: 'Confirms an email or phone changed through updateSettings (user/auth/verify with `code`). Needs a session.',
    args: { input: t.arg({ type: ConfirmContactChangeInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      let attempts = '';
      return runMutation(ctx, input, {
        countsAttempt: true,
        input: z.object({ code }),
        call: async (parsed) => {
          // Per user, from any address (CODE_ATTEMPTS_PER_TARGET); a right code starts it again.
          attempts = `user:${await ctx.sessions.userId(session, ctx.deadline)}`;
          await ctx.accountLimits.codeAttempt(attempts);
          return ctx.account.confirmContactChange(session, parsed.code, ctx.deadline);
        },
        success: async (user) => {
          await ctx.accountLimits.codeAccepted(attempts);
          ctx.loaders.user.clear(session).prime(session, user);
          ctx.loaders.settings.clear(session);
          return new ContactChangeConfirmed(user);
        },
      });
    },
  }),
);
