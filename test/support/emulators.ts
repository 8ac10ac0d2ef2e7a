import { beforeAll, expect } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/infra/logger.js';
import { startAccountEmulator, type AccountEmulator, type AccountEmulatorOptions } from '../../src/emulator/account/server.js';
import { startDatingEmulator, type DatingEmulator } from '../../src/emulator/dating/server.js';
import type { DatingSiteEmulation } from '../../src/emulator/dating/sites.js';
import type { EmulatedDatingUser } from '../../src/emulator/dating/store.js';
import { defer, rememberSecret, silentLogger, waitUntil } from './harness.js';

/**
 * The bundled emulators of both backends (shared/UPSTREAM.md) on free ports,
 * disposed with the harness's leftovers, and clients of their wire and of
 * their dev routes (`/_emulator/...`).
 */

/** Starts an Account API emulator on a free port; closed with the leftovers. */
export async function startAccountEmulatorForTests(options: Omit<AccountEmulatorOptions, 'port'> = {}): Promise<AccountEmulator> {
  const emulator = await startAccountEmulator({ port: 0, logger: silentLogger, ...options });
  defer(() => emulator.close());
  return emulator;
}

/** Starts a Dating API emulator with `sites` on a free port; closed with the leftovers. */
export async function startDatingEmulatorForTests(sites: DatingSiteEmulation[]): Promise<DatingEmulator> {
  const emulator = await startDatingEmulator({ port: 0, sites, logger: silentLogger });
  defer(() => emulator.close());
  return emulator;
}

/** An Account API answer: `{ state, data }` (shared/UPSTREAM.md §1). */
export interface Envelope {
  state: number;
  data: any;
}

export interface OutboxMessage {
  to: string;
  channel: 'email' | 'phone';
  purpose: 'registration' | 'contact_change' | 'recovery' | 'deletion';
  code: string;
  at: string;
}

/** The Account API emulator over its wire and its dev routes. */
export class AccountEmulatorClient {
  constructor(readonly url: string) {}

