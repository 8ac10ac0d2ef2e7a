import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { createYoga, maskError, type Plugin, type YogaLogger, type YogaMaskedErrorOpts } from 'graphql-yoga';
import type { Config } from './config.js';
import { documentCaches } from './infra/byte-budget-cache.js';
import { HttpDrain } from './infra/http-drain.js';
import { bindingPort } from './infra/listen.js';
import type { Logger } from './infra/logger.js';
import { Metrics } from './infra/metrics.js';
import { createOpsServer } from './infra/ops-server.js';
import { corsFor, OriginPolicy } from './infra/origins.js';
import { requestIdOf } from './infra/request-id.js';
import { enterScope, RequestScope, scopeOf } from './infra/request-scope.js';
import type { Tracing } from './infra/tracing.js';
import { useAccessLog, writeAccessLine } from './plugins/useAccessLog.js';
import { useBadUserInputCode } from './plugins/useBadUserInputCode.js';
import { useTracing } from './plugins/useTracing.js';
import { useGraphqlSse } from './plugins/useGraphqlSse.js';
import { useMultipartSubscriptions } from './plugins/useMultipartSubscriptions.js';
import { useGraphiQL } from './plugins/useGraphiQL.js';
import { useJsonRequestsOnly } from './plugins/useJsonRequestsOnly.js';
import { useNoIntrospection } from './plugins/useNoIntrospection.js';
import { useOperationLimits } from './plugins/useOperationLimits.js';
import { useSseEventIds } from './plugins/useSseEventIds.js';
import { TrustedDocuments, useTrustedDocuments } from './plugins/useTrustedDocuments.js';
import { useCompiledExecution } from './plugins/useCompiledExecution.js';
import { useRequestBodyLimit } from './plugins/useRequestBodyLimit.js';
import { useValidationCache } from './plugins/useValidationCache.js';
import { createContext } from './schema/context.js';
import { schema } from './schema/index.js';
import { createServices, type Services } from './services.js';
import { renderTeachingGraphiQL, teachingGraphiQLOptions } from './transport/graphiql.js';
import { serveGraphqlWs } from './transport/graphql-ws.js';
import { createJsonLane } from './transport/json-lane.js';

export interface GatewayOptions {
  logger: Logger;
  /** OpenTelemetry (Tracing.start: null unless OTEL_EXPORTER_OTLP_ENDPOINT is set). Default off. */
  tracing?: Tracing | null;
  /** The embedded Account emulator's inbox of delivered codes, linked from GraphiQL's tabs. */
  inboxUrl?: string;
}

export interface Gateway {
  readonly services: Services;
  readonly server: Server;
  /** The lean lane of plain JSON POSTs (JSON_LANE), with the count of requests it took. */
  readonly jsonLane: { readonly served: number } | undefined;
  /**
   * Listens on `port` (0 = a free one) and the operations server on
   * METRICS_PORT; resolves with the GraphQL URL and the operations server's.
   * A port it cannot bind rejects with a PortUnavailableError naming PORT or
   * METRICS_PORT (src/infra/listen.ts), and leaves neither port bound.
   */
  start(port?: number, host?: string): Promise<{ url: string; port: number; opsUrl: string }>;
  /**
   * The drain: readiness turns 503 and no new connection is accepted at
   * once; subscriptions end; HTTP requests and graphql-ws operations in
   * flight get SHUTDOWN_GRACE_MS (together) to finish, then the rest are cut; then upstream pools, Redis and the
   * operations server close. Once, however often it is called.
   */
  stop(): Promise<void>;
}

/**
 * The gateway app: one HTTP server with yoga at `/graphql` (queries,
 * mutations, GraphiQL, subscriptions over SSE in both of graphql-sse's modes
 * and over Apollo's multipart HTTP) and graphql-ws on the same path.
 * `config.ACCOUNT_API_URL` must be set; src/main.ts points it at the bundled
 * emulator when the environment leaves it unset.
 */
