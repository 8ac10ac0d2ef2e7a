import { z } from 'zod';
import { splitList, TrustedProxies } from './infra/client-address.js';

/**
 * Every setting of the gateway, read from the environment once at start.
 * Each limit lives here with its documented default; the README's
 * configuration table lists the same names.
 */
const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Unset: the mode decides (NODE_ENV). */
const optionalBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v === 'true' || v === '1' || v === 'yes'));

/** Comma-separated origins, each `scheme://host[:port]`. */
const corsOrigins = z
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

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url({ protocol: /^https?$/ }).optional())
  .optional();

/** One dating site of `DATING_SITES` (shared/UPSTREAM.md §2). */
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
const datingSites = z
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

const trustedProxies = z
  .string()
  .default('')
  .superRefine((text, ctx) => {
    const bad = TrustedProxies.invalidEntries(splitList(text));
    if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `not an IP address or CIDR range: ${bad.join(', ')}` });
  })
  .transform((text) => TrustedProxies.parse(text));

const optionalRedisUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional())
  .optional();

const envSchema = z.object({
  /** Port of the GraphQL endpoint (HTTP, graphql-ws and SSE). Default 4000. */
  PORT: int(4000, 0, 65535),
  /** Interface to listen on. Default `0.0.0.0`. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Connections the kernel queues before the gateway accepts them (capped by
   * `net.core.somaxconn`). A reconnect storm after a deploy arrives faster
   * than they are accepted; a full queue resets them. Default 4096.
   */
  LISTEN_BACKLOG: int(4096, 1, 65_535),
  /** Base URL of the Account API. Unset: the bundled emulator is started. */
  ACCOUNT_API_URL: optionalUrl,
  /** Port of the embedded Account API emulator. Default 4001. */
  EMULATOR_ACCOUNT_PORT: int(4001, 0, 65535),
  /**
   * Limit of one upstream call, in milliseconds: from the moment it is made,
   * the wait for a free pool connection included, to the last byte of the
   * answer. Past it: UPSTREAM_TIMEOUT. Default 5000.
   */
  UPSTREAM_TIMEOUT_MS: int(5000, 100, 120_000),
  /**
   * Deadline of one GraphQL operation (query, mutation, or the start of a
   * subscription), shared by all of its upstream calls: past it the answer
   * is UPSTREAM_TIMEOUT and the calls still running are aborted. Default 10000.
   */
  REQUEST_TIMEOUT_MS: int(10_000, 100, 600_000),
  /**
   * Calls that may wait for a free connection to one upstream origin (beyond
   * the UPSTREAM_CONNECTIONS running); one more is refused at once with
   * UPSTREAM_UNAVAILABLE (`retryAfterSeconds` 1). Default 256.
   */
  UPSTREAM_MAX_QUEUE: int(256, 0, 1_000_000),
  /**
   * Failures in a row (5xx, refused or broken connections, calls that ran
   * out of UPSTREAM_TIMEOUT_MS) that open an upstream's circuit: the Account
   * API and each dating site have their own. Default 5.
   */
  UPSTREAM_BREAKER_FAILURES: int(5, 1, 10_000),
  /**
   * How long an open circuit answers UPSTREAM_UNAVAILABLE at once (with
   * `retryAfterSeconds`) before it lets one trial call through; its success
   * closes the circuit, its failure opens it again. Default 10000 ms.
   */
  UPSTREAM_BREAKER_HALF_OPEN_MS: int(10_000, 100, 600_000),
  /**
   * Retries of the Account API's idempotent reads (`user/get`,
   * `user/settings/get`, `user/products/get`) after a 5xx or a refused or broken
   * connection, and after a timeout inside a GraphQL operation, within its
   * REQUEST_TIMEOUT_MS. Nothing that creates or changes something, and no
   * Dating API call, is ever retried. Default 2.
   */
  UPSTREAM_READ_RETRIES: int(2, 0, 2),
  /** Scale of the waits before retries (exponential backoff with jitter): the first waits up to 1.4x it, the second up to 2.8x. Default 50 ms. */
  UPSTREAM_RETRY_BACKOFF_MS: int(50, 1, 10_000),
  /** Largest upstream answer body accepted, in bytes. Default 1 MiB. */
  UPSTREAM_MAX_BODY_BYTES: int(1_048_576, 1024, 64 * 1_048_576),
  /** Connections kept open to each upstream origin. Default 32. */
  UPSTREAM_CONNECTIONS: int(32, 1, 1024),
  /** `debug`, `info`, `warn`, `error` or `silent`. Default `info`. */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Warnings that repeat (an upstream call failing the same way, calls
   * refused by an open circuit): the first of a kind in this window is
   * written at once, the rest are counted into one line at its end
   * ("upstream call timed out, 41 more times in the last 10 s"). Default 10000 ms.
   */
  LOG_REPEATED_WARNINGS_WINDOW_MS: int(10_000, 100, 3_600_000),
  /**
   * The dating sites, as a JSON array of `{ id, name, baseUrl, apiKey, affiseAffiliateId? }`
   * (ids unique, URLs http(s), keys non-empty). The keys never reach a
   * response, an error, a log line or GraphiQL. Unset: the bundled Dating
   * emulator is started with its two demo sites.
   */
  DATING_SITES: datingSites,
  /** Port of the embedded Dating API emulator. Default 4002. */
  EMULATOR_DATING_PORT: int(4002, 0, 65535),
  /** Interface the bundled emulators listen on (`npm start`, `npm run emulator`). Default `127.0.0.1`: this machine only. */
  EMULATOR_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /**
   * File the bundled emulators keep their users, sessions, codes, settings,
   * products and dating users in across restarts (written atomically, a
   * moment after each change). `off`: memory only. Default (also when empty)
   * `.emulator/state.json` (git-ignored), relative to the working directory.
   */
  EMULATOR_STATE_FILE: z
    .string()
    .trim()
    .default('')
    .transform((v) => (v.toLowerCase() === 'off' ? undefined : v === '' ? '.emulator/state.json' : v)),
  /**
   * Proxies whose `X-Forwarded-For` is believed: comma-separated IPs and
   * CIDR ranges, e.g. `127.0.0.1,10.0.0.0/8`. Default empty: the socket's
   * address is the client's.
   */
  TRUSTED_PROXIES: trustedProxies,
  /**
   * Allow `createDatingUser` without a session (landing pages). Default false:
   * only signed-in users, so the affiliate key is no open sign-up relay.
   */
  DATING_ANONYMOUS_SIGNUPS: bool(false),
  /** Anonymous `createDatingUser` calls allowed per client IP and minute. Default 5. */
  DATING_ANONYMOUS_PER_MINUTE: int(5, 1, 10_000),
  /**
   * Redis for the state gateway instances share: `joinDating` idempotency
   * keys, the rate limits (per address: AUTH_ATTEMPTS_PER_MINUTE,
   * DATING_ANONYMOUS_PER_MINUTE; per account: code and password attempts,
   * codes sent), password recovery flows, and `accountEvents`: each user's
   * event log (Streams, for `after`) and the pub/sub that brings it to every
   * instance. Unset: all kept in this process's memory. Default unset.
   */
  REDIS_URL: optionalRedisUrl,
  /** Prefix of every Redis key and pub/sub channel the gateway uses. Default `gateway:`. */
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('gateway:'),
  /** How long the outcome of a `joinDating` idempotency key is kept, in seconds. Default 86400 (1 day). */
  IDEMPOTENCY_TTL_SECONDS: int(86_400, 60, 30 * 86_400),
  /**
   * Subscriptions (graphql-ws): how long a new socket may stay silent before
   * `connection_init`; then it is closed with 4408. Default 3000 ms.
   */
  SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS: int(3000, 100, 60_000),
  /**
   * Operations (subscriptions, queries) running at once on one graphql-ws
   * socket; one more closes the socket with 1008 (policy violation). Default 100.
   */
  SUBSCRIPTIONS_MAX_PER_CONNECTION: int(100, 1, 10_000),
  /** Largest graphql-ws message accepted from a client; a larger one closes the socket with 1009. Default 65536 bytes. */
  SUBSCRIPTIONS_MAX_MESSAGE_BYTES: int(65_536, 1024, 16 * 1_048_576),
  /**
   * Interval of the server's pings on graphql-ws sockets (a socket that misses
   * a pong is terminated) and of the heartbeat part of multipart HTTP
   * subscriptions. 0 disables. Default 12000 ms.
   */
  SUBSCRIPTIONS_KEEPALIVE_MS: int(12_000, 0, 600_000),
  /**
   * graphql-sse single connection mode: streams reserved (`PUT`) and not yet
   * opened, at most; one more is refused with 503. Default 1000.
   */
  SUBSCRIPTIONS_SSE_PENDING_STREAMS: int(1000, 1, 1_000_000),
  /** graphql-sse single connection mode: a reserved stream not opened within this long is dropped. Default 10000 ms. */
  SUBSCRIPTIONS_SSE_RESERVATION_TIMEOUT_MS: int(10_000, 100, 600_000),
  /**
   * Events buffered per subscription while its client is slow to take them;
   * beyond it the oldest is dropped and a warning logged. Default 100.
   */
  SUBSCRIPTIONS_BUFFER_SIZE: int(100, 1, 100_000),
  /**
   * How often the sessions of live subscriptions are re-checked with the
   * Account API (the upstream socket reports the end of one session only).
   * 0 disables. Default 300 s.
   */
  SUBSCRIPTIONS_SESSION_CHECK_SECONDS: int(300, 0, 86_400),
  /**
   * How long each user's account events are kept on the bus (Redis Streams
   * with REDIS_URL, else memory) so that `accountEvents(after:)` can replay
   * them, on any instance; an older `after` gets EventsMissed. Default 300 s,
   * the upstream's own resume buffer.
   */
  SUBSCRIPTIONS_RETENTION_SECONDS: int(300, 10, 86_400),
  /** At most this many events are kept per user for replay (oldest first out). Default 1000. */
  SUBSCRIPTIONS_RETENTION_MAX_EVENTS: int(1000, 10, 100_000),
  /**
   * A session check this recent is reused by further graphql-ws sockets and
   * subscriptions of the same session (the subscribes after a socket's
   * `connection_init`, a reconnect storm); a session known to have ended is
   * never reused. 0: every one asks the Account API. Default 2000 ms.
   */
  SUBSCRIPTIONS_SESSION_FRESH_MS: int(2000, 0, 60_000),
  /** Session checks and push-ticket requests of subscriptions running at once. Default 16 (of UPSTREAM_CONNECTIONS). */
  SUBSCRIPTIONS_ADMISSION_CONCURRENCY: int(16, 1, 1024),
  /** Session checks and ticket requests waiting for their turn, at most; beyond it they are refused at once (1013). Default 20000. */
  SUBSCRIPTIONS_ADMISSION_QUEUE: int(20_000, 0, 1_000_000),
  /**
   * How long a session check or ticket request may wait for its turn; past
   * it a socket is closed with 1013 (a subscription gets UPSTREAM_UNAVAILABLE).
   * Default 10000 ms.
   */
  SUBSCRIPTIONS_ADMISSION_DEADLINE_MS: int(10_000, 10, 300_000),
  /** Open graphql-ws sockets per client address (IPv6 per /64); one more is refused with 429. 0: no cap. Default 100. */
  SUBSCRIPTIONS_MAX_SOCKETS_PER_ADDRESS: int(100, 0, 1_000_000),
  /**
   * Push sockets to the Account API opened per second at most, at a steady
   * pace (a reconnect storm reaches the upstream as a stream, not a spike;
   * each relay catches up with `resume_after`). Default 250.
   */
  UPSTREAM_PUSH_OPENS_PER_SECOND: int(250, 1, 100_000),
  /**
   * The Account API push socket is taken for dead (half-open) after this
   * long without a frame or a ping, and reopened. The API pings every 30 s.
   * Default 45000 ms.
   */
  UPSTREAM_PUSH_HEARTBEAT_MS: int(45_000, 50, 600_000),
  /** First delay before reopening a lost push socket; doubles per failure, with jitter. Default 250 ms. */
  UPSTREAM_PUSH_RECONNECT_MIN_MS: int(250, 1, 60_000),
  /** Longest delay before reopening a lost push socket. Default 15000 ms. */
  UPSTREAM_PUSH_RECONNECT_MAX_MS: int(15_000, 1, 600_000),
  /**
   * Run only the documents of the manifest `npm run codegen` writes
   * (`src/client/generated/persisted-documents.json`), named by hash; a raw
   * query or an unknown hash is refused. For first-party apps in production;
   * GraphiQL cannot send raw queries then. Default false.
   */
  TRUSTED_DOCUMENTS: bool(false),
  /**
   * Sign-in and code attempts (login, register, verifyRegistration, resendCode,
   * password recovery, confirmContactChange, confirmAccountDeletion) per client
   * address and minute; IPv6 counts per /64. Past it: RATE_LIMITED. Default 20.
   */
  AUTH_ATTEMPTS_PER_MINUTE: int(20, 1, 100_000),
  /** Deepest nesting of fields in one operation (introspection aside). Default 10. */
  OPERATION_MAX_DEPTH: int(10, 2, 100),
  /** Aliased fields in one operation, `__typename` included, through its fragments. Default 30. */
  OPERATION_MAX_ALIASES: int(30, 0, 10_000),
  /** Root fields of one mutation operation. Default 5. */
  OPERATION_MAX_MUTATIONS: int(5, 1, 100),
  /** Lexical tokens of one document, counted while parsing; the parse stops past it. Default 2000. */
  OPERATION_MAX_TOKENS: int(2000, 50, 1_000_000),
  /** Directives in one operation, through its fragments. Default 20. */
  OPERATION_MAX_DIRECTIVES: int(20, 0, 10_000),
  /**
   * Cost of one operation (GraphQL Armor's: 1 per leaf, 2 per object field,
   * times 1.5 per level, each fragment spread counted). The largest operation
   * of `schema/operations/` costs about 160. Default 2000.
   */
  OPERATION_MAX_COST: int(2000, 10, 10_000_000),
  /**
   * Largest request body, counted while it streams (a wrong or missing
   * `Content-Length` does not help); past it: 413 before any parsing.
   * Default 65536 bytes.
   */
  REQUEST_MAX_BODY_BYTES: int(65_536, 1024, 64 * 1_048_576),
  /**
   * Plain JSON POSTs take the lean lane (src/transport/json-lane.ts): the same
   * plugins and answers as yoga's own path at less CPU per request. `false`
   * sends every request through yoga's fetch layer. Default true.
   */
  JSON_LANE: bool(true),
  /**
   * Memory for parsed documents and their parse errors, reused across
   * requests: estimated bytes, least recently used evicted first. Default 32 MiB.
   */
  DOCUMENT_CACHE_MAX_BYTES: int(32 * 1_048_576, 0, 4096 * 1_048_576),
  /**
   * `production` turns introspection, field suggestions and GraphiQL off by
   * default (each has its own setting); any other value (`development`,
   * `test`, `staging`) leaves them on. Default `development`.
   */
  NODE_ENV: z.string().default('development'),
  /** Serve GraphiQL on `GET /graphql` to browsers. Default: true, false when NODE_ENV=production. */
  GRAPHIQL: optionalBool,
  /** Answer introspection (`__schema`, `__type`). Default: true, false when NODE_ENV=production. */
  INTROSPECTION: optionalBool,
  /** "Did you mean …" suggestions in validation errors. Default: true, false when NODE_ENV=production. */
  FIELD_SUGGESTIONS: optionalBool,
  /**
   * Origins (`https://app.example.com`) that browsers may call the gateway
   * from, comma-separated, for HTTP (CORS) and graphql-ws upgrades. Default
   * empty: nothing cross-origin; the gateway's own origin (GraphiQL) always works.
   */
  CORS_ORIGINS: corsOrigins,
  /** Time limit of one Redis command; a slower one fails (see "Limits"). Default 500 ms. */
  REDIS_COMMAND_TIMEOUT_MS: int(500, 50, 10_000),
  /**
   * Code attempts (verifyRegistration, completePasswordRecovery,
   * confirmContactChange, confirmAccountDeletion) per user or login in
   * CODE_ATTEMPTS_WINDOW_SECONDS, from any address. Default 5.
   */
  CODE_ATTEMPTS_PER_TARGET: int(5, 1, 1000),
  /** Window of CODE_ATTEMPTS_PER_TARGET. Default 900 s. */
  CODE_ATTEMPTS_WINDOW_SECONDS: int(900, 1, 86_400),
  /** Wrong passwords per login in PASSWORD_ATTEMPTS_WINDOW_SECONDS, from any address; a success resets it. Default 10. */
  PASSWORD_ATTEMPTS_PER_LOGIN: int(10, 1, 1000),
  /** Window of PASSWORD_ATTEMPTS_PER_LOGIN. Default 900 s. */
  PASSWORD_ATTEMPTS_WINDOW_SECONDS: int(900, 1, 86_400),
  /**
   * Least time between two codes to one destination for one purpose (the
   * Account API's own rhythm). 0 leaves the rhythm to the Account API alone
   * (which keeps it for resendCode only). Default 90 s.
   */
  CODE_SEND_INTERVAL_SECONDS: int(90, 0, 86_400),
  /**
   * Codes sent to one destination for one purpose per day, asked from one
   * client address block (IPv6 per /64): one attacker cannot use up a
   * victim's codes for the day. Default 10.
   */
  CODE_SENDS_PER_DAY: int(10, 1, 10_000),
  /** Codes sent to one destination for one purpose per day from all addresses together. Default 50. */
  CODE_SENDS_PER_DAY_PER_DESTINATION: int(50, 1, 100_000),
  /**
   * Without REDIS_URL (and for general limits while Redis fails): entries
   * each in-memory limit keeps, i.e. addresses, accounts or destinations
   * counted at once, and password recoveries in flight; expired ones are
   * reclaimed first. When all are live, the limits that fail closed (code
   * and password attempts, codes sent, password recovery) refuse a new one
   * with LIMITS_UNAVAILABLE rather than forget a live count; general limits
   * drop their oldest count. Default 100000.
   */
  MEMORY_LIMITS_MAX_KEYS: int(100_000, 10, 10_000_000),
  /** How long a `recoveryToken` of startPasswordRecovery stays usable. Default 3600 s. */
  PASSWORD_RECOVERY_TTL_SECONDS: int(3600, 60, 86_400),
  /**
   * Port of the operations server: Prometheus `/metrics`, `/health` and
   * `/readiness`, apart from the public port (which serves `/health` and
   * `/readiness` but never `/metrics`). Default 9464.
   */
  METRICS_PORT: int(9464, 0, 65535),
  /** Interface of the operations server. Default `127.0.0.1` (loopback): set it, e.g. `0.0.0.0`, for a scraper on another host. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * On SIGTERM: how long HTTP requests and graphql-ws queries and mutations
   * in flight may take to finish (one grace for both, at once), after
   * readiness turned 503 and new connections stopped; then the rest are cut.
   * Default 10000 ms.
   */
  SHUTDOWN_GRACE_MS: int(10_000, 0, 600_000),
  /**
   * OpenTelemetry: the OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`
   * (traces go to `/v1/traces` under it). Unset: tracing is off and costs nothing. Default unset.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** `service.name` of the spans. Default `account-dating-gateway`. */
  OTEL_SERVICE_NAME: z.string().min(1).max(100).default('account-dating-gateway'),
}).transform((config) => {
  const development = config.NODE_ENV !== 'production';
  return {
    ...config,
    GRAPHIQL: config.GRAPHIQL ?? development,
    INTROSPECTION: config.INTROSPECTION ?? development,
    FIELD_SUGGESTIONS: config.FIELD_SUGGESTIONS ?? development,
  };
});

/** The names of every environment variable the gateway reads (README table, `.env.example`). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.in.shape);

export type Config = z.output<typeof envSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}
