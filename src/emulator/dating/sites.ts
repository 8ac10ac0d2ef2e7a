/**
 * The dating sites one emulator hosts (shared/UPSTREAM.md §4): each site is a
 * path prefix with its own API key, IP whitelist and per-minute limit.
 */

/** One emulated dating site, served under `/{id}/v2/api/user`. */
export interface DatingSiteEmulation {
  /** Path prefix, e.g. `"wellhello"`. Letters, digits and `-`; must not start with `_`. */
  id: string;
  /** The key expected verbatim in the `Authorization` header (no `Bearer`). */
  apiKey: string;
  /**
   * Client addresses allowed to call the site. Compared after stripping an
   * IPv4-mapped `::ffff:` prefix, so `127.0.0.1` also matches `::ffff:127.0.0.1`.
   * `["*"]` allows any address.
   */
  ipWhitelist: string[];
  /** Requests accepted per rolling 60 seconds (counted once IP and key passed). */
  perMinuteLimit: number;
  /**
   * When set, every request must carry exactly this `affise_affiliate_id`.
   * When unset, a request carrying any `affise_affiliate_id` fails with 402.
   */
  affiseAffiliateId?: string;
  /** A 201 also returns `payment_links`. Default false. */
  paymentLinks?: boolean;
  /** A 201 also returns `member_area_link`. Default false. */
  memberAreaLink?: boolean;
}

const LOOPBACK = ['127.0.0.1', '::1'];

/** Two demo sites, both reachable from loopback only. */
export const DEMO_DATING_SITES: DatingSiteEmulation[] = [
  {
    id: 'wellhello',
    apiKey: 'demo-wellhello-key',
    ipWhitelist: [...LOOPBACK],
    perMinuteLimit: 60,
    paymentLinks: true,
  },
  {
    id: 'lovecrush',
    apiKey: 'demo-lovecrush-key',
    ipWhitelist: [...LOOPBACK],
    perMinuteLimit: 30,
    memberAreaLink: true,
    affiseAffiliateId: '1001',
  },
];

/** A site list the emulator cannot serve. */
export class DatingEmulatorConfigError extends Error {
  override readonly name = 'DatingEmulatorConfigError';
  readonly code = 'DATING_EMULATOR_CONFIG';
}

const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Throws a DatingEmulatorConfigError naming every problem of the list. */
export function checkSites(sites: readonly DatingSiteEmulation[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const site of sites) {
    if (!SITE_ID.test(site.id)) problems.push(`site id '${site.id}' must be 1-64 letters, digits or '-'`);
    if (seen.has(site.id)) problems.push(`site id '${site.id}' is used twice`);
    seen.add(site.id);
    if (site.apiKey.length === 0) problems.push(`site '${site.id}' has an empty apiKey`);
    if (!Number.isInteger(site.perMinuteLimit) || site.perMinuteLimit < 0) {
      problems.push(`site '${site.id}' needs a perMinuteLimit that is an integer >= 0`);
    }
  }
  if (problems.length > 0) throw new DatingEmulatorConfigError(`Invalid dating sites: ${problems.join('; ')}`);
}
