import { type FieldError, ValidationError } from './outcomes.js';

/**
 * The dating vocabulary in the gateway's words: a new user, a created one,
 * a configured site, and a site's refusal of input fields. The Dating API's
 * wire names live only in src/upstream/dating/wire.ts.
 */

export const DATING_GENDERS = ['MALE', 'FEMALE', 'COUPLE'] as const;
export type DatingGender = (typeof DATING_GENDERS)[number];

/** A configured site as the rest of the gateway sees it: no key. */
export interface DatingSite {
  id: string;
  name: string;
}

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

/** What the site's email check found. */
export interface EmailValidation {
  email: string | null;
  status: string | null;
  corrected: string | null;
  receptionEnabled: boolean | null;
}

/** Where the new user pays for one product of the site. */
export interface PaymentLinks {
  product: string;
  trial: string | null;
  month: string | null;
  year: string | null;
}

/** A user the site created. */
export interface DatingUser {
  siteId: string;
  userEmail: string;
  emailValidation: EmailValidation | null;
  autoLoginUrl: string;
  memberAreaUrl: string | null;
  paymentLinks: PaymentLinks[];
}

/** A user the site created (Dating API 201), as a payload member. */
export class DatingUserCreated {
  constructor(readonly user: DatingUser) {}
}

/** The input fields of `createDatingUser` and `joinDating` a site may refuse. */
export const DATING_INPUT_FIELDS: ReadonlySet<string> = new Set(['email', 'gender', 'password', 'birthDate', 'nickname', 'tracking', 'subId']);

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

/**
 * The site's refusal of input fields (a 400), in the gateway's words: one
 * error per refused input field, and one on path `[]` for fields the input
 * does not have (or when the site named none). Anything that is not an input
 * field name is dropped, so whatever `fields` holds, no site text comes out.
 */
export function siteRefusal(fields: readonly string[]): ValidationError {
  const known = [...new Set(fields)].filter((f) => DATING_INPUT_FIELDS.has(f));
  const errors: FieldError[] = known.map((field) => ({ path: [field], message: MESSAGE_OF_INPUT_FIELD[field] ?? SITE_REFUSED_FIELD }));
  if (known.length === 0 || fields.some((f) => !DATING_INPUT_FIELDS.has(f))) errors.push({ path: [], message: SITE_REFUSED_REQUEST });
  return new ValidationError(errors, 'The dating site refused some of the input; see fieldErrors.');
}

/** The input fields a refusal made by `siteRefusal` names (`''` for path `[]`): all a kept refusal needs. */
export function refusedFieldsOf(refusal: ValidationError): string[] {
  return refusal.fieldErrors.map((e) => e.path[0] ?? '');
}
