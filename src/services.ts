import type { Config } from './config.js';
import { AccountEvents } from './events/account-events.js';
import type { EventBus } from './events/bus.js';
import { MemoryEventBus } from './events/memory-bus.js';
import { RedisEventBus } from './events/redis-bus.js';
import { MemoryIdempotencyStore, RedisIdempotencyStore, type IdempotencyStore } from './infra/idempotency.js';
import type { Logger } from './infra/logger.js';
import { AccountLimits } from './infra/account-limits.js';
import { createRateLimiter, type RateLimiter } from './infra/rate-limit.js';
import { MemoryRecoveryStore, RedisRecoveryStore, type RecoveryStore } from './infra/recovery-store.js';
import type { Metrics } from './infra/metrics.js';
import { Readiness } from './infra/readiness.js';
import { connectRedis, redisReady } from './infra/redis.js';
import type { Tracing } from './infra/tracing.js';
import { AccountClient } from './upstream/account/client.js';
import { SessionUsers } from './upstream/account/session-users.js';
import { DatingClient } from './upstream/dating/client.js';
import { upstreamLimits } from './upstream/http.js';
import { observeUpstream } from './upstream/observer.js';

/** What lives as long as the gateway: clients, shared state, config, logger. Resolvers see the part they use (ResolverServices, schema/context.ts). */
export interface Services {
  config: Config;
  logger: Logger;
  /** Prometheus metrics of this gateway (src/infra/metrics.ts). */
  metrics: Metrics;
  /** `/readiness`: the Account API, Redis, the drain (src/infra/readiness.ts). */
  readiness: Readiness;
  account: AccountClient;
  /** Session → user id: the one lookup, checked with `user/get` or remembered for routing events. */
  sessions: SessionUsers;
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
  /** Code and password attempts and codes sent, per account and destination (shared through Redis). */
  accountLimits: AccountLimits;
  /** Password recoveries under the gateway's own tokens (src/flows/password-recovery.ts); Redis with REDIS_URL. */
  recoveryStore: RecoveryStore;
}

/**
 * joinDating's lifetimes, from the upstream timeout: the one place they are
 * computed: src/flows/join-dating.ts waits and locks with them, the
 * idempotency store below keeps a key in flight for `keyInFlightSeconds`.
 * - `waitMs`: how long a call waits for its key, or for another join of the
 *   same user: twice the upstream timeout, 15 s at most.
 * - `holdMs`: the longest hold of the per-user lock: four upstream calls
 *   (fresh user, activate, create, deactivate), each bounded by the
 *   timeout, plus slack.
 * - `keyInFlightSeconds`: the in-flight marker of a key outlives a wait plus a hold.
 */
export function joinDatingLifetimes(upstreamTimeoutMs: number) {
  const waitMs = Math.min(2 * upstreamTimeoutMs, 15_000);
  const holdMs = 4 * upstreamTimeoutMs + 10_000;
  return { waitMs, holdMs, keyInFlightSeconds: Math.ceil((waitMs + holdMs) / 1000) };
}

export interface ServicesHandle {
  services: Services;
  /** Resolves once Redis is ready (the limits that fail closed need it), or after 2 s without it. */
  ready(): Promise<void>;
  /** Closes the upstream sockets and the event bus (completing no subscription: the transports closed first), then the upstream pools, the shared state and Redis. */
  close(): Promise<void>;
}

/**
 * Every long-lived part of a gateway, made from `config`: the upstream
 * clients, and the shared state (idempotency keys, rate limits, the event
 * bus) in this process's memory or, with `REDIS_URL`, in Redis so every
 * instance shares it. `config.ACCOUNT_API_URL` must be set.
 */
export interface ServicesOptions {
  metrics: Metrics;
  /** Null or absent: tracing is off. */
  tracing?: Tracing | null;
}

