// Hand-written, not @pothos/plugin-validation: it validates in an arg mapper before any resolver code, so the session check, the attempt count and the anonymous sign-up admission could no longer come first, and the site rule needs each gateway's configured sites.
import { z } from 'zod';
import { ValidationError } from '../domain/outcomes.js';
import { LANGUAGES } from '../domain/account.js';
import { isCalendarDate } from './scalars.js';

/**
 * Input rules checked before any upstream call, so bad input costs the
 * upstream nothing and the client learns every bad field at once.
 */

/** The parsed input, or a thrown ValidationError with every bad field: the payload union answers it (plugin-errors). */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })));
}

/** Every optional GraphQL input field arrives as `undefined` or `null`; both mean "not given". */
export const optional = <S extends z.ZodType>(schema: S) =>
  schema.nullish().transform((v) => (v === null ? undefined : v));

export const email = z.string().trim().max(254).pipe(z.email('Enter a valid email address.'));
export const phone = z
  .string()
  .trim()
  .regex(/^\+[1-9]\d{6,14}$/, 'Enter the phone number in international format, e.g. +15551234567.');
export const language = z.enum(LANGUAGES);
/**
 * Characters that change how text around them is shown without showing
 * themselves: bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069: "Ann\u202Egnp.exe" shows as "Annexe.png") and zero-width
 * ones (U+200B-U+200D, U+2060-U+2064, U+FEFF, U+180E: look-alike names).
 */
export const INVISIBLE_CHARACTERS = /[\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/u;

/**
 * Text a person typed: trimmed, 1 to `max` characters, no control
 * characters, broken UTF-16, bidi controls or zero-width characters.
 */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'Must not be empty.')
    .max(max, `At most ${max} characters.`)
    .refine((v) => !/[\p{Cc}\p{Cs}]/u.test(v), 'Must not contain control characters.')
    .refine((v) => !INVISIBLE_CHARACTERS.test(v), 'Must not contain invisible or text-direction characters.');
export const personName = text(100);
export const code = z.string().trim().regex(/^\d{6}$/, 'The code has 6 digits.');
export const token = text(200);
export const newPassword = z.string().min(8, 'At least 8 characters.').max(128, 'At most 128 characters.');
export const anyPassword = z.string().min(1, 'Enter the password.').max(128, 'At most 128 characters.');
export const id = text(100);

/** A past calendar day within a human lifespan. */
export const birthday = z
  .string()
  .refine(isCalendarDate, 'Use YYYY-MM-DD.')
  .refine((d) => d <= new Date().toISOString().slice(0, 10), 'A birthday cannot be in the future.')
  .refine((d) => d >= '1900-01-01', 'A birthday after 1900-01-01, please.');
