import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP load balancer on a free loopback port, as in front of a fleet of
 * gateways: each new connection goes to the current target (`pointAt`), so a
 * client's reconnect after an instance died or was drained lands on another.
 * A connection to a target that refuses is closed at once, as a real
 * balancer with a dead backend would (the client sees a refused socket).
 */
export interface Balancer {
  /** `http://127.0.0.1:<port>/graphql`. */
  url: string;
  /** Connections taken so far (refused ones too). */
  readonly connections: number;
  pointAt(targetUrl: string): void;
  close(): Promise<void>;
}

export async function startBalancer(targetUrl: string): Promise<Balancer> {
  let target = new URL(targetUrl);
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections += 1;
    open.add(client);
    client.on('error', () => undefined);
    const upstream = connect(Number(target.port), target.hostname);
    open.add(upstream);
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    const forget = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', forget);
    upstream.on('close', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    get connections() {
      return connections;
    },
    pointAt: (url) => {
      target = new URL(url);
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
