import { z } from 'zod';
import {
  BLOCK_REASONS,
  CONSENT_NAMES,
  LANGUAGES,
  SEXES,
  type AccountUser,
  type BlockReason,
  type ConsentName,
  type Consents,
  type Product,
  type ProductState,
  type Session,
  type Settings,
  type SettingsPatch,
  type Sex,
  type Tracking,
} from '../../domain/account.js';
import type { Channel } from '../../domain/outcomes.js';

/**
 * The Account API's objects as they travel (shared/UPSTREAM.md §1, "Objects"),
 * each parsed by zod and mapped to the gateway's domain shape (src/domain/account.ts). This file and
 * client.ts are the only places that know snake_case, `restriction_N`, the
 * `sex` integers and Unix timestamps.
 */

/** `sex` on the wire: -1 to 8, in the order of SEXES. */
const sexFromWire = (n: number): Sex => SEXES[n + 1] ?? 'NOT_SET';
const sexToWire = (s: Sex): number => SEXES.indexOf(s) - 1;

/** Where each consent travels. */
const CONSENT_KEYS: Record<ConsentName, string> = {
  socioDemographic: 'restriction_1',
  webActivity: 'restriction_2',
  socialProfiles: 'restriction_3',
  personalityProfiling: 'restriction_4',
  biometrics: 'restriction_5',
};

/** The consents of a settings object as it travels: absent or null is not given. */
function consentsFromWire(wire: Record<string, unknown>): Consents {
  const consents = {} as Consents;
  for (const name of CONSENT_NAMES) consents[name] = (wire[CONSENT_KEYS[name]] as boolean | null | undefined) ?? false;
  return consents;
}

/** A block reason on the wire: 1 to 5, in the order of BLOCK_REASONS. */
export const blockReasonToWire = (r: BlockReason): number => BLOCK_REASONS.indexOf(r) + 1;

/** `email` / `phone` on the wire, a Channel in the gateway. */
export const channel = z.enum(['email', 'phone']).transform((c): Channel => (c === 'email' ? 'EMAIL' : 'PHONE'));

/** `YYYY-MM-DD` of a Unix timestamp (seconds), read in UTC. */
const dateOfTimestamp = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
/** Unix timestamp (seconds) of midnight UTC of a `YYYY-MM-DD` date. */
export const timestampOfDate = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);

/**
 * A text field that may be absent or null; each object's transform reads
 * both as null (`?? null`): a transform per field would cost more than the
 * whole object's checks, on every read.
 */
const text = z.string().nullish();

export const sessionWire = z
  .object({ token: z.string().min(1), expires_at: z.iso.datetime({ offset: true }) })
  .transform((s): Session => ({ token: s.token, expiresAt: new Date(s.expires_at) }));

export const userWire = z
  .object({
    id: z.string().min(1),
    email: text,
    phone: text,
    email_verified: z.boolean(),
    phone_verified: z.boolean(),
    name: text,
    surname: text,
    lang: z.enum(LANGUAGES).nullish(),
    modules: z.array(z.string()),
    created_at: z.iso.datetime({ offset: true }),
    session: sessionWire.nullish(),
  })
  .transform((u): { user: AccountUser; session: Session | null } => ({
    user: {
      id: u.id,
      email: u.email ?? null,
      phone: u.phone ?? null,
      emailVerified: u.email_verified,
      phoneVerified: u.phone_verified,
      name: u.name ?? null,
      surname: u.surname ?? null,
      language: u.lang ?? null,
      modules: u.modules,
      createdAt: new Date(u.created_at),
    },
    session: u.session ?? null,
  }));

export const settingsWire = z
  .object({
    first_name: text,
    last_name: text,
    avatar: text,
    sex: z.number().int().min(-1).max(8).nullish(),
    news: z.boolean().nullish(),
    restriction_1: z.boolean().nullish(),
    restriction_2: z.boolean().nullish(),
    restriction_3: z.boolean().nullish(),
    restriction_4: z.boolean().nullish(),
    restriction_5: z.boolean().nullish(),
    lang: z.enum(LANGUAGES).nullish(),
    birthday: z.number().int().nullish(),
    dating: z.object({ model: text }).nullish(),
    email: text,
    phone: text,
  })
  .transform((s): Settings => ({
    firstName: s.first_name ?? null,
    lastName: s.last_name ?? null,
    avatar: s.avatar ?? null,
    sex: sexFromWire(s.sex ?? -1),
    news: s.news ?? false,
    consents: consentsFromWire(s),
    language: s.lang ?? null,
    birthday: s.birthday == null ? null : dateOfTimestamp(s.birthday),
    datingModel: s.dating?.model ?? null,
    email: s.email ?? null,
    phone: s.phone ?? null,
  }));
export function settingsPatchToWire(p: SettingsPatch): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    first_name: p.firstName,
    last_name: p.lastName,
    avatar: p.avatar,
    sex: p.sex === undefined ? undefined : sexToWire(p.sex),
    news: p.news,
    lang: p.language,
    birthday: p.birthday === undefined ? undefined : timestampOfDate(p.birthday),
    'dating.model': p.datingModel,
    email: p.email,
    phone: p.phone,
  };
  for (const name of CONSENT_NAMES) wire[CONSENT_KEYS[name]] = p.consents?.[name];
  return withoutUndefined(wire);
}

export const productWire = z
  .object({
    id: z.string().min(1),
    title: z.string(),
    description: z.string(),
    policy: z.string(),
    icon: z.string(),
    info: z.string().nullish(),
    state: z.enum(['activated', 'deactivated', 'disabled']),
  })
  .transform((p): Product => ({
    id: p.id,
    title: p.title,
    description: p.description,
    policy: p.policy,
    icon: p.icon,
    infoUrl: p.info ?? null,
    state: p.state.toUpperCase() as ProductState,
  }));

export const modulesWire = z
  .object({ modules: z.array(z.string()), subscription_cancel: z.string().nullish() })
  .transform((m) => ({ modules: m.modules, subscriptionCancelUrl: m.subscription_cancel ?? null }));

export const channelTokenWire = z
  .object({ token: z.string().min(1), type: channel })
  .transform((t) => ({ token: t.token, channel: t.type }));

/**
 * `user/auth/websocket`: where to open the push socket, and its ticket. The
 * URL must be ws, wss, http or https (push.ts opens http(s) as ws(s)); anything
 * else is off contract, like any malformed answer.
 */
export const ticketWire = z.object({
  url: z.url({ protocol: /^(wss?|https?)$/ }).max(2048),
  ticket: z.string().min(1).max(2048),
});

export function trackingToWire(t: Tracking): Record<string, unknown> {
  const { location, screen } = t;
  return withoutUndefined({
    webstat_visitor_id: t.webstatVisitorId,
    webstat_fingerprint_id: t.webstatFingerprintId,
    webstat_session_id: t.webstatSessionId,
    webstat_api_handler: t.webstatApiHandler,
    wifi_mac: t.wifiMac,
    bluetooth_mac: t.bluetoothMac,
    location: location && [location.latitude, location.longitude, ...(location.altitude == null ? [] : [location.altitude])],
    screen: screen && [screen.width, screen.height],
    device_id: t.deviceId,
    gaid: t.gaid,
    idfa: t.idfa,
    push_device_id: t.pushDeviceId,
    unset_push_device_id: t.unsetPushDeviceId,
    web_uri: t.webUris,
    web_event: t.webEvents,
    app_uri: t.appUris,
    app_event: t.appEvents,
    battery_charge: t.batteryCharge,
    provider_name: t.providerName,
    provider_quality: t.providerQuality,
  });
}

function withoutUndefined(record: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
