/**
 * The account's vocabulary in the gateway's words: what the Account API's
 * objects are once src/upstream/account/wire.ts has mapped them. The schema
 * and the events speak this; only wire.ts knows snake_case, `restriction_N`,
 * the `sex` integers and Unix timestamps.
 */

export const SEXES = [
  'NOT_SET',
  'UNDEFINED',
  'CISGENDER_WOMAN',
  'CISGENDER_MAN',
  'TRANSGENDER_WOMAN',
  'TRANSGENDER_MAN',
  'INTERSEX',
  'NON_BINARY',
  'AGENDER',
  'ANDROGYNE',
] as const;
export type Sex = (typeof SEXES)[number];

export const LANGUAGES = [
  'en', 'ar', 'be', 'bg', 'de', 'el', 'es', 'fr', 'hi', 'hy', 'it', 'iw',
  'ja', 'ka', 'kk', 'ko', 'mn', 'pt', 'ru', 'tr', 'uk', 'vi', 'zh',
] as const;
export type Language = (typeof LANGUAGES)[number];

/** The five privacy consents, named after what they permit (seed texts). */
export const CONSENT_NAMES = ['socioDemographic', 'webActivity', 'socialProfiles', 'personalityProfiling', 'biometrics'] as const;
export type ConsentName = (typeof CONSENT_NAMES)[number];
export type Consents = Record<ConsentName, boolean>;

export const BLOCK_REASONS = ['NOT_INTERESTED', 'SPAM', 'SEXUAL_HARASSMENT', 'POSSIBLE_VIOLENCE', 'BREACH_OF_CONFIDENTIALITY'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

/** A signed-in session. */
export interface Session {
  token: string;
  expiresAt: Date;
}

/** An account (`user/get`). */
export interface AccountUser {
  id: string;
  email: string | null;
  phone: string | null;
  emailVerified: boolean;
  phoneVerified: boolean;
  name: string | null;
  surname: string | null;
  language: Language | null;
  /** Ids of the active products. */
  modules: string[];
  createdAt: Date;
}

/** Profile settings and consents (`user/settings/get`). */
export interface Settings {
  firstName: string | null;
  lastName: string | null;
  avatar: string | null;
  sex: Sex;
  news: boolean;
  consents: Consents;
  language: Language | null;
  /** `YYYY-MM-DD` */
  birthday: string | null;
  datingModel: string | null;
  email: string | null;
  phone: string | null;
}

/** A change of settings; each field optional, `null` clears where the API allows. */
export interface SettingsPatch {
  firstName?: string;
  lastName?: string;
  avatar?: string;
  sex?: Sex;
  news?: boolean;
  consents?: Partial<Consents>;
  language?: Language;
  /** `YYYY-MM-DD` */
  birthday?: string;
  datingModel?: string | null;
  email?: string;
  phone?: string;
}

export const PRODUCT_STATES = ['ACTIVATED', 'DEACTIVATED', 'DISABLED'] as const;
export type ProductState = (typeof PRODUCT_STATES)[number];

/** A product of the catalogue and the user's state of it. */
export interface Product {
  id: string;
  title: string;
  description: string;
  policy: string;
  icon: string;
  infoUrl: string | null;
  state: ProductState;
}

/** What `user/tracking/set` accepts, in the gateway's words. */
export interface Tracking {
  webstatVisitorId?: string;
  webstatFingerprintId?: string;
  webstatSessionId?: string;
  webstatApiHandler?: string;
  wifiMac?: string;
  bluetoothMac?: string;
  location?: { latitude: number; longitude: number; altitude?: number | null };
  screen?: { width: number; height: number };
  deviceId?: string;
  gaid?: string;
  idfa?: string;
  pushDeviceId?: string;
  unsetPushDeviceId?: string;
  webUris?: string[];
  webEvents?: string[];
  appUris?: string[];
  appEvents?: string[];
  batteryCharge?: number;
  providerName?: string;
  providerQuality?: number;
}
