import { z } from 'zod';

/**
 * How a setting is declared: a zod schema (its validator and its default)
 * registered in `settingDocs` with its documentation. `npm run docs` renders
 * docs/configuration.md, `.env.example` and the README's list of settings
 * from these declarations alone, so each fact about a setting is written once.
 */
export interface SettingDoc {
  /** One line: what the setting does (the default is read from the schema). */
  summary: string;
  /** Longer explanation for docs/configuration.md (markdown), when one line is not enough. */
  note?: string;
  /** How the default reads when the parsed value does not say it, e.g. `true; false when NODE_ENV=production`. */
  shownDefault?: string;
  /** A production value `.env.example` sets (uncommented); without it the line shows the default, commented. */
  example?: string;
}

/** zod's own metadata registry, typed: one entry per setting's schema. */
export const settingDocs = z.registry<SettingDoc>();

/** A section of the configuration reference: the settings of one concern, in reading order. */
export interface SettingGroup<S extends z.ZodRawShape = z.ZodRawShape> {
  title: string;
  /** One or two sentences under the section's title. */
  intro: string;
  settings: S;
}

/** Declares a group; every schema in it must be registered in `settingDocs`, and be its own instance. */
export function group<S extends z.ZodRawShape>(title: string, intro: string, settings: S): SettingGroup<S> {
  for (const [name, schema] of Object.entries(settings)) {
    if (!settingDocs.has(schema)) throw new Error(`config: ${name} has no documentation (register it in settingDocs)`);
  }
  return { title, intro, settings };
}

/** A documented setting: `schema` registered with `doc`. Parsers are functions, so no two settings share an instance. */
export function setting<S extends z.ZodType>(schema: S, summary: string, doc: Omit<SettingDoc, 'summary'> = {}): S {
  if (settingDocs.has(schema)) throw new Error(`config: one schema instance per setting (${summary})`);
  settingDocs.add(schema as z.ZodType, { summary, ...doc });
  return schema;
}

export const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);

const TRUE = ['true', '1', 'yes', 'on'];
const SWITCH = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] as const;

export const bool = (fallback: boolean) =>
  z
    .enum(SWITCH)
    .default(fallback ? 'true' : 'false')
    .transform((v) => TRUE.includes(v));

/** Unset or empty: the mode (NODE_ENV) decides, after parsing. */
export const optionalBool = () =>
  z
    .enum([...SWITCH, ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : TRUE.includes(v)));

/** An http(s) URL; empty is unset. */
export const optionalUrl = () =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.url({ protocol: /^https?$/ }).optional())
    .optional();