  /** POSTs `body` to an Account API path and answers its envelope (the HTTP status must be 200). */
  async call(path: string, body: Record<string, unknown> = {}, token?: string): Promise<Envelope> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${this.url}/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Envelope;
  }

  /** Calls a dev route under `/_emulator/` (the HTTP status must be 200). */
  async dev(method: string, name: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.url}/_emulator/${name}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  async messages(): Promise<OutboxMessage[]> {
    const res = await fetch(`${this.url}/_emulator/messages`);
    return (await res.json()) as OutboxMessage[];
  }

  /** The newest code sent to `to` for `purpose`, remembered as a secret. */
  async code(to: string, purpose: OutboxMessage['purpose']): Promise<string> {
    const found = (await this.messages()).filter((m) => m.to === to && m.purpose === purpose).at(-1);
    if (!found) throw new Error(`no ${purpose} code was sent to ${to}`);
    rememberSecret(found.code);
    return found.code;
  }

  /** POSTs to a dev route; answers its JSON, or nothing for a 204. */
  async post(path: string, body: unknown = {}): Promise<unknown> {
    const res = await fetch(`${this.url}/_emulator/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`/_emulator/${path} answered ${res.status}`);
    return res.status === 204 ? undefined : res.json();
  }

  async calls(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.url}/_emulator/calls`)).json()) as Record<string, number>;
  }

  async resetCalls() {
    await fetch(`${this.url}/_emulator/calls`, { method: 'DELETE' });
  }

  /** The open push sockets per user id. */
  async sockets(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.url}/_emulator/sockets`)).json()) as Record<string, number>;
  }
}

/** The Dating emulator's dev endpoints (shared/UPSTREAM.md §4). */
export class DatingEmulatorClient {
  constructor(readonly emulator: DatingEmulator) {}

  async users(site?: string): Promise<EmulatedDatingUser[]> {
    const query = site === undefined ? '' : `?site=${encodeURIComponent(site)}`;
    return (await (await fetch(`${this.emulator.url}/_emulator/users${query}`)).json()) as EmulatedDatingUser[];
  }

  /** Requests received per site. */
  async requests(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.emulator.url}/_emulator/requests`)).json()) as Record<string, number>;
  }

  async outage(site: string, status: 500 | 503 | null): Promise<void> {
    const res = await fetch(`${this.emulator.url}/_emulator/outage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ site, status }) });
    if (!res.ok) throw new Error(`/_emulator/outage answered ${res.status}`);
  }

  async reset(): Promise<void> {
    await fetch(`${this.emulator.url}/_emulator/reset`, { method: 'POST' });
  }
}

/** The emulator's open push sockets per user id. */
export function emulatorSockets(emulatorUrl: string): Promise<Record<string, number>> {
  return new AccountEmulatorClient(emulatorUrl).sockets();
}

/** The user's open push sockets on the emulator now. */
export async function pushSockets(emulatorUrl: string, userId: string): Promise<number> {
  return (await emulatorSockets(emulatorUrl))[userId] ?? 0;
}

/** Waits until the user has exactly `count` open push sockets on the emulator. */
export function socketsOf(emulatorUrl: string, userId: string, count: number, ms?: number) {
  return waitUntil(async () => (await pushSockets(emulatorUrl, userId)) === count, `${count} push sockets of a user`, ms);
}

/**
 * Waits until the gateway holds more than `before` push sockets of the user on
 * the emulator: a subscription of theirs is live from then on.
 */
export function pushSocketsAbove(emulatorUrl: string, userId: string, before = 0, ms?: number) {
  return waitUntil(async () => (await pushSockets(emulatorUrl, userId)) > before, 'a push socket of the user', ms);
}

/** A frame of the Account API's push socket. */
export interface Frame {
  id: string;
  event: string;
  at: string;
  data: any;
}

export interface Socket {
  ws: WebSocket;
  frames: Frame[];
  next(): Promise<Frame>;
  closed: Promise<number>;
}

export interface AccountEmulatorHandle {
  /** The running emulator; set once `beforeAll` has run. */
  readonly emulator: AccountEmulator;
  /** Its wire and dev routes. */
  readonly client: AccountEmulatorClient;
  /** Every log line of the emulator so far (JSON texts). */
  readonly logLines: readonly string[];
  /** POSTs `body` to an Account API path and answers its envelope (the HTTP status must be 200). */
  call(path: string, body?: Record<string, unknown>, token?: string): Promise<Envelope>;
  /** Calls a dev route under `/_emulator/` (the HTTP status must be 200). */
  dev(method: string, name: string, body?: unknown): Promise<any>;
  /** The latest code delivered to `to` for `purpose`. */
  lastCode(to: string, purpose: string): Promise<string>;
  /** Opens the push socket of a session; `first` is sent as the first frame. */
  openSocket(token: string, first?: unknown): Promise<Socket>;
  /** Tries to open a socket with a ticket; answers the HTTP status of a refusal, or 101. */
  tryTicket(url: string, ticket: string): Promise<number>;
}

/**
 * The Account API emulator for one test file, spoken to directly over its
 * wire: no gateway. Started before the file's tests; closed with the leftovers.
 */
export function useAccountEmulator(): AccountEmulatorHandle {
  let emulator: AccountEmulator | undefined;
  let client: AccountEmulatorClient | undefined;
  const logLines: string[] = [];

  beforeAll(async () => {
    emulator = await startAccountEmulatorForTests({
      logger: createLogger({ level: 'info', write: (line) => logLines.push(line) }),
      // A socket that misses one pong is ended: no test here needs that soon, and a busy machine may pong late.
      pingIntervalMs: 5000,
      resumeWindowMs: 100,
    });
    client = new AccountEmulatorClient(emulator.url);
  });

  const running = (): { emulator: AccountEmulator; client: AccountEmulatorClient } => {
    if (!emulator || !client) throw new Error('The Account API emulator is not running yet (use it inside a test or hook).');
    return { emulator, client };
  };

  async function lastCode(to: string, purpose: string): Promise<string> {
    const messages = (await running().client.dev('GET', `messages?to=${encodeURIComponent(to)}`)) as Array<{ purpose: string; code: string }>;
    const code = messages.filter((m) => m.purpose === purpose).at(-1)?.code;
    expect(code).toMatch(/^\d{6}$/);
    return code!;
  }

  async function openSocket(token: string, first?: unknown): Promise<Socket> {
    const ticket = await running().client.call('user/auth/websocket', {}, token);
    expect(ticket.state).toBe(200);
    const ws = new WebSocket(`${ticket.data.url}?ticket=${ticket.data.ticket}`);
    defer(() => ws.terminate());
    const frames: Frame[] = [];
    const waiters: Array<(frame: Frame) => void> = [];
    let read = 0;
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      frames.push(frame);
      waiters.shift()?.(frame);
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (first !== undefined) ws.send(JSON.stringify(first));
    const next = () => {
      const index = read++;
      if (index < frames.length) return Promise.resolve(frames[index]!);
      return new Promise<Frame>((resolve) => waiters.push(resolve));
    };
    return { ws, frames, next, closed };
  }

  function tryTicket(url: string, ticket: string): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${url}?ticket=${ticket}`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        resolve(101);
        ws.terminate();
      });
      ws.on('error', () => undefined);
    });
  }

  return {
    get emulator() {
      return running().emulator;
    },
    get client() {
      return running().client;
    },
    logLines,
    call: (path, body, token) => running().client.call(path, body, token),
    dev: (method, name, body) => running().client.dev(method, name, body),
    lastCode,
    openSocket,
    tryTicket,
  };
}
