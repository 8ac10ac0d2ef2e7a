import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../infra/logger.js';
import type { EmulatorStateFile } from '../state-file.js';
import { handleCreateUser } from './create-user.js';
import { DEV_PREFIX, handleDevRoute } from './dev-routes.js';
import { MESSAGES, failure, sendEnvelope } from './envelope.js';
import { datingSection } from './persist.js';
import { DEMO_DATING_SITES, checkSites, type DatingSiteEmulation } from './sites.js';
import { DatingStore } from './store.js';

/**
 * The bundled Dating API v2 emulator (shared/UPSTREAM.md §2 and §4): one
 * node:http server, one path prefix per site, `POST /{site}/v2/api/user`,
 * plus the dev endpoints of dev-routes.ts. Every other path answers a 404
 * envelope. The user path answers CORS (the seed allows it there only):
 * `access-control-allow-origin: *` and a 204 to an OPTIONS preflight.
 */

export interface DatingEmulatorOptions {
  /** Port to listen on. Default `0` (a free port). */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Sites to host. Default `DEMO_DATING_SITES` (wellhello, lovecrush). */
  sites?: DatingSiteEmulation[];
  /** Where lines go. Default: an `info` logger on stdout. API keys and passwords are never logged. */
  logger?: Logger;
  /** Where created users are kept across restarts (section `dating`); loaded at start. Default none: memory only (tests). */
  stateFile?: EmulatorStateFile;
}

export interface DatingEmulator {
  /** `http://127.0.0.1:PORT`; a site's endpoint is `${url}/${site.id}/v2/api/user`. */
  url: string;
  port: number;
  sites: DatingSiteEmulation[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const USER_PATH = '/v2/api/user';

const CORS = { 'access-control-allow-origin': '*' };
const PREFLIGHT = {
  ...CORS,
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-max-age': '600',
};

const notFound = () => failure(404, MESSAGES.notFound);

function siteOf(pathname: string): { id: string; rest: string } | null {
  const match = /^\/([^/]+)(\/.*)?$/.exec(pathname);
  if (match === null) return null;
  try {
    return { id: decodeURIComponent(match[1]!), rest: match[2] ?? '' };
  } catch {
    return null;
  }
}

export async function startDatingEmulator(options: DatingEmulatorOptions = {}): Promise<DatingEmulator> {
  const sites = (options.sites ?? DEMO_DATING_SITES).map((site) => ({ ...site, ipWhitelist: [...site.ipWhitelist] }));
  checkSites(sites);
  const byId = new Map(sites.map((site) => [site.id, site]));
  const store = new DatingStore(sites.map((site) => site.id));
  const logger = (options.logger ?? createLogger()).child({ component: 'dating-emulator' });
  const host = options.host ?? '127.0.0.1';
  const { stateFile } = options;
  const changed = stateFile ? await stateFile.attach('dating', datingSection(store)) : () => {};
  let baseUrl = '';

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    if (url.pathname.startsWith(DEV_PREFIX)) return handleDevRoute(req, res, url, { store, logger });
    const target = siteOf(url.pathname);
    const site = target === null ? undefined : byId.get(target.id);
    if (site === undefined || target === null) return sendEnvelope(res, notFound());
    store.countRequest(site.id);
    if (target.rest !== USER_PATH) return sendEnvelope(res, notFound());
    if (req.method === 'OPTIONS') {
      res.writeHead(204, PREFLIGHT).end();
      return;
    }
    const reply = await handleCreateUser(req, { site, store, baseUrl, logger });
    sendEnvelope(res, reply.envelope, { ...CORS, ...reply.headers });
  };

  const server = createServer((req, res) => {
    route(req, res).then(() => {
      if (req.method === 'POST') changed();
    }, (error: unknown) => {
      logger.error('dating emulator request failed', { error, path: req.url });
      if (!res.headersSent) sendEnvelope(res, failure(500, MESSAGES.internal));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // Listening on every interface: links and the URL name loopback, as the Account emulator's do.
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${urlHost}:${port}`;
  logger.info('dating emulator listening', { url: baseUrl, sites: sites.map((site) => site.id) });

  return {
    url: baseUrl,
    port,
    sites,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await stateFile?.flush();
    },
  };
}
