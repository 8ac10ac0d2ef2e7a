import { isIP } from 'node:net';
import { checkBirthDate } from './birth-date.js';
import type { RawFields } from './body.js';

/**
 * Field rules of the create-user call (shared/UPSTREAM.md §2). Every bad field
 * is reported at once, each with one message. Where the seed is silent
 * (chosen): values are taken as sent (no trimming); a JSON number is read as
 * its decimal text; `null` or an empty string counts as absent; unknown fields
 * are ignored.
 */

export const GENDERS = ['male', 'female', 'couple'] as const;
export type Gender = (typeof GENDERS)[number];

/** Length caps the seed does not give (chosen). */
export const LIMITS = {
  emailLength: 254,
  userAgentLength: 512,
  subIdLength: 128,
  trackingEntries: 50,
  trackingKeyLength: 64,
  trackingValueLength: 256,
  affiseIdLength: 64,
} as const;

export const REQUIRED = 'Required Field';

/** A request that passed validation; `nickname` is still absent when it is to be generated. */
export interface NewUserInput {
  email: string;
  gender: Gender;
  password: string;
  birth_date: string;
  client_ip: string;
  nickname?: string;
  client_user_agent?: string;
  tracking: Record<string, string>;
  sub_id?: string;
  affise_affiliate_id?: string;
}

export type ValidationResult = { ok: true; input: NewUserInput } | { ok: false; errors: Record<string, string> };

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const NICKNAME = /^[A-Za-z0-9]{1,16}$/;
const TRACKING_KEY = /^[A-Za-z0-9_-]+$/;

const length = (text: string) => [...text].length;

function checkEmail(text: string): string | null {
  const local = text.split('@')[0] ?? '';
  const ok = text.length <= LIMITS.emailLength && local.length <= 64 && EMAIL.test(text);
  return ok ? null : "The 'email' must be a valid email address";
}

function checkGender(text: string): string | null {
  return (GENDERS as readonly string[]).includes(text) ? null : `The 'gender' must be one of: ${GENDERS.join(', ')}`;
}

function checkPassword(text: string): string | null {
  const n = length(text);
  return n >= 3 && n <= 64 ? null : "The 'password' must have between 3 and 64 characters";
}

function checkClientIp(text: string): string | null {
  return isIP(text) === 0 ? "The 'client_ip' must be a valid IPv4 or IPv6 address" : null;
}

const maxLength = (name: string, max: number) => (text: string) =>
  length(text) <= max ? null : `The '${name}' must have at most ${max} characters`;

/** A scalar as text; undefined for absent; null for a value of the wrong type. */
function text(value: unknown): string | undefined | null {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** Validates tracking: a map of identifier → text. Returns the map or a message. */
function readTracking(value: unknown): Record<string, string> | string {
  if (value === undefined || value === null || value === '') return {};
  const shape = `The 'tracking' must map identifiers (1-${LIMITS.trackingKeyLength} of A-Z a-z 0-9 _ -) to texts of at most ${LIMITS.trackingValueLength} characters`;
  if (typeof value !== 'object' || Array.isArray(value)) return shape;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > LIMITS.trackingEntries) {
    return `The 'tracking' must have at most ${LIMITS.trackingEntries} identifiers`;
  }
  const tracking: [string, string][] = [];
  for (const [key, raw] of entries) {
    const v = raw === '' ? '' : text(raw);
    const keyOk = key.length <= LIMITS.trackingKeyLength && TRACKING_KEY.test(key);
    if (!keyOk || typeof v !== 'string' || length(v) > LIMITS.trackingValueLength) return shape;
    tracking.push([key, v]);
  }
  // fromEntries defines own properties, so even a `__proto__` identifier stays data.
  return Object.fromEntries(tracking);
}

/**
 * Checks every field. `isNicknameTaken` makes a nickname already used on the
 * site a validation error (chosen: the seed lists uniqueness among the field
 * rules, and 409 is documented for emails only).
 */
export function validateNewUser(
  fields: RawFields,
  isNicknameTaken: (nickname: string) => boolean,
  today: Date = new Date(),
): ValidationResult {
  const errors: Record<string, string> = {};
  const read = (name: string, required: boolean, check: (value: string) => string | null): string | undefined => {
    const value = text(fields[name]);
    if (value === undefined) {
      if (required) errors[name] = REQUIRED;
      return undefined;
    }
    const problem = value === null ? `The '${name}' must be a string` : check(value);
    if (problem !== null) {
      errors[name] = problem;
      return undefined;
    }
    return value as string;
  };

  const email = read('email', true, checkEmail);
  const gender = read('gender', true, checkGender) as Gender | undefined;
  const password = read('password', true, checkPassword);
  const birthDate = read('birth_date', true, (v) => checkBirthDate(v, today));
  const clientIp = read('client_ip', true, checkClientIp);
  const nickname = read('nickname', false, (v) => {
    if (!NICKNAME.test(v)) return "The 'nickname' must have between 1 and 16 alphanumeric characters";
    return isNicknameTaken(v) ? `Another user with the nickname '${v}' already exists` : null;
  });
  const userAgent = read('client_user_agent', false, maxLength('client_user_agent', LIMITS.userAgentLength));
  const subId = read('sub_id', false, maxLength('sub_id', LIMITS.subIdLength));
  const affise = read('affise_affiliate_id', false, maxLength('affise_affiliate_id', LIMITS.affiseIdLength));
  const tracking = readTracking(fields['tracking']);
  if (typeof tracking === 'string') errors['tracking'] = tracking;

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      email: email!,
      gender: gender!,
      password: password!,
      birth_date: birthDate!,
      client_ip: clientIp!,
      tracking: tracking as Record<string, string>,
      ...(nickname !== undefined && { nickname }),
      ...(userAgent !== undefined && { client_user_agent: userAgent }),
      ...(subId !== undefined && { sub_id: subId }),
      ...(affise !== undefined && { affise_affiliate_id: affise }),
    },
  };
}
