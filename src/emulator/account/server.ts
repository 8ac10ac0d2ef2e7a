import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../infra/logger.js';
import type { EmulatorStateFile } from '../state-file.js';
import { handleApiRequest } from './api-http.js';
import { handleDev } from './dev.js';
import { readJsonBody, sendJson, sendText } from './http-io.js';
import { INBOX_PATH, inboxPage } from './inbox.js';
import { accountSection } from './persist.js';
import { EmulatorState } from './state.js';
import { handleUpgrade } from './upgrade.js';

/**
 * The bundled Account API emulator (shared/UPSTREAM.md §1, §3, §4): one
 * node:http server with the 19 endpoints (`POST /{path}`), the dev endpoints
 * under `/_emulator` (listed in dev.ts) and the push websocket on `/ws`.
 * State lives in memory, and with `stateFile` also in that file (section
 * `account`, saved after every call that is not a GET). Dev and test only.
 */

export interface AccountEmulatorOptions {
  /** Port to listen on. Default 0 (a free port). */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Where delivered codes (info `code delivered`) and debug lines go. Default: stdout at info. */
  logger?: Logger;
  /** Interval of websocket pings. Default 30000 (shared/UPSTREAM.md §1). */
  pingIntervalMs?: number;
  /**
   * How long a new socket's events wait for its first frame (`{ resume_after }`)
   * before they flow; any first frame ends the wait. Default 5000.
   */
  resumeWindowMs?: number;
  /** Where state is kept across restarts; loaded at start. Default none: memory only (tests). */
  stateFile?: EmulatorStateFile;
}

export interface AccountEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Stops the server and terminates every socket. */
  close(): Promise<void>;
}

const DEV_PREFIX = '/_emulator/';
/** The inbox page runs only its own inline script, which reads `/_emulator/messages`. */
const INBOX_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
  'cache-control': 'no-store',
};

async function handleRequest(state: EmulatorState, req: IncomingMessage, res: ServerResponse, fallbackHost: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  if (url.pathname === INBOX_PATH) {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
    return sendText(res, 200, 'text/html; charset=utf-8', inboxPage(), INBOX_HEADERS);
  }
  if (url.pathname.startsWith(DEV_PREFIX)) {
    const parsed = await readJsonBody(req);
    if (!parsed.ok) return sendJson(res, parsed.status, { error: parsed.error });
    const answer = handleDev(state, req.method ?? 'GET', url.pathname.slice(DEV_PREFIX.length), parsed.body, url.searchParams);
    return sendJson(res, answer.status, answer.body);
  }
  return handleApiRequest(state, req, res, url.pathname.slice(1), fallbackHost);
}

export async function startAccountEmulator(options: AccountEmulatorOptions = {}): Promise<AccountEmulator> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? createLogger({ bindings: { component: 'account-emulator' } });
  const state = new EmulatorState(logger, {
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
    // Long enough for a busy client's first frame (the gateway sends one at once): a `resume_after` that came after live events had gone out could not replay in order.
    resumeWindowMs: options.resumeWindowMs ?? 5000,
  });
  const { stateFile } = options;
  const changed = stateFile ? await stateFile.attach('account', accountSection(state)) : () => {};
  let fallbackHost = host;
  const server = createServer((req, res) => {
    handleRequest(state, req, res, fallbackHost).then(() => {
      if (req.method !== 'GET') changed();
    }, (error: unknown) => {
      logger.error('account emulator request failed', { error });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => handleUpgrade(state, req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  fallbackHost = `${urlHost}:${port}`;
  logger.info('account emulator listening', { url: `http://${fallbackHost}` });
  return {
    url: `http://${fallbackHost}`,
    port,
    close: async () => {
      state.push.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stateFile?.flush();
    },
  };
}