export function createGateway(config: Config, { logger, tracing = null, inboxUrl }: GatewayOptions): Gateway {
  if (!config.ACCOUNT_API_URL) throw new TypeError('createGateway needs ACCOUNT_API_URL (src/main.ts sets it to the bundled emulator when unset)');
  /** TRUSTED_DOCUMENTS: the manifest of runnable documents (checked at start). */
  const trusted = config.TRUSTED_DOCUMENTS ? TrustedDocuments.load() : undefined;
  // Operations of the first-party apps get their own metric label; any other name is `other`.
  const metrics = new Metrics({ operationNames: (trusted ?? TrustedDocuments.load()).operationNames() });
  const { services, ready: servicesReady, close: closeServices } = createServices({ ...config, ACCOUNT_API_URL: config.ACCOUNT_API_URL }, logger, { metrics, tracing });
  const { readiness } = services;

  // GraphiQL opens with the onboarding flow as tabs (src/transport/graphiql.ts).
  const graphiql = { ...teachingGraphiQLOptions({ title: 'Account & Dating gateway', inboxUrl }), subscriptionsProtocol: 'SSE' as const };
  // One list for both paths: yoga's, and the JSON lane in front of it (it runs these plugins' HTTP hooks too).
  const plugins = [
    useAccessLog({ metrics }),
    useJsonRequestsOnly(),
    useSseEventIds(),
    // GraphiQL subscribes over SSE: its headers tab (Authorization) travels only
    // with HTTP requests; over graphql-ws its connection_init is empty and the
    // socket is refused (test/graphiql.browser.test.ts runs accountEvents in it).
    config.GRAPHIQL && useGraphiQL({ render: () => renderTeachingGraphiQL(graphiql) }),
    !config.INTROSPECTION && useNoIntrospection(),
    !config.FIELD_SUGGESTIONS && (blockFieldSuggestionsPlugin({ mask: '' }) as Plugin),
    useBadUserInputCode({ suggestions: config.FIELD_SUGGESTIONS }),
    useOperationLimits({
      maxTokens: config.OPERATION_MAX_TOKENS,
      maxDepth: config.OPERATION_MAX_DEPTH,
      maxAliases: config.OPERATION_MAX_ALIASES,
      maxDirectives: config.OPERATION_MAX_DIRECTIVES,
      maxCost: config.OPERATION_MAX_COST,
      maxMutationFields: config.OPERATION_MAX_MUTATIONS,
    }),
    trusted && useTrustedDocuments(trusted),
    useCompiledExecution(),
    useRequestBodyLimit(config.REQUEST_MAX_BODY_BYTES),
    // Subscriptions over HTTP beside yoga's SSE: Apollo Client's multipart, and graphql-sse's
    // single connection mode (raw queries only, so not with TRUSTED_DOCUMENTS).
    useMultipartSubscriptions({ heartbeatMs: config.SUBSCRIPTIONS_KEEPALIVE_MS }),
    !trusted &&
      useGraphqlSse({
        maxPendingReservations: config.SUBSCRIPTIONS_SSE_PENDING_STREAMS,
        reservationTimeoutMs: config.SUBSCRIPTIONS_SSE_RESERVATION_TIMEOUT_MS,
        maxBodyBytes: config.REQUEST_MAX_BODY_BYTES,
      }),
    // After useCompiledExecution: the operation span wraps whichever executor runs.
    tracing && useTracing(tracing),
    // Last: after every plugin that adds a validation rule.
    useValidationCache(),
  ].filter((plugin): plugin is Plugin => Boolean(plugin));
  // yoga's own masking, given to yoga and to the JSON lane (for the errors it answers itself).
  const maskedErrors: YogaMaskedErrorOpts = { maskError, errorMessage: 'Unexpected error.', isDev: false };
  const yoga = createYoga<{ req: IncomingMessage }>({
    schema,
    graphqlEndpoint: '/graphql',
    context: (initial) => createContext(services, initial),
    maskedErrors,
    logging: yogaLogger(logger.child({ component: 'yoga' })),
    landingPage: false,
    cors: corsFor(new OriginPolicy(config.CORS_ORIGINS)),
    // yoga's built-ins switched off, each for the plugin above that does its work (the reason in each plugin's header):
    // useRequestBodyLimit (yoga's pipes every body through a counting stream, also one whose Content-Length node:http enforces),
    maxRequestBodySize: false,
    // useJsonRequestsOnly (no uploads: a multipart POST is refused with 415 before any parser),
    multipart: false,
    parserAndValidationCache: {
      // yoga's own parse cache, given caches bounded by bytes (lru-cache) in place of its 1,024 entries of any size;
      ...documentCaches(config.DOCUMENT_CACHE_MAX_BYTES),
      // useValidationCache (yoga's joins the rules' names into its key on every request),
      validationCache: false,
    },
    // useGraphiQL (yoga's renders the 9 MB page on every request, uncompressed and without an ETag).
    graphiql: false,
    plugins,
  });

  // Plain JSON POSTs take the lean lane through the same yoga (src/transport/json-lane.ts); the rest is yoga's.
  const jsonLane = config.JSON_LANE ? createJsonLane(yoga, { endpoint: '/graphql', maxBodyBytes: config.REQUEST_MAX_BODY_BYTES, plugins, maskedErrors, logger: logger.child({ component: 'json-lane' }) }) : undefined;

  const accessLog = { logger: logger.child({ component: 'access' }), metrics };
  const server = createServer((req, res) => {
    const id = requestIdOf(req, config.TRUSTED_PROXIES);
    res.setHeader('x-request-id', id);
    enterScope(req, new RequestScope(id));
    drain.track(req, res);
    if (tracing) tracing.http(req, res, () => route(req, res));
    else route(req, res);
  });
  const route = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/readiness' || req.url?.startsWith('/readiness?')) void readiness.respond(res);
    else if (!jsonLane?.take(req, res)) void yoga(req, res);
  };
  const drain = new HttpDrain(server, {
    started: () => metrics.httpRequestStarted(),
    // The access line once the response has ended (an SSE stream: when it closes).
    ended: (req, res) => {
      metrics.httpRequestEnded();
      const scope = scopeOf(req);
      if (scope) writeAccessLine(accessLog, scope, res.statusCode);
    },
  });
  const ops = createOpsServer(metrics, readiness);
  // Subscriptions over graphql-ws on the same port and path (SSE is yoga's own).
  const graphqlWs = serveGraphqlWs(server, yoga, services, {
    documentFor: trusted && ((payload) => trusted.documentFor(payload)),
    accessLog,
    socketIdOf: (req) => requestIdOf(req, config.TRUSTED_PROXIES),
  });

  const stop = async () => {
    readiness.startDraining();
    // One grace for both, at once: HTTP requests and graphql-ws queries and
    // mutations in flight get SHUTDOWN_GRACE_MS to be answered. No
    // subscription completes: graphql-ws sockets close with 1012 and the
    // drain cuts SSE streams, so clients resume elsewhere with `after` (or
    // Last-Event-ID); then the upstream sockets and the bus close.
    const [{ cut }] = await Promise.all([drain.drain(config.SHUTDOWN_GRACE_MS), graphqlWs.close(config.SHUTDOWN_GRACE_MS)]);
    if (cut > 0) logger.warn('shutdown grace over: requests still in flight were cut', { cut, graceMs: config.SHUTDOWN_GRACE_MS });
    await closeServices();
    await ops.close();
  };
  let stopping: Promise<void> | undefined;
  return {
    services,
    server,
    jsonLane,
    start: async (port = config.PORT, host = config.HOST) => {
      await servicesReady();
      const bound = await bindingPort({ port: 'PORT', host: 'HOST' }, port, host, () =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          // A deep accept queue: a reconnect storm arrives faster than accept() runs, and an overflowing queue resets connections.
          server.listen({ port, host, backlog: config.LISTEN_BACKLOG }, () => {
            server.off('error', reject);
            resolve((server.address() as AddressInfo).port);
          });
        }),
      );
      let opsUrl: string;
      try {
        ({ url: opsUrl } = await bindingPort({ port: 'METRICS_PORT', host: 'METRICS_HOST' }, config.METRICS_PORT, config.METRICS_HOST, () =>
          ops.start(config.METRICS_PORT, config.METRICS_HOST),
        ));
      } catch (error) {
        // Not half started: the public port is free again.
        await new Promise((resolve) => server.close(resolve));
        throw error;
      }
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      return { url: `http://${shownHost}:${bound}/graphql`, port: bound, opsUrl };
    },
    // Once, however often it is called.
    stop: () => (stopping ??= stop()),
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
