/**
 * Loose readers for request parameters. A parameter of the wrong type throws
 * InvalidParamError, which the dispatcher answers with state 400, so no input
 * can crash the emulator.
 */
export type Body = Record<string, unknown>;

export class InvalidParamError extends Error {
  override readonly name = 'InvalidParamError';
  constructor(readonly param: string) {
    super(`missing or invalid parameter: ${param}`);
  }
}

/** A string parameter; `undefined` when absent or null. */
export function optString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidParamError(key);
  return value;
}

/** A non-empty string parameter. */
export function reqString(body: Body, key: string): string {
  const value = optString(body, key);
  if (value === undefined || value === '') throw new InvalidParamError(key);
  return value;
}

/** An integer parameter within [min, max]; `undefined` when absent or null. */
export function optInt(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParamError(key);
  }
  return value;
}

export function isRecord(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string parameter that may be null (to clear it); `undefined` when absent. */
export function optNullableString(body: Body, key: string): string | null | undefined {
  const value = body[key];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw new InvalidParamError(key);
  return value;
}

/** A boolean parameter; `undefined` when absent or null. */
export function optBool(body: Body, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidParamError(key);
  return value;
}
