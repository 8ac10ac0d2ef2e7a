import type { IncomingMessage, ServerResponse } from 'node:http';
import type { processRegularResult } from 'graphql-yoga';
import { memoized } from '../infra/bounded-map.js';

/** A result of `getResultForParams`, as yoga's result processing takes it. */
export type ExecutionResult = Parameters<typeof processRegularResult>[0];
export type Params = Record<string, unknown>;

/** What an Accept header of a lane request lists (charset utf-8 or none, no other parameter). */
const JSON_MEDIA_TYPE = /^(application\/graphql-response\+json|application\/json|application\/\*|\*\/\*)(;charset=utf-8)?$/;
/** The fields of a GraphQL-over-HTTP body, as yoga's useCheckGraphQLQueryParams has them (and `documentId`, trusted documents). */
const OBJECT_PARAMS = new Set(['variables', 'extensions']);
const STRING_PARAMS = new Set(['query', 'operationName', 'documentId']);

/**
 * The media type yoga's result processors answer an Accept of JSON types
 * with: the first one listed, `application/json` for a wildcard or none (as
 * yoga picks). Undefined when Accept lists anything else (SSE, multipart,
 * parameters, other charsets): yoga's to answer.
 */
export function acceptedMediaType(accept: string | undefined): string | undefined {
  return accept === undefined ? 'application/json' : mediaTypeOfAccept(accept);
}
/** Clients send a handful of distinct Accept headers: each is read once. */
const mediaTypeOfAccept = memoized(mediaTypeOf, 256);

function mediaTypeOf(accept: string): string | undefined {
  let chosen: string | undefined;
  for (const entry of accept.replace(/\s/g, '').toLowerCase().split(',')) {
    const match = JSON_MEDIA_TYPE.exec(entry);
    if (!match) return undefined;
    chosen ??= match[1] === 'application/graphql-response+json' ? match[1] : 'application/json';
  }
  return chosen;
}

/** One params object as yoga's checks accept it, or undefined (yoga then answers it). */
export function regularParams(body: Buffer): Params | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const params = parsed as Params;
  for (const key in params) {
    const value = params[key];
    if (value === null || value === undefined) continue;
    if (STRING_PARAMS.has(key) ? typeof value !== 'string' : !OBJECT_PARAMS.has(key) || typeof value !== 'object' || Array.isArray(value)) return undefined;
  }
  return params;
}

export function urlOf(req: IncomingMessage): string {
  return `http://${req.headers.host ?? 'localhost'}${req.url}`;
}

/** The whole body (node:http reads exactly Content-Length bytes), or undefined when the client goes away first. */
export function readBody(req: IncomingMessage, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(length === 0 ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', () => resolve(undefined));
    req.once('aborted', () => resolve(undefined));
  });
}

/**
 * A single result that yoga's result processing passes through as it is:
 * no errors (their status and internals are yoga's to work out) and no
 * `extensions.http`. yoga answers it with 200 and JSON.
 */
export function isPlainResult(result: ExecutionResult): result is PlainResult {
  if (Array.isArray(result)) return false;
  const single = result as PlainResult;
  return !single.errors?.length && !(single.extensions as { http?: unknown } | undefined)?.http;
}
type PlainResult = ExecutionResult & { errors?: readonly unknown[]; extensions?: unknown; stringify?: (result: unknown) => string };

/** A 200 JSON answer, with the headers yoga's processRegularResult gives it. */
export function writeJson(res: ServerResponse, mediaType: string, body: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(200, { 'Content-Type': `${mediaType}; charset=utf-8`, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The JSON media types: yoga's answers, and the gateway's refusals. */
const JSON_TYPE = /^application\/(graphql-response\+)?json\b/i;

/**
 * A fetch Response (yoga's, or a hook's early answer): a JSON body in one
 * write (yoga's fetch API hands a text body back as it was given), any
 * other streamed as it comes (an SSE subscription), until the client leaves.
 */
export async function send(response: Response, res: ServerResponse): Promise<void> {
  const json = JSON_TYPE.test(response.headers.get('content-type') ?? '') ? await response.text() : undefined;
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  });
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (json !== undefined || response.body === null) return void res.end(json);
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) res.write(chunk.value);
  res.end();
}
