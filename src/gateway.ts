import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type YogaLogger } from 'graphql-yoga';
import { useBadUserInputCode } from './bad-user-input.js';
import type { Config } from './config.js';
import { createContext, type Services } from './context.js';
import type { Logger } from './logger.js';
import { schema } from './schema/index.js';
import { AccountClient } from './upstream/account/client.js';

export interface GatewayOptions {
  logger: Logger;
}

export interface Gateway {
  readonly services: Services;
  readonly server: Server;
  /** Listens on `port` (0 = a free one) and resolves with the GraphQL URL. */
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, ends open connections and closes upstream pools. */
  stop(): Promise<void>;
}

/**
 * The gateway app: one HTTP server with yoga at `/graphql` (queries,
 * mutations, GraphiQL). `config.ACCOUNT_API_URL` must be set; src/main.ts
 * points it at the bundled emulator when the environment leaves it unset.
 */
export function createGateway(config: Config, { logger }: GatewayOptions): Gateway {
  if (!config.ACCOUNT_API_URL) throw new Error('createGateway needs ACCOUNT_API_URL');
  const upstream = {
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    maxBodyBytes: config.UPSTREAM_MAX_BODY_BYTES,
    connections: config.UPSTREAM_CONNECTIONS,
  };
  const services: Services = {
    config,
    logger,
    account: new AccountClient({ ...upstream, baseUrl: config.ACCOUNT_API_URL, logger: logger.child({ upstream: 'account' }) }),
  };

  const yoga = createYoga<{ req: IncomingMessage }>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ req, request }) => createContext(services, req, request.headers),
    maskedErrors: { isDev: false },
    logging: yogaLogger(logger.child({ component: 'yoga' })),
    landingPage: false,
    graphiql: { title: 'Account & Dating gateway' },
    renderGraphiQL,
    plugins: [useBadUserInputCode()],
  });

  const server = createServer(yoga);
  return {
    services,
    server,
    start: (port = config.PORT, host = config.HOST) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const bound = (server.address() as AddressInfo).port;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve({ url: `http://${shownHost}:${bound}/graphql`, port: bound });
        });
      }),
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await services.account.close();
    },
  };
}

/** Yoga's own log calls, into the gateway's logger (messages only: never request bodies). */
function yogaLogger(logger: Logger): YogaLogger {
  const describe = (args: unknown[]) => {
    const [first, ...rest] = args;
    const msg = first instanceof Error ? `${first.name}: ${first.message}` : String(first);
    return { msg, extra: rest.length ? { details: rest.map((r) => (r instanceof Error ? r.name : typeof r)) } : undefined };
  };
  return {
    debug: (...args) => { const { msg, extra } = describe(args); logger.debug(msg, extra); },
    info: (...args) => { const { msg, extra } = describe(args); logger.info(msg, extra); },
    warn: (...args) => { const { msg, extra } = describe(args); logger.warn(msg, extra); },
    error: (...args) => { const { msg, extra } = describe(args); logger.error(msg, extra); },
  };
}
