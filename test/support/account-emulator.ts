import { afterAll, beforeAll, expect } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/infra/logger.js';
import { startAccountEmulator, type AccountEmulator } from '../../src/emulator/account/server.js';

/**
 * The bundled Account API emulator (shared/UPSTREAM.md §1, §3, §4) on a free
 * port for one test file, spoken to directly over its wire: no gateway.
 */

export interface Envelope {
  state: number;
  data: any;
}

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
  /** Every log line of the emulator so far (JSON texts). */
  readonly logLines: readonly string[];
  /** POSTs `body` to an Account API path and answers its envelope (the HTTP status must be 200). */
  call(path: string, body?: Record<string, unknown>, token?: string): Promise<Envelope>;
  /** Calls a dev route under `/_emulator/` (the HTTP status must be 200). */
  dev(method: string, name: string, body?: unknown): Promise<any>;
  /** The latest code delivered to `to` for `purpose`. */
  lastCode(to: string, purpose: string): Promise<string>;
  uniqueEmail(): string;
  uniquePhone(): string;
  /** Registers with an e-mail, verifies, and answers the user id, session token and e-mail. */
  signUp(password?: string): Promise<{ userId: string; token: string; email: string }>;
  /** Opens the push socket of a session; `first` is sent as the first frame. */
  openSocket(token: string, first?: unknown): Promise<Socket>;
  /** Tries to open a socket with a ticket; answers the HTTP status of a refusal, or 101. */
  tryTicket(url: string, ticket: string): Promise<number>;
}

/** Starts an Account API emulator before the file's tests and closes it after them. */
export function useAccountEmulator(): AccountEmulatorHandle {
  let emulator: AccountEmulator | undefined;
  const logLines: string[] = [];
  let counter = 0;

  beforeAll(async () => {
    emulator = await startAccountEmulator({
      logger: createLogger({ level: 'info', write: (line) => logLines.push(line) }),
      pingIntervalMs: 200,
      resumeWindowMs: 100,
    });
  });

  afterAll(async () => {
    await emulator?.close();
  });

  const running = (): AccountEmulator => {
    if (!emulator) throw new Error('The Account API emulator is not running yet (use it inside a test or hook).');
    return emulator;
  };

  async function call(path: string, body: Record<string, unknown> = {}, token?: string): Promise<Envelope> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${running().url}/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Envelope;
  }

  async function dev(method: string, name: string, body?: unknown): Promise<any> {
    const res = await fetch(`${running().url}/_emulator/${name}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  async function lastCode(to: string, purpose: string): Promise<string> {
    const messages = (await dev('GET', `messages?to=${encodeURIComponent(to)}`)) as Array<{ purpose: string; code: string }>;
    const code = messages.filter((m) => m.purpose === purpose).at(-1)?.code;
    expect(code).toMatch(/^\d{6}$/);
    return code!;
  }

  function uniqueEmail(): string {
    counter += 1;
    return `user${counter}-${Date.now()}@example.com`;
  }

  function uniquePhone(): string {
    counter += 1;
    return `+1555${String(Date.now() % 1_000_000).padStart(6, '0')}${String(counter).padStart(2, '0')}`;
  }

  async function signUp(password = 'secret-1'): Promise<{ userId: string; token: string; email: string }> {
    const email = uniqueEmail();
    const reg = await call('user/auth/registration', { email, password, name: 'Ann' });
    expect(reg.state).toBe(200);
    const verified = await call('user/auth/verify', { user_id: reg.data, email_code: await lastCode(email, 'registration') });
    expect(verified.state).toBe(200);
    return { userId: reg.data as string, token: verified.data.session.token as string, email };
  }

  async function openSocket(token: string, first?: unknown): Promise<Socket> {
    const ticket = await call('user/auth/websocket', {}, token);
    expect(ticket.state).toBe(200);
    const ws = new WebSocket(`${ticket.data.url}?ticket=${ticket.data.ticket}`);
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
      return running();
    },
    logLines,
    call,
    dev,
    lastCode,
    uniqueEmail,
    uniquePhone,
    signUp,
    openSocket,
    tryTicket,
  };
}
