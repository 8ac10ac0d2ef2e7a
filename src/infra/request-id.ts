import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { normalizeAddress, type TrustedProxies } from './client-address.js';

/** What an `x-request-id` from a proxy may look like: short, no spaces or quotes (it lands in logs). */
const ACCEPTED = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The id of a request: the `x-request-id` a trusted proxy (TRUSTED_PROXIES)
 * sent, when it is well-formed; else a new UUID. Anyone else's header is
 * ignored, so log lines cannot be forged into another request's.
 */
export function requestIdOf(req: IncomingMessage, trusted: TrustedProxies): string {
  const header = req.headers['x-request-id'];
  if (typeof header === 'string' && !trusted.isEmpty && ACCEPTED.test(header) && trusted.has(normalizeAddress(req.socket.remoteAddress ?? ''))) {
    return header;
  }
  return randomUUID();
}
