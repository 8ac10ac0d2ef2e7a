// requireSession is hand-written, not @pothos/plugin-scope-auth: its per-request RequestCache (a WeakMap entry, five Maps) measured about +20 µs per operation for one guarded field in a graphql-js microbenchmark (products, dashboard are hot).
import type { IncomingMessage } from 'node:http';
import { RateLimited, Unauthenticated } from '../domain/errors.js';
import { addressBlock, cleanUserAgent, clientAddress } from '../infra/client-address.js';
import { Deadline } from '../infra/deadline.js';
import { scopeOf, type RequestScope } from '../infra/request-scope.js';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { type AccountLoaders, createLoaders } from './loaders.js';

/**
 * The services resolvers and the flows they call use: the clients and the
 * shared state, and of the config only what they read (no metrics,
 * readiness or other settings: those belong to the gateway around them).
 */
export type ResolverServices = Pick<
  Services,
  'logger' | 'account' | 'sessions' | 'dating' | 'idempotency' | 'anonymousDatingLimit' | 'authAttemptLimit' | 'events' | 'accountLimits' | 'recoveryStore'
> & {
  config: Pick<Config, 'CODE_SEND_INTERVAL_SECONDS' | 'DATING_ANONYMOUS_SIGNUPS' | 'PASSWORD_RECOVERY_TTL_SECONDS' | 'UPSTREAM_TIMEOUT_MS'>;
};

/** What every resolver sees: the services it uses plus this request's caller. */
export interface GatewayContext extends ResolverServices {
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
  /**
   * This operation's deadline (REQUEST_TIMEOUT_MS), shared by all its
   * upstream calls: pass it as the last argument of every client call.
   */
  deadline: Deadline;
  /** Per-request DataLoaders: each upstream resource is fetched once per request (within `deadline`). */
  loaders: AccountLoaders;
  /** `Last-Event-ID` of an SSE reconnect (a fetch-based SSE client resends the last `id:` it got): `accountEvents`' `after` when the query gives none. */
  lastEventId: string | null;
}

/**
 * What yoga's envelop starts a request with: over HTTP its `request`; over
 * graphql-ws (src/transport/graphql-ws.ts) the socket's `connectionParams`
 * instead, and `req`, the upgrade request, in both.
 */
export interface InitialContext {
  req?: IncomingMessage;
  request?: Request;
  connectionParams?: Readonly<Record<string, unknown>>;
  /** graphql-ws: the operation's own scope (over HTTP it hangs on `req`, src/infra/request-scope.ts). */
  requestScope?: RequestScope;
}

export function sessionFromAuthorization(header: unknown): string | null {
  if (typeof header !== 'string' || header === '') return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{1,512})$/i.exec(header.trim());
  return match?.[1] ?? '';
}

/** A request's context. The session comes from `Authorization` over HTTP, from `connectionParams.authorization` over graphql-ws (never from the upgrade request's headers). */
export function createContext(services: Services, { req, request, connectionParams, requestScope }: InitialContext): GatewayContext {
  // Node's own headers when there is the node request (the same values a fetch Request holds, without building its Headers).
  const header = (name: string) => {
    if (!req) return request?.headers.get(name) ?? null;
    const value = req.headers[name];
    return typeof value === 'string' ? value : null;
  };
  const authorization = connectionParams ? connectionParams['authorization'] : header('authorization');
  const scope = scopeOf(req, requestScope);
  const deadline = Deadline.after(services.config.REQUEST_TIMEOUT_MS, scope);
  const { config, account, sessions, dating, idempotency, anonymousDatingLimit, authAttemptLimit, events, accountLimits, recoveryStore } = services;
  // One literal of fixed shape, naming what resolvers get (a spread of the services is a slow path in V8).
  return {
    config, account, sessions, dating, idempotency, anonymousDatingLimit, authAttemptLimit, events, accountLimits, recoveryStore,
    // The request's lines carry its id.
    logger: scope ? services.logger.child({ requestId: scope.id }) : services.logger,
    session: sessionFromAuthorization(authorization),
    clientIp: clientAddress(req?.socket.remoteAddress, header('x-forwarded-for'), services.config.TRUSTED_PROXIES),
    userAgent: cleanUserAgent(header('user-agent')),
    deadline,
    loaders: createLoaders(services.account, services.sessions, deadline),
    // HTTP only (an SSE reconnect); over graphql-ws `req` is the upgrade request, whose headers mean nothing here.
    lastEventId: connectionParams ? null : header('last-event-id'),
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

/**
 * For mutations that end `session` (logout, account deletion): its user id,
 * found before the Account API call that ends it, since afterwards the API
 * no longer knows the session. Null when it cannot be found (logged): the
 * session check ends the subscriptions later. Never fails the mutation.
 */
export async function userOfEndingSession(ctx: Pick<GatewayContext, 'sessions' | 'logger' | 'deadline'>, session: string): Promise<string | null> {
  try {
    return await ctx.sessions.userId(session, ctx.deadline);
  } catch (error) {
    ctx.logger.child({ component: 'events' }).info('user of an ending session unknown; its subscriptions end at the next session check', {
      error: error instanceof Error ? error.name : 'unknown',
    });
    return null;
  }
}
