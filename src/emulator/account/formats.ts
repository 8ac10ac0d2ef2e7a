/**
 * Formats the Account API checks (shared/UPSTREAM.md §1). The e-mail check is
 * deliberately simple; the phone must be E.164.
 */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const PHONE_PATTERN = /^\+[1-9]\d{6,14}$/;

export const LANGS = [
  'en', 'ar', 'be', 'bg', 'de', 'el', 'es', 'fr', 'hi', 'hy', 'it', 'iw',
  'ja', 'ka', 'kk', 'ko', 'mn', 'pt', 'ru', 'tr', 'uk', 'vi', 'zh',
] as const;
export type Lang = (typeof LANGS)[number];

export type Channel = 'email' | 'phone';

export function isEmail(value: unknown): value is string {
  return typeof value === 'string' && EMAIL_PATTERN.test(value);
}

export function isPhone(value: unknown): value is string {
  return typeof value === 'string' && PHONE_PATTERN.test(value);
}

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** E-mail addresses are stored and compared lower-cased (chosen). */
export function normalizeEmail(email: string): string {
  return email.toLowerCase();
}
