import { z } from 'zod';
import { splitList, TrustedProxies } from './client-address.js';

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
  /** Base URL of the Account API. Unset: the bundled emulator is started. */
  ACCOUNT_API_URL: optionalUrl,
  /** Port of the embedded Account API emulator. Default 4001. */
  EMULATOR_ACCOUNT_PORT: int(4001, 0, 65535),
  /** Timeout of one upstream call, in milliseconds. Default 5000. */
  UPSTREAM_TIMEOUT_MS: int(5000, 100, 120_000),
  /** Largest upstream answer body accepted, in bytes. Default 1 MiB. */
  UPSTREAM_MAX_BODY_BYTES: int(1_048_576, 1024, 64 * 1_048_576),
  /** Connections kept open to each upstream origin. Default 32. */
  UPSTREAM_CONNECTIONS: int(32, 1, 1024),
  /** `debug`, `info`, `warn`, `error` or `silent`. Default `info`. */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * The dating sites, as a JSON array of `{ id, name, baseUrl, apiKey, affiseAffiliateId? }`
   * (ids unique, URLs http(s), keys non-empty). The keys never reach a
   * response, an error, a log line or GraphiQL. Unset: the bundled Dating
   * emulator is started with its two demo sites.
   */
  DATING_SITES: datingSites,
  /** Port of the embedded Dating API emulator. Default 4002. */
  EMULATOR_DATING_PORT: int(4002, 0, 65535),
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
   * Redis for state shared by gateway instances (idempotency keys, anonymous
   * rate limits). Unset: kept in this process's memory. Default unset.
   */
  REDIS_URL: optionalRedisUrl,
  /** Prefix of every Redis key the gateway writes. Default `gateway:`. */
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('gateway:'),
  /** How long the outcome of a `joinDating` idempotency key is kept, in seconds. Default 86400 (1 day). */
  IDEMPOTENCY_TTL_SECONDS: int(86_400, 60, 30 * 86_400),
});

export type Config = z.infer<typeof envSchema>;

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
