import { z } from 'zod';
import { splitList, TrustedProxies } from '../infra/client-address.js';

/** The parsers of the settings that are more than a number, a switch or a URL. */

/** Comma-separated origins, each `scheme://host[:port]`. */
export const corsOrigins = () =>
  z
    .string()
    .default('')
    .transform((text, ctx) => {
      const origins: string[] = [];
      for (const entry of splitList(text)) {
        const origin = URL.canParse(entry) ? new URL(entry).origin : 'null';
        if (origin === 'null' || !/^https?:/.test(origin)) ctx.addIssue({ code: 'custom', message: `not an http(s) origin: ${entry}` });
        else origins.push(origin);
      }
      return origins;
    });

/** One dating site of `DATING_SITES`. */
const datingSite = z.strictObject({
  /** Stable id clients pick the site by, e.g. `wellhello`. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'an id of 1-64 letters, digits, _ or -'),
  /** Display name. */
  name: z.string().trim().min(1).max(100),
  /** The site's origin plus any prefix; `v2/api/user` is appended. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Sent verbatim as `Authorization`. A secret: never logged or shown. */
  apiKey: z.string().min(1, 'must not be empty').max(512),
  /** Sent as `affise_affiliate_id` only when set (the site's operator asks for it). */
  affiseAffiliateId: z.string().trim().min(1).max(64).optional(),
});
export type DatingSiteConfig = z.output<typeof datingSite>;

/** JSON array of sites, unique ids. The parse error is not echoed: the text holds keys. */
export const datingSites = () =>
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      if (text === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of { id, name, baseUrl, apiKey, affiseAffiliateId? }' });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .array(datingSite)
        .min(1)
        .refine((sites) => new Set(sites.map((s) => s.id)).size === sites.length, 'site ids must be unique')
        .optional(),
    )
    .optional();

/** Comma-separated IPs and CIDR ranges. */
export const trustedProxies = () =>
  z
    .string()
    .default('')
    .superRefine((text, ctx) => {
      const bad = TrustedProxies.invalidEntries(splitList(text));
      if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `not an IP address or CIDR range: ${bad.join(', ')}` });
    })
    .transform((text) => TrustedProxies.parse(text));

/** A redis:// or rediss:// URL; empty is unset. */
export const optionalRedisUrl = () =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional())
    .optional();
