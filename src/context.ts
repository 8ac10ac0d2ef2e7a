import type { IncomingMessage } from 'node:http';
import { addressBlock, cleanUserAgent, clientAddress } from './client-address.js';
import type { Config } from './config.js';
import { RateLimited, Unauthenticated } from './errors.js';
import type { Logger } from './logger.js';
import { createLoaders, type AccountLoaders } from './loaders.js';
import type { AccountClient } from './upstream/account/client.js';
import type { IdempotencyStore } from './idempotency.js';
import type { RateLimiter } from './rate-limit.js';
import type { DatingClient } from './upstream/dating/client.js';
import type { AccountEvents } from './events/account-events.js';

/** What lives as long as the gateway: clients, config, logger. */
export interface Services {
  config: Config;
  logger: Logger;
  account: AccountClient;
  /** The configured dating sites (Dating API v2). */
  dating: DatingClient;
  /** Outcomes of `joinDating` by idempotency key (memory, or Redis with REDIS_URL). */
  idempotency: IdempotencyStore;
  /** Anonymous `createDatingUser` calls per client IP (DATING_ANONYMOUS_PER_MINUTE). */
  anonymousDatingLimit: RateLimiter;
  /** Sign-in and code attempts per client address (AUTH_ATTEMPTS_PER_MINUTE). */
  authAttemptLimit: RateLimiter;
  /** `accountEvents`: subscriptions, the event bus, the upstream push sockets. */
  events: AccountEvents;
}

/** What every resolver sees: the services plus this request's caller. */
export interface GatewayContext extends Services {
  /**
   * The caller's session token from `Authorization: Bearer <token>` (HTTP) or
   * `connectionParams.authorization` (graphql-ws). `null` when none was
   * sent; `''` when the header is malformed, which no upstream accepts.
   */
  session: string | null;
  /** The end user's IP address (`X-Forwarded-For` only from TRUSTED_PROXIES). */
  clientIp: string;
  /** The end user's `User-Agent`, if any: control characters stripped, at most 512 characters. */
  userAgent: string | null;
  /** Per-request DataLoaders: each upstream resource is fetched once per request. */
  loaders: AccountLoaders;
  /** `Last-Event-ID` of an SSE reconnect (EventSource sends the last `id:` it got): `accountEvents`' `after` when the query gives none. */
  lastEventId: string | null;
}

export function sessionFromAuthorization(header: string | null | undefined): string | null {
  if (header == null || header === '') return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{1,512})$/i.exec(header.trim());
  return match?.[1] ?? '';
}

export function createContext(services: Services, req: IncomingMessage | undefined, headers: Headers): GatewayContext {
  return {
    ...services,
    session: sessionFromAuthorization(headers.get('authorization')),
    clientIp: clientAddress(req?.socket.remoteAddress, headers.get('x-forwarded-for'), services.config.TRUSTED_PROXIES),
    userAgent: cleanUserAgent(headers.get('user-agent')),
    loaders: createLoaders(services.account),
    lastEventId: headers.get('last-event-id'),
  };
}

/** The caller's session token, or UNAUTHENTICATED when there is none. */
export function requireSession(ctx: Pick<GatewayContext, 'session'>): string {
  if (!ctx.session) throw new Unauthenticated();
  return ctx.session;
}

/**
 * Counts one sign-in or code attempt of the caller's address; RATE_LIMITED
 * past AUTH_ATTEMPTS_PER_MINUTE, so codes and passwords cannot be guessed
 * through the gateway at speed.
 */
export async function countAuthAttempt(ctx: Pick<GatewayContext, 'authAttemptLimit' | 'clientIp'>): Promise<void> {
  const wait = await ctx.authAttemptLimit.take(addressBlock(ctx.clientIp));
  if (wait > 0) throw new RateLimited(wait, 'Too many sign-in or code attempts from this address. Try again later.');
}
