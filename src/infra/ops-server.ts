import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

/**
 * The operations server on METRICS_PORT (loopback unless METRICS_HOST says
 * otherwise): `GET /metrics` (Prometheus text format), `/health` and
 * `/readiness`. It stays up while the public port drains, so probes and the
 * last scrape still get an answer, and closes last.
 */
export interface OpsServer {
  start(port: number, host: string): Promise<{ url: string }>;
  close(): Promise<void>;
}

export function createOpsServer(metrics: Metrics, readiness: Readiness): OpsServer {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readiness') {
      void readiness.respond(res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: /metrics, /health and /readiness live here.\n');
    }
  });
  server.keepAliveTimeout = 5000;
  return {
    start: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const bound = (server.address() as AddressInfo).port;
          resolve({ url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
