import { z } from 'zod';

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
