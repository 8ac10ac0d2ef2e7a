import { z } from 'zod';
import type { SettingGroup } from './config/declare.js';
import { emulators } from './config/emulators.js';
import { essentials } from './config/essentials.js';
import { abuse, requests } from './config/limits.js';
import { FIXED } from './config/retired.js';
import { operations, surface } from './config/surface.js';
import { subscriptions, upstream } from './config/tuning.js';

/**
 * Every setting of the gateway, read from the environment once at start.
 * The settings are declared, with their documentation, in src/config/ by
 * group; `npm run docs` renders docs/configuration.md and `.env.example`
 * from those declarations.
 */
export { settingDocs, type SettingDoc, type SettingGroup } from './config/declare.js';
export { RETIRED, retiredIn } from './config/retired.js';
export type { DatingSiteConfig } from './config/values.js';

/** The sections of the configuration reference, in reading order: what every deployment sets first. */
export const SETTING_GROUPS: readonly SettingGroup[] = [essentials, surface, operations, abuse, requests, upstream, subscriptions, emulators];

const envSchema = z
  .object({
    ...essentials.settings,
    ...surface.settings,
    ...operations.settings,
    ...abuse.settings,
    ...requests.settings,
    ...upstream.settings,
    ...subscriptions.settings,
    ...emulators.settings,
  })
  .transform((config) => {
    const development = config.NODE_ENV !== 'production';
    return {
      ...config,
      GRAPHIQL: config.GRAPHIQL ?? development,
      INTROSPECTION: config.INTROSPECTION ?? development,
      FIELD_SUGGESTIONS: config.FIELD_SUGGESTIONS ?? development,
      EMULATORS: config.EMULATORS ?? development,
      // Retired settings (src/config/retired.ts): fixed, or following another one.
      ...FIXED,
      SUBSCRIPTIONS_MAX_MESSAGE_BYTES: config.REQUEST_MAX_BODY_BYTES,
    };
  });

/** The names of every environment variable the gateway reads. */
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

/** The upstream variables that are not set: each needs its bundled emulator. */
export function unsetUpstreams(config: Config): ('ACCOUNT_API_URL' | 'DATING_SITES')[] {
  return (['ACCOUNT_API_URL', 'DATING_SITES'] as const).filter((name) => !config[name]);
}