export function createServices(config: Config & { ACCOUNT_API_URL: string }, logger: Logger, { metrics, tracing = null }: ServicesOptions): ServicesHandle {
  const upstream = upstreamLimits(config);
  const prefix = config.REDIS_KEY_PREFIX;
  // One Redis connection for the shared state (idempotency keys, rate limits); the event bus opens its own two.
  const redis = config.REDIS_URL
    ? connectRedis({ url: config.REDIS_URL, logger, name: 'gateway', commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, metrics })
    : null;

  const readiness = new Readiness({ probeAccount: () => account.probe(), redis, circuits: () => ({ account: account.upstreams, others: dating.upstreams }) });
  const account = new AccountClient({
    ...upstream,
    baseUrl: config.ACCOUNT_API_URL,
    logger: logger.child({ upstream: 'account' }),
    observer: observeUpstream({ metrics, tracing, onAnswer: () => readiness.accountAnswered() }),
  });
  const sessions = new SessionUsers(account);

  const sites = config.DATING_SITES ?? [];
  if (sites.length === 0) logger.warn('DATING_SITES is not set: no dating site is configured');
  const dating = new DatingClient({ ...upstream, sites, logger: logger.child({ upstream: 'dating' }), observer: observeUpstream({ metrics, tracing }) });
  // The circuit of every upstream origin, as a gauge.
  for (const origin of [...account.upstreams, ...dating.upstreams]) {
    metrics.circuitState(origin.name, origin.circuit);
    origin.onCircuitChange((state) => metrics.circuitState(origin.name, state));
  }
  const idempotencyOptions = {
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    inFlightSeconds: joinDatingLifetimes(config.UPSTREAM_TIMEOUT_MS).keyInFlightSeconds,
  };

  const accountLimits = new AccountLimits(redis, {
    prefix,
    codeAttempts: { limit: config.CODE_ATTEMPTS_PER_TARGET, windowSeconds: config.CODE_ATTEMPTS_WINDOW_SECONDS },
    passwordAttempts: { limit: config.PASSWORD_ATTEMPTS_PER_LOGIN, windowSeconds: config.PASSWORD_ATTEMPTS_WINDOW_SECONDS },
    sendIntervalSeconds: config.CODE_SEND_INTERVAL_SECONDS,
    sendsPerDay: config.CODE_SENDS_PER_DAY,
    sendsPerDayPerDestination: config.CODE_SENDS_PER_DAY_PER_DESTINATION,
    maxKeys: config.MEMORY_LIMITS_MAX_KEYS,
  });

  const services: Services = {
    config,
    logger,
    account,
    sessions,
    dating,
    metrics,
    readiness,
    idempotency: redis
      ? new RedisIdempotencyStore(redis, `${prefix}idempotency:`, idempotencyOptions)
      : new MemoryIdempotencyStore(idempotencyOptions),
    anonymousDatingLimit: createRateLimiter(redis, `${prefix}ratelimit:dating-anonymous:`, {
      limit: config.DATING_ANONYMOUS_PER_MINUTE,
      windowSeconds: 60,
      maxKeys: config.MEMORY_LIMITS_MAX_KEYS,
    }),
    authAttemptLimit: createRateLimiter(redis, `${prefix}ratelimit:auth:`, { limit: config.AUTH_ATTEMPTS_PER_MINUTE, maxKeys: config.MEMORY_LIMITS_MAX_KEYS }),
    events: createAccountEvents(config, account, sessions, logger, metrics),
    accountLimits,
    recoveryStore: redis ? new RedisRecoveryStore(redis, `${prefix}recovery:`) : new MemoryRecoveryStore(config.MEMORY_LIMITS_MAX_KEYS),
  };
  return {
    services,
    ready: () => (redis ? redisReady(redis, 2000) : Promise.resolve()),
    close: async () => {
      await services.events.close();
      await account.close();
      await Promise.all([dating.close(), services.idempotency.close(), services.anonymousDatingLimit.close()]);
      await services.authAttemptLimit.close();
      await accountLimits.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * `accountEvents`: the bus is Redis (Streams for each user's log, pub/sub
 * for live delivery) when `REDIS_URL` is set, so every instance sees and can
 * replay every event of a user; else this process.
 */
function createAccountEvents(config: Config, account: AccountClient, sessions: SessionUsers, logger: Logger, metrics: Metrics): AccountEvents {
  const eventsLogger = logger.child({ component: 'events' });
  const log = {
    retentionMs: config.SUBSCRIPTIONS_RETENTION_SECONDS * 1000,
    maxEntries: config.SUBSCRIPTIONS_RETENTION_MAX_EVENTS,
    // Upstream ids are remembered as long as the upstream may replay them (its buffer is 5 minutes) and the log keeps them.
    seenMs: Math.max(config.SUBSCRIPTIONS_RETENTION_SECONDS, 300) * 1000,
  };
  let bus: EventBus;
  if (config.REDIS_URL) {
    const connect = (name: string) => connectRedis({ url: config.REDIS_URL!, logger, name, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, metrics });
    bus = new RedisEventBus(connect('gateway-events-pub'), connect('gateway-events-sub'), config.REDIS_KEY_PREFIX, log, eventsLogger);
  } else {
    bus = new MemoryEventBus(log);
  }
  return new AccountEvents({
    bus: countedBus(bus, metrics),
    sessions,
    metrics,
    logger: eventsLogger,
    sessionFreshMs: config.SUBSCRIPTIONS_SESSION_FRESH_MS,
    admission: {
      concurrency: config.SUBSCRIPTIONS_ADMISSION_CONCURRENCY,
      maxWaiting: config.SUBSCRIPTIONS_ADMISSION_QUEUE,
      deadlineMs: config.SUBSCRIPTIONS_ADMISSION_DEADLINE_MS,
    },
    pushOpensPerSecond: config.UPSTREAM_PUSH_OPENS_PER_SECOND,
    bufferSize: config.SUBSCRIPTIONS_BUFFER_SIZE,
    relay: {
      account,
      heartbeatMs: config.UPSTREAM_PUSH_HEARTBEAT_MS,
      reconnectMinMs: config.UPSTREAM_PUSH_RECONNECT_MIN_MS,
      reconnectMaxMs: Math.max(config.UPSTREAM_PUSH_RECONNECT_MIN_MS, config.UPSTREAM_PUSH_RECONNECT_MAX_MS),
      maxFrameBytes: config.UPSTREAM_MAX_BODY_BYTES,
      sessionCheckMs: config.SUBSCRIPTIONS_SESSION_CHECK_SECONDS * 1000,
    },
  });
}

/** The bus, with its messages counted by direction. */
function countedBus(bus: EventBus, metrics: Metrics): EventBus {
  return {
    append: (userId, message) => {
      metrics.busMessage('published');
      return bus.append(userId, message);
    },
    subscribe: (userId, listener) =>
      bus.subscribe(userId, (entry) => {
        metrics.busMessage('received');
        listener(entry);
      }),
    read: (userId, after) => bus.read(userId, after),
    lastUpstreamId: (userId) => bus.lastUpstreamId(userId),
    onResync: (listener) => bus.onResync(listener),
    close: () => bus.close(),
  };
}
