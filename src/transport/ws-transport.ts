import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, handleProtocols, type Server as ProtocolServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../infra/logger.js';

/** What graphql-ws's context carries per socket (as graphql-ws/use/ws has it). */
export interface Extra {
  readonly socket: WebSocket;
  /** The HTTP upgrade request. */
  readonly request: IncomingMessage;
}

export interface WsTransportOptions {
  path: string;
  /** Largest message accepted; `ws` closes the socket with 1009 beyond it. */
  maxPayload: number;
  /** Ping interval; a socket without a pong by the next ping is terminated. 0 disables. */
  keepAliveMs: number;
  /** Whether a browser page of this `Origin` may open a socket (src/infra/origins.ts); refused ones get 403. */
  allowsOrigin: (origin: string | undefined, host: string | undefined) => boolean;
  /** Open sockets per client address at most (`addressOf`); one more upgrade is answered 429. 0: no cap. */
  maxSocketsPerAddress: number;
  /** The client address an upgrade counts under (its /64 for IPv6). */
  addressOf: (request: IncomingMessage) => string;
  logger: Logger;
}

export interface WsTransport {
  readonly sockets: ReadonlySet<WebSocket>;
  /** New upgrades are answered 503 from now on. */
  stopAccepting(): void;
  /** Closes every socket with `code`, terminates the ones still open after `graceMs`, detaches from the server. */
  close(code: number, reason: string, graceMs: number): Promise<void>;
}

/**
 * The `ws` side of graphql-ws on the gateway's HTTP server: the upgrade on
 * one path, the subprotocol, keep-alive pings and the glue to the protocol
 * server (`makeServer`). It follows graphql-ws/use/ws, but errors go to the
 * gateway's logger instead of the console (a client sending an oversized
 * message is routine, not an internal error) and never reach the client.
 */
export function attachWebSocket(
  server: Server,
  protocol: ProtocolServer<Extra>,
  options: WsTransportOptions,
): WsTransport {
  const { logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, handleProtocols: (protocols) => handleProtocols(protocols) });
  let accepting = true;
  /** Sockets open or being upgraded, per client address. */
  const perAddress = new Map<string, number>();
  let refusedForAddress = 0;
  const release = (address: string) => {
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left > 0) perAddress.set(address, left);
    else perAddress.delete(address);
  };

  const refuse = (socket: Duplex, status: string, extra = '') => {
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://gateway.invalid').pathname;
    if (pathname !== options.path) return refuse(socket, '404 Not Found');
    if (!accepting) return refuse(socket, '503 Service Unavailable', 'Retry-After: 1\r\n');
    if (!options.allowsOrigin(req.headers.origin, req.headers.host)) return refuse(socket, '403 Forbidden');
    const address = options.addressOf(req);
    const open = perAddress.get(address) ?? 0;
    if (options.maxSocketsPerAddress > 0 && open >= options.maxSocketsPerAddress) {
      refusedForAddress += 1;
      // Once per hundred: a client hammering the cap must not flood the log.
      if (refusedForAddress % 100 === 1) logger.warn('graphql-ws upgrade refused: too many sockets from one address', { limit: options.maxSocketsPerAddress, refused: refusedForAddress });
      return refuse(socket, '429 Too Many Requests', 'Retry-After: 5\r\n');
    }
    perAddress.set(address, open + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      release(address);
    };
    socket.once('close', uncount);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', uncount);
      wss.emit('connection', ws, req);
    });
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', (error: Error & { code?: string }) => {
      // `ws` closes the socket itself (1009 too big, 1002 bad frame); nothing else to do.
      logger.info('graphql-ws socket error', { error: error.code ?? error.name });
    });
    let alive = true;
    socket.on('pong', () => (alive = true));
    const keepAlive = options.keepAliveMs > 0
      ? setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, options.keepAliveMs)
      : undefined;
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data: Buffer) => {
            try {
              await handle(String(data));
            } catch (error) {
              logger.error('graphql-ws message handling failed', { error: error instanceof Error ? error.name : 'unknown' });
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      closed(code, String(reason)).catch((error: Error) => logger.error('graphql-ws close handling failed', { error: error.name }));
    });
  });

  return {
    sockets: wss.clients,
    stopAccepting: () => {
      accepting = false;
    },
    close: async (code, reason, graceMs) => {
      accepting = false;
      for (const socket of wss.clients) socket.close(code, reason);
      const timeout = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, graceMs);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      clearTimeout(timeout);
      server.off('upgrade', onUpgrade);
    },
  };
}
