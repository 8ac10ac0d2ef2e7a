import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { defer } from './harness.js';

/**
 * A tiny Dating API v2 site on 127.0.0.1 for behaviour the bundled emulator
 * does not have: answers that echo the caller's API key and password, a 405
 * to a POST, a slow 201. The first path segment picks the behaviour, so one
 * stub serves several configured sites: `{url}/{mode}/v2/api/user` with mode
 *
 * - `echo400`, `echo401`, `echo500`: that status, the key and the password in its texts
 * - `status405`: 405 Method Not Allowed
 * - `slow<ms>` (e.g. `slow300`): waits, then 201
 *
 * Closed with the harness's leftovers.
 */
export interface StubSite {
  url: string;
  /** Create-user requests received, per mode. */
  requests(mode: string): number;
  close(): Promise<void>;
}

const envelope = (status: number, data: Record<string, unknown>) => ({ success: status === 201, data, status_code: status });

function send(res: ServerResponse, status: number, data: Record<string, unknown>) {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(envelope(status, data)));
}

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function startStubSite(): Promise<StubSite> {
  const counts = new Map<string, number>();
  let created = 0;
  const server = createServer(async (req, res) => {
    const match = /^\/([^/]+)\/v2\/api\/user$/.exec(req.url ?? '');
    if (!match) return send(res, 404, { error: 'Not Found' });
    const mode = match[1]!;
    counts.set(mode, (counts.get(mode) ?? 0) + 1);
    const body = await bodyOf(req);
    const key = req.headers.authorization ?? '';
    const password = String(body.password ?? '');
    if (mode === 'echo400') {
      return send(res, 400, {
        error: 'Bad Request',
        errors: { password: `password '${password}' is too weak`, nickname: `nickname taken (key ${key})`, debug: `key ${key} not allowed` },
      });
    }
    if (mode === 'echo401') return send(res, 401, { error: `Token ${key} not found (password ${password})` });
    if (mode === 'echo500') return send(res, 500, { error: `Internal error with key=${key} password=${password}` });
    if (mode === 'status405') return send(res, 405, { error: 'Method Not Allowed' });
    const slow = /^slow(\d+)$/.exec(mode);
    if (slow) {
      await sleep(Number(slow[1]));
      created += 1;
      return send(res, 201, { user_email: body.email, auto_login: `http://stub.invalid/${mode}/login/${created}` });
    }
    send(res, 404, { error: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  defer(close);
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (mode) => counts.get(mode) ?? 0,
    close,
  };
}
