import { z } from 'zod';
import type { DatingUser, NewDatingUser } from '../../domain/dating.js';

/**
 * The Dating API v2 create-user call as it travels (shared/UPSTREAM.md §2),
 * parsed by zod and mapped to the gateway's words (src/domain/dating.ts). This file and client.ts
 * are the only places that know `birth_date`, `client_ip`, `tracking[…]`,
 * lower-case genders and the answer envelope.
 */

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

/** The input fields a 400's `errors` map names; `''` for one the input has not. The site's texts are dropped. */
export function inputFieldsOfWire(errors: Record<string, string>): string[] {
  return Object.keys(errors).map((wireName) => (Object.hasOwn(INPUT_FIELD_OF_WIRE, wireName) ? INPUT_FIELD_OF_WIRE[wireName]! : ''));
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
  .transform((d): Omit<DatingUser, 'siteId' | 'userEmail'> & { userEmail: string | null } => ({
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

/** Seconds to wait from a `Retry-After` (seconds or an HTTP date); 60 when absent or unreadable (chosen). */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 60;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Math.ceil((Date.parse(value) - now) / 1000);
  if (!Number.isFinite(seconds)) return 60;
  return Math.min(Math.max(seconds, 1), 3600);
}
