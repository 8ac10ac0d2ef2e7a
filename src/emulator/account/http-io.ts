import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, type Body } from './params.js';

/** Largest request body read (chosen); a larger one answers HTTP 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type JsonBody = { ok: true; body: Body } | { ok: false; status: number; error: string };

/** Reads a JSON object body. An empty body counts as `{}`. */
export async function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) return { ok: false, status: 413, error: 'body too large' };
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, body: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, error: 'body is not valid JSON' };
  }
  if (!isRecord(parsed)) return { ok: false, status: 400, error: 'body must be a JSON object' };
  return { ok: true, body: parsed };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
