import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EmulatorState } from './state.js';

/**
 * The websocket handshake on `/ws?ticket=…`. The ticket (from
 * `user/auth/websocket`) is used up by the attempt; an unknown, used or
 * expired ticket, or one whose session has ended, is refused with HTTP 401.
 */
export const PUSH_PATH = '/ws';

function refuse(socket: Duplex, status: number, error: string): void {
  const body = JSON.stringify({ error });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function handleUpgrade(state: EmulatorState, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', (error) => state.logger.debug('upgrade socket error', { error }));
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  if (url.pathname !== PUSH_PATH) return refuse(socket, 404, 'not found');
  const ticket = url.searchParams.get('ticket');
  const sessionToken = ticket === null ? undefined : state.tickets.take(ticket);
  const session = sessionToken === undefined ? null : state.sessions.resolve(sessionToken);
  if (!session) return refuse(socket, 401, 'invalid or expired ticket');
  state.push.accept(req, socket, head, session);
}
