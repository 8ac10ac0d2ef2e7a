import { z } from 'zod';
import type { DatingClient } from '../../upstream/dating/client.js';
import { DATING_GENDERS } from '../../domain/dating.js';
import { builder } from '../builder.js';
import { email } from '../validation.js';

/**
 * The dating sites' field rules (shared/UPSTREAM.md §2), checked before any
 * call so bad input costs the site's per-minute limit nothing. Length caps
 * the seed does not give match the bundled emulator's (chosen).
 */

export const DatingGenderEnum = builder.enumType('DatingGender', {
  description: 'Gender as the dating sites know it.',
  values: DATING_GENDERS,
});

export const DatingTrackingInput = builder.inputType('DatingTrackingInput', {
  description: 'One custom tracking value sent to the site (`tracking[key]=value`).',
  fields: (t) => ({
    key: t.string({ required: true, description: '1-64 of A-Z a-z 0-9 _ -.' }),
    value: t.string({ required: true, description: 'At most 256 characters.' }),
  }),
});

const chars = (text: string) => [...text].length;

/** `YYYY-MM-DD` of the last birthday that is 18 years old today (UTC). */
function adultCutoff(today = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(today.getUTCFullYear() - 18, 4)}-${pad(today.getUTCMonth() + 1)}-${pad(today.getUTCDate())}`;
}

export const datingEmail = email.refine((e) => e.split('@')[0]!.length <= 64, 'The part before @ must have at most 64 characters.');
export const datingPassword = z
  .string()
  .refine((p) => chars(p) >= 3 && chars(p) <= 64, 'The dating password must have between 3 and 64 characters.');
/** Already a calendar day (the `Date` scalar); here: 18 or older. */
export const datingBirthDate = z.string().refine((d) => d <= adultCutoff(), 'Must be at least 18 years ago.');
export const datingGender = z.enum(DATING_GENDERS);
export const nickname = z.string().regex(/^[A-Za-z0-9]{1,16}$/, 'Between 1 and 16 letters or digits.');
export const tracking = z
  .array(
    z.object({
      key: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 of A-Z a-z 0-9 _ -.'),
      value: z.string().refine((v) => chars(v) <= 256, 'At most 256 characters.'),
    }),
  )
  .max(50, 'At most 50 tracking values.')
  .refine((list) => new Set(list.map((t) => t.key)).size === list.length, 'Each tracking key once.');
export const subId = z.string().trim().min(1).refine((v) => chars(v) <= 128, 'At most 128 characters.');

/** A configured site id. */
export const siteId = (dating: DatingClient) =>
  z.string().refine((id) => dating.site(id) !== undefined, 'No such dating site; datingSites lists them.');
