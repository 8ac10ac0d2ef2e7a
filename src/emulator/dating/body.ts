import type { IncomingMessage } from 'node:http';

/**
 * Reading the create-user body. Both encodings of shared/UPSTREAM.md §2 give
 * the same plain record: form keys `tracking[clickid]=…` become
 * `{ tracking: { clickid: … } }`, as PHP's http_build_query would have them.
 */

/** Largest body read (chosen). A larger one is answered like a validation error. */
export const MAX_BODY_BYTES = 64 * 1024;

export type RawFields = Record<string, unknown>;

export type BodyResult = { ok: true; fields: RawFields } | { ok: false; message: string };

/** Reads the whole body, keeping at most `maxBytes` (the rest is drained). */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Turns a body into fields. Repeated plain keys keep the last value (as PHP
 * does). A bracket key `name[key]` adds `key` to the map `name`; anything
 * else in brackets (`tracking[]`, `tracking[a][b]`) keeps its raw inner text
 * as the key, so the validation of that map reports it.
 */
export function parseForm(text: string): RawFields {
  const fields: RawFields = Object.create(null) as RawFields;
  for (const [key, value] of new URLSearchParams(text)) {
    const bracket = /^([^[\]]+)\[(.*)\]$/.exec(key);
    if (bracket === null) {
      fields[key] = value;
      continue;
    }
    const name = bracket[1]!;
    const current = fields[name];
    const map =
      typeof current === 'object' && current !== null ? (current as RawFields) : (Object.create(null) as RawFields);
    map[bracket[2]!] = value;
    fields[name] = map;
  }
  return fields;
}

export function parseJson(text: string): BodyResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'The body is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'The body must be a JSON object' };
  }
  return { ok: true, fields: value as RawFields };
}

/** Reads and parses a create-user body; every failure becomes a `body` message. */
export async function readFields(req: IncomingMessage): Promise<BodyResult> {
  const raw = await readBody(req);
  if (raw === 'too-large') return { ok: false, message: `The body must be at most ${MAX_BODY_BYTES} bytes` };
  const type = mediaType(req.headers['content-type']);
  const text = raw.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return { ok: true, fields: parseForm(text) };
  if (type === 'application/json') return parseJson(text);
  return {
    ok: false,
    message: 'The body must be application/x-www-form-urlencoded or application/json',
  };
}
