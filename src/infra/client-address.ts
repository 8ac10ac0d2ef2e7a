import { BlockList, isIP } from 'node:net';

/**
 * Who the end user is, network-wise: the address the Dating API receives as
 * `client_ip` and the anonymous rate limit counts by, and the user agent it
 * receives as `client_user_agent`.
 *
 * `X-Forwarded-For` is honoured only when the connecting peer is a trusted
 * proxy (`TRUSTED_PROXIES`); the chain is then walked right to left, skipping
 * trusted hops, and the first untrusted address is the client. Anyone else
 * could write any address into the header.
 */

/** A set of proxy addresses and CIDR ranges, IPv4 and IPv6. */
export class TrustedProxies {
  readonly #list = new BlockList();

  /** The entries as configured, e.g. `["127.0.0.1", "10.0.0.0/8"]`. */
  constructor(readonly entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if (parsed === null) throw new RangeError(`not an IP address or CIDR range: ${entry}`);
      if (parsed.prefix === undefined) this.#list.addAddress(parsed.address, parsed.family);
      else this.#list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  has(address: string): boolean {
    const family = isIP(address);
    if (family === 0 || this.isEmpty) return false;
    return this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The invalid entries of a comma-separated list (empty when all are fine). */
  static invalidEntries(entries: readonly string[]): string[] {
    return entries.filter((entry) => parseEntry(entry) === null);
  }

  static parse(text: string): TrustedProxies {
    return new TrustedProxies(splitList(text));
  }
}

/** A comma-separated list, trimmed, empty items dropped. */
export function splitList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function parseEntry(entry: string): { address: string; family: 'ipv4' | 'ipv6'; prefix?: number } | null {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined) return null;
  const ip = normalizeAddress(address);
  const version = isIP(ip);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address: ip, family };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return null;
  return { address: ip, family, prefix };
}

/**
 * An address as it may appear in a socket or a forwarding header, made
 * plain: `::ffff:1.2.3.4` → `1.2.3.4`, `[::1]:8080` → `::1`,
 * `1.2.3.4:8080` → `1.2.3.4`. Returns the trimmed input when none applies.
 */
export function normalizeAddress(raw: string): string {
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  const lower = text.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return isIP(lower) === 6 ? lower : text;
}

/**
 * The end user's address. `peer` is the socket's remote address;
 * `forwardedFor` the `X-Forwarded-For` header (several headers joined by
 * commas). A malformed hop ends the walk: the last address known to be
 * good is the answer.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trusted: TrustedProxies): string {
  let client = normalizeAddress(peer ?? '');
  if (isIP(client) === 0) client = '127.0.0.1';
  if (forwardedFor === null || !trusted.has(client)) return client;
  const hops = splitList(forwardedFor);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!);
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client;
}

/** Longest user agent passed on (the Dating emulator's cap too, chosen). */
export const USER_AGENT_MAX_LENGTH = 512;

/** `User-Agent` without control characters, trimmed and cut to 512 characters; null when nothing is left. */
export function cleanUserAgent(raw: string | null): string | null {
  if (raw === null) return null;
  // biome-ignore lint: control characters are what this strips
  const text = raw.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  if (text === '') return null;
  // At most 512 UTF-16 units is at most 512 characters: only a longer one is cut (by characters).
  if (text.length <= USER_AGENT_MAX_LENGTH) return text;
  return [...text].slice(0, USER_AGENT_MAX_LENGTH).join('').trim();
}

/**
 * The block an address counts in for per-client limits: an IPv4 address is
 * its own; an IPv6 address counts by its /64 (`2001:db8:1:2::/64`), since a
 * single subscriber usually holds a whole /64 and could otherwise rotate
 * through addresses to dodge a limit.
 */
export function addressBlock(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const groupsOf = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (isIP(g) === 4 ? ['0', '0'] : [g])) : []);
  const left = groupsOf(head);
  const right = groupsOf(tail);
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}
