import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../../infra/logger.js';
import { parseJson, readBody } from './body.js';
import { sendJson } from './envelope.js';
import type { DatingStore } from './store.js';

/**
 * Dev and test endpoints under `/_emulator/` (shared/UPSTREAM.md §4). They
 * answer plain JSON, not the Dating API envelope, and never show a password
 * (none is stored) or an API key.
 *
 * - `GET  /_emulator/users[?site=id]` → `[EmulatedDatingUser]`, in creation order
 * - `GET  /_emulator/requests`        → `{ [site]: number }` requests received per site
 * - `POST /_emulator/outage` `{ site, status: 500 | 503 | null }` → `{ site, status }`
 * - `POST /_emulator/reset`           → 204; forgets users, counters, limits and outages
 */

export const DEV_PREFIX = '/_emulator/';

const outageBody = z.object({
  site: z.string().min(1),
  status: z.union([z.literal(500), z.literal(503), z.null()]),
});

interface DevContext {
  store: DatingStore;
  logger: Logger;
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL, ctx: DevContext) => Promise<void> | void;

const routes: Record<string, { method: 'GET' | 'POST'; run: Route }> = {
  users: {
    method: 'GET',
    run: (_req, res, url, { store }) => {
      const site = url.searchParams.get('site');
      if (site !== null && !store.has(site)) return sendJson(res, 404, { error: `Unknown site '${site}'` });
      sendJson(res, 200, store.users(site ?? undefined));
    },
  },
  requests: {
    method: 'GET',
    run: (_req, res, _url, { store }) => sendJson(res, 200, store.requests()),
  },
  outage: {
    method: 'POST',
    run: async (req, res, _url, { store, logger }) => {
      const raw = await readBody(req);
      const json = raw === 'too-large' ? null : parseJson(raw.toString('utf8'));
      const parsed = json?.ok === true ? outageBody.safeParse(json.fields) : null;
      if (parsed == null || !parsed.success) {
        return sendJson(res, 400, { error: 'Send JSON { "site": string, "status": 500 | 503 | null }' });
      }
      const { site, status } = parsed.data;
      if (!store.has(site)) return sendJson(res, 404, { error: `Unknown site '${site}'` });
      store.setOutage(site, status);
      logger.info('dating outage switched', { site, status });
      sendJson(res, 200, { site, status });
    },
  },
  reset: {
    method: 'POST',
    run: (_req, res, _url, { store }) => {
      store.reset();
      res.writeHead(204).end();
    },
  },
};

/** Answers a request whose path starts with `/_emulator/`. */
export async function handleDevRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: DevContext,
): Promise<void> {
  const name = url.pathname.slice(DEV_PREFIX.length);
  const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
  if (route === undefined) return sendJson(res, 404, { error: 'Not Found' });
  if (req.method !== route.method) {
    res.setHeader('allow', route.method);
    return sendJson(res, 405, { error: 'Method Not Allowed' });
  }
  await route.run(req, res, url, ctx);
}
