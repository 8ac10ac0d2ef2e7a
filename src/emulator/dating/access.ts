import { createHash, timingSafeEqual } from 'node:crypto';
import type { DatingSiteEmulation } from './sites.js';

/**
 * Who may call a site: the whitelist of the caller's socket address and the
 * raw API key in `Authorization`. Forwarding headers are ignored on purpose:
 * the real API is server-to-server and checks the connecting address.
 */

/** Lower-cases an address and strips the IPv4-mapped `::ffff:` prefix. */
export function normalizeIp(ip: string): string {
  const lower = ip.trim().toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice('::ffff:'.length) : lower;
}

export function isWhitelisted(site: DatingSiteEmulation, remoteAddress: string | undefined): boolean {
  if (site.ipWhitelist.includes('*')) return true;
  if (remoteAddress === undefined) return false;
  const caller = normalizeIp(remoteAddress);
  return site.ipWhitelist.some((allowed) => normalizeIp(allowed) === caller);
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * True when the header is exactly the site's key. `Bearer <key>` is refused,
 * as the seed's examples send the bare key. Compared in constant time.
 */
export function keyMatches(site: DatingSiteEmulation, header: string | undefined): boolean {
  if (header === undefined || header.length === 0) return false;
  return timingSafeEqual(digest(header), digest(site.apiKey));
}
