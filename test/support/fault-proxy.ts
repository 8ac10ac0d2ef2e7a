import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defer } from './harness.js';

/**
 * An HTTP proxy on a free loopback port in front of an emulator, to make an
 * upstream fail the ways a real one does: answer 500 (the next n requests,
 * in bursts, or all), hold requests without ever sending headers, or refuse
 * connections. Otherwise requests pass through untouched. It counts every
 * request that reached it, per path without the leading slash. Closed with
 * the harness's leftovers.
 */
export interface FaultProxy {
  url: string;
  /** Requests received per path (`user/get`), failed, held and passed ones alike. */
  counts(): Record<string, number>;
  count(path: string): number;
  resetCounts(): void;
  /** Answers the next `n` requests (of `path`, or any) with HTTP 500 and an HTML body. */
  fail(n: number, path?: string): void;
  /** Answers every request with HTTP 500 until `heal()`. */
  failAll(): void;
  /** Holds every request from now on, never sending headers, until `heal()`. */
  hang(): void;
  /** Back to passing requests through; held requests are passed on too. */
  heal(): void;
  /** Requests held right now. */
  readonly held: number;
  /** Held requests whose client went away before an answer (the gateway aborted them). */
  readonly abandoned: number;
  /** Stops listening and drops every connection: new connections are refused until `accept()`. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  close(): Promise<void>;
}

type Mode = 'pass' | 'fail' | 'hang';

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const counts = new Map<string, number>();
  const bursts: { path: string | undefined; left: number }[] = [];
  const held = new Set<{ req: IncomingMessage; res: ServerResponse }>();
  const sockets = new Set<Socket>();
  let mode: Mode = 'pass';
  let abandoned = 0;

  const pass = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const fail500 = (res: ServerResponse) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<html><body>Internal Server Error</body></html>');
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').replace(/^\/+/, '').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const burst = bursts.find((b) => b.left > 0 && (b.path === undefined || b.path === path));
    if (burst) {
      burst.left -= 1;
      return fail500(res);
    }
    if (mode === 'fail') return fail500(res);
    if (mode === 'hang') {
      const entry = { req, res };
      held.add(entry);
      res.on('close', () => {
        if (held.delete(entry) && !res.writableEnded) abandoned += 1;
      });
      return;
    }
    pass(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const { port } = server.address() as AddressInfo;

  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const close = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    dropAll();
    await closed;
  };
  defer(close);
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => Object.fromEntries(counts),
    count: (path) => counts.get(path) ?? 0,
    resetCounts: () => counts.clear(),
    fail: (n, path) => void bursts.push({ path, left: n }),
    failAll: () => void (mode = 'fail'),
    hang: () => void (mode = 'hang'),
    heal: () => {
      mode = 'pass';
      bursts.length = 0;
      for (const entry of [...held]) {
        held.delete(entry);
        pass(entry.req, entry.res);
      }
    },
    get held() {
      return held.size;
    },
    get abandoned() {
      return abandoned;
    },
    refuse: close,
    accept: () => listen(port),
    close,
  };
}
