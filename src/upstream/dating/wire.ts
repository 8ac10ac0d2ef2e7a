import { z } from 'zod';
import { type FieldError, ValidationError } from '../../domain/outcomes.js';

/**
 * The Dating API v2 create-user call as it travels (shared/UPSTREAM.md §2),
 * parsed by zod and mapped to the gateway's words. This file and client.ts
 * are the only places that know `birth_date`, `client_ip`, `tracking[…]`,
 * lower-case genders and the answer envelope.
 */

export const DATING_GENDERS = ['MALE', 'FEMALE', 'COUPLE'] as const;
export type DatingGender = (typeof DATING_GENDERS)[number];

/** A user to create, in the gateway's words. */
export interface NewDatingUser {
  email: string;
  gender: DatingGender;
  /** 3 to 64 characters; sent, never stored or logged. */
  password: string;
  /** `YYYY-MM-DD`, at least 18 years ago. */
  birthDate: string;
  /** The end user's IP (from the request, never from the client's input). */
  clientIp: string;
  userAgent?: string | null;
  /** 1 to 16 alphanumeric; the site generates one when absent. */
  nickname?: string;
  tracking?: { key: string; value: string }[];
  subId?: string;
}

export function newUserToWire(user: NewDatingUser, affiseAffiliateId: string | undefined): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    email: user.email,
    gender: user.gender.toLowerCase(),
    password: user.password,
    birth_date: user.birthDate,
    client_ip: user.clientIp,
    client_user_agent: user.userAgent ?? undefined,
    nickname: user.nickname,
    // fromEntries makes own data properties, so even `__proto__` stays a key.
    tracking: user.tracking?.length ? Object.fromEntries(user.tracking.map((t) => [t.key, t.value])) : undefined,
    sub_id: user.subId,
    affise_affiliate_id: affiseAffiliateId,
  };
  return Object.fromEntries(Object.entries(wire).filter(([, v]) => v !== undefined));
}

/**
 * Where each field the site may name in a 400 lives in the GraphQL input
 * (`createDatingUser` and `joinDating` use the same names). Fields the
 * gateway fills itself (`client_ip`, `client_user_agent`, `affise_affiliate_id`)
 * and unknown ones are reported on the input as a whole (path `[]`).
 */
export const INPUT_FIELD_OF_WIRE: Readonly<Record<string, string>> = {
  email: 'email',
  gender: 'gender',
  password: 'password',
  birth_date: 'birthDate',
  nickname: 'nickname',
  tracking: 'tracking',
  sub_id: 'subId',
};

/**
 * The gateway's own message for a field the site refused. The site's text is
 * never passed on: it may quote what was sent (the password) or the
 * gateway's key, and it is not written for end users.
 */
const MESSAGE_OF_INPUT_FIELD: Readonly<Record<string, string>> = {
  email: 'The dating site refused this email address.',
  nickname: 'This nickname is taken or not allowed.',
  password: 'The dating site refused this password; choose another one.',
};
export const SITE_REFUSED_FIELD = 'The dating site refused this value.';
export const SITE_REFUSED_REQUEST = 'The dating site refused the request. Check the input or contact support.';

const INPUT_FIELDS: ReadonlySet<string> = new Set(Object.values(INPUT_FIELD_OF_WIRE));

/**
 * The site's refusal of input fields (a 400), in the gateway's words: one
 * error per refused input field, and one on path `[]` for fields the input
 * does not have (or when the site named none). Anything that is not an input
 * field name is dropped, so whatever `fields` holds, no site text comes out.
 */
export function siteRefusal(fields: readonly string[]): ValidationError {
  const known = [...new Set(fields)].filter((f) => INPUT_FIELDS.has(f));
  const errors: FieldError[] = known.map((field) => ({ path: [field], message: MESSAGE_OF_INPUT_FIELD[field] ?? SITE_REFUSED_FIELD }));
  if (known.length === 0 || fields.some((f) => !INPUT_FIELDS.has(f))) errors.push({ path: [], message: SITE_REFUSED_REQUEST });
  return new ValidationError(errors, 'The dating site refused some of the input; see fieldErrors.');
}

/** The input fields a 400's `errors` map names; `''` for one the input has not. The site's texts are dropped. */
export function inputFieldsOfWire(errors: Record<string, string>): string[] {
  return Object.keys(errors).map((wireName) => (Object.hasOwn(INPUT_FIELD_OF_WIRE, wireName) ? INPUT_FIELD_OF_WIRE[wireName]! : ''));
}

/** The input fields a refusal made by `siteRefusal` names (`''` for path `[]`): all a kept refusal needs. */
export function refusedFieldsOf(refusal: ValidationError): string[] {
  return refusal.fieldErrors.map((e) => e.path[0] ?? '');
}

/** The answer envelope; the HTTP status must equal `status_code`. */
export const envelopeWire = z.object({
  success: z.boolean(),
  data: z.record(z.string(), z.unknown()),
  status_code: z.number().int(),
});

export const badRequestWire = z.object({ errors: z.record(z.string(), z.string()) });

/** `data.error` of a failure, when there is one. */
export const errorTextWire = z.object({ error: z.string() });

const text = z.string().nullish().transform((v) => v ?? null);

/**
 * 201. The user exists by now, so only what a client needs next is
 * required (`auto_login`); the rest is read leniently.
 */
export const createdWire = z
  .object({
    user_email: z.string().nullish(),
    email_validation: z
      .object({
        email: text,
        status: text,
        corrected: text,
        emailReceptionEnabled: z.boolean().nullish(),
      })
      .nullish(),
    auto_login: z.string().min(1),
    member_area_link: text,
    payment_links: z.record(z.string(), z.object({ trial: text, month: text, year: text })).nullish(),
  })
  .transform((d) => ({
    userEmail: d.user_email ?? null,
    emailValidation: d.email_validation
      ? {
          email: d.email_validation.email,
          status: d.email_validation.status,
          corrected: d.email_validation.corrected,
          receptionEnabled: d.email_validation.emailReceptionEnabled ?? null,
        }
      : null,
    autoLoginUrl: d.auto_login,
    memberAreaUrl: d.member_area_link,
    paymentLinks: Object.entries(d.payment_links ?? {}).map(([product, links]) => ({ product, ...links })),
  }));

export type EmailValidation = NonNullable<z.output<typeof createdWire>['emailValidation']>;
export type PaymentLinks = z.output<typeof createdWire>['paymentLinks'][number];

/** A user the site created. */
export interface DatingUser {
  siteId: string;
  userEmail: string;
  emailValidation: EmailValidation | null;
  autoLoginUrl: string;
  memberAreaUrl: string | null;
  paymentLinks: PaymentLinks[];
}

/** Seconds to wait from a `Retry-After` (seconds or an HTTP date); 60 when absent or unreadable (chosen). */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 60;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Math.ceil((Date.parse(value) - now) / 1000);
  if (!Number.isFinite(seconds)) return 60;
  return Math.min(Math.max(seconds, 1), 3600);
}
