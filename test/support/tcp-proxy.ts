import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { defer } from './harness.js';

/**
 * A TCP proxy on a free loopback port in front of the Account emulator, to
 * make its push socket misbehave in ways the emulator cannot: `freeze()`
 * stops forwarding on the open websocket connections without closing them
 * (a half-open link), and `refuseWebsockets` drops every `GET /ws` handshake.
 * HTTP passes through untouched. The emulator builds the socket URL of a
 * ticket from the Host header, so a gateway pointed at the proxy also opens
 * its push sockets through it. Closed with the harness's leftovers.
 */
export interface TcpProxy {
  url: string;
  /** Websocket handshakes dropped so far (`refuseWebsockets`). */
  readonly refused: number;
  /** Stops forwarding on every open websocket connection, in both directions. */
  freeze(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string, options: { refuseWebsockets?: boolean } = {}): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<{ client: Socket; upstream: Socket; websocket: boolean }>();
  let refused = 0;
  const server = createServer((client) => {
    client.on('error', () => undefined);
    client.once('data', (first: Buffer) => {
      const websocket = first.toString('latin1').startsWith('GET /ws');
      if (websocket && options.refuseWebsockets) {
        refused += 1;
        client.destroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      upstream.on('error', () => client.destroy());
      const pair = { client, upstream, websocket };
      pairs.add(pair);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      const forget = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', forget);
      upstream.on('close', forget);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());
  defer(close);
  return {
    url: `http://127.0.0.1:${port}`,
    get refused() {
      return refused;
    },
    freeze() {
      for (const { client, upstream, websocket } of pairs) {
        if (!websocket) continue;
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close,
  };
}

/** A loopback port that nothing listens on (an upstream that refuses connections). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
