import { z } from 'zod';
import { ValidationError } from '../domain/outcomes.js';
import { LANGUAGES } from '../domain/account.js';
import { isCalendarDate } from './scalars.js';

/**
 * Input rules checked before any upstream call, so bad input costs the
 * upstream nothing and the client learns every bad field at once.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> | ValidationError {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  return new ValidationError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
  );
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
/** Text a person typed: trimmed, 1 to `max` characters, no control characters or broken UTF-16. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'Must not be empty.')
    .max(max, `At most ${max} characters.`)
    .refine((v) => !/[\p{Cc}\p{Cs}]/u.test(v), 'Must not contain control characters.');
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
