import { AlreadyRegistered, EmailRejected, SiteRateLimited } from '../../domain/outcomes.js';
import { DatingUserCreated, type EmailValidation, type PaymentLinks } from '../../domain/dating.js';
import { builder } from '../builder.js';
import { errorType } from '../outcome-types.js';
import { DatingSiteType, siteOf } from './site.js';

/* What a dating site answers to a new user, as GraphQL types. */

export { DatingUserCreated };


const EmailValidationType = builder.objectRef<EmailValidation>('EmailValidation').implement({
  description: 'What the site\'s email check found.',
  fields: (t) => ({
    email: t.exposeString('email', { nullable: true }),
    status: t.exposeString('status', { nullable: true, description: 'e.g. `valid`.' }),
    corrected: t.exposeString('corrected', { nullable: true, description: 'A corrected address, when the check suggests one.' }),
    receptionEnabled: t.exposeBoolean('receptionEnabled', { nullable: true, description: 'The address can receive mail.' }),
  }),
});

const PaymentLinksType = builder.objectRef<PaymentLinks>('PaymentLinks').implement({
  description: 'Where the new user pays for one product of the site.',
  fields: (t) => ({
    product: t.exposeString('product'),
    trial: t.exposeString('trial', { nullable: true }),
    month: t.exposeString('month', { nullable: true }),
    year: t.exposeString('year', { nullable: true }),
  }),
});

export const DatingUserCreatedType = builder.objectType(DatingUserCreated, {
  name: 'DatingUserCreated',
  description: 'The user exists on the dating site. Send them to `autoLoginUrl` (or `memberAreaUrl`) to sign them in.',
  isTypeOf: (v) => v instanceof DatingUserCreated,
  fields: (t) => ({
    site: t.field({ type: DatingSiteType, resolve: (c, _args, ctx) => siteOf(c.user.siteId, ctx) }),
    userEmail: t.string({ resolve: (c) => c.user.userEmail }),
    emailValidation: t.field({ type: EmailValidationType, nullable: true, resolve: (c) => c.user.emailValidation }),
    autoLoginUrl: t.string({ description: 'Signs the new user in on the site. Personal: treat it like a password.', resolve: (c) => c.user.autoLoginUrl }),
    memberAreaUrl: t.string({ nullable: true, description: 'The member area, signed in; when the site returns it.', resolve: (c) => c.user.memberAreaUrl }),
    paymentLinks: t.field({ type: [PaymentLinksType], description: 'Empty unless the site returns payment links.', resolve: (c) => c.user.paymentLinks }),
  }),
});

export const EmailRejectedType = errorType(EmailRejected, 'EmailRejected', 'The dating site\'s email check found the address invalid or unreachable. Use another email.', (t) => ({
  site: t.field({ type: DatingSiteType, resolve: (e, _args, ctx) => siteOf(e.siteId, ctx) }),
}));

export const AlreadyRegisteredType = errorType(AlreadyRegistered, 'AlreadyRegistered', 'A user with this email exists on the dating site already.', (t) => ({
  site: t.field({ type: DatingSiteType, resolve: (e, _args, ctx) => siteOf(e.siteId, ctx) }),
}));

export const SiteRateLimitedType = errorType(SiteRateLimited, 'SiteRateLimited', 'The dating site\'s per-minute limit is reached; nothing was created. Try again later.', (t) => ({
  site: t.field({ type: DatingSiteType, resolve: (e, _args, ctx) => siteOf(e.siteId, ctx) }),
  retryAfterSeconds: t.exposeInt('retryAfterSeconds'),
}));
