import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { dispatch } from './api.js';
import { readJsonBody, sendJson, sendText } from './http-io.js';
import { ROUTES } from './routes.js';
import type { EmulatorState } from './state.js';

/**
 * The HTTP side of an Account API call (shared/UPSTREAM.md §1, transport):
 * unknown path → HTTP 404, not POST → 405, bad JSON → 400, otherwise HTTP 200
 * with the envelope. Injections from /_emulator/force and /_emulator/fault
 * are applied here.
 */

const HTML_500 = '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>'
  + '<body><h1>Internal Server Error</h1></body></html>';
/** A cut-off envelope: 200, but not JSON. */
const GARBAGE = '{"state":200,"data":{"id":"e7fa8fde-f97e-4ced-';

export async function handleApiRequest(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  fallbackHost: string,
): Promise<void> {
  const route = ROUTES.get(path);
  if (!route) return sendJson(res, 404, { error: 'unknown path' });
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
  state.overrides.countCall(path);
  const override = state.overrides.next(path);
  const parsed = await readJsonBody(req);
  if (override?.kind === 'delay') await sleep(override.ms);
  if (override?.kind === 'http_500') return sendText(res, 500, 'text/html; charset=utf-8', HTML_500);
  if (override?.kind === 'garbage') return sendText(res, 200, 'application/json; charset=utf-8', GARBAGE);
  if (override?.kind === 'not_envelope') return sendJson(res, 200, { ok: true, result: 'not the envelope' });
  if (!parsed.ok) return sendJson(res, parsed.status, { error: parsed.error });
  const envelope = override?.kind === 'envelope'
    ? override.envelope
    : dispatch(route, state, parsed.body, req.headers.authorization, req.headers.host ?? fallbackHost);
  state.logger.debug('api call', { path, state: envelope.state, forced: override?.kind === 'envelope' });
  sendJson(res, 200, envelope);
}
