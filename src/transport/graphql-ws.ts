import type { IncomingMessage, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { getOperationAST, GraphQLError, type ExecutionArgs } from 'graphql';
import { makeServer, type Context, type SubscribePayload } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Config } from '../config.js';
import { CLOSE } from '../domain/close-codes.js';
import { addressBlock, clientAddress } from '../infra/client-address.js';
import { sessionFromAuthorization } from '../schema/context.js';
import type { Services } from '../services.js';
import { Unauthenticated } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import { RepeatedWarnings } from '../infra/repeated-warnings.js';
import { sessionKey } from '../infra/session-key.js';
import { OriginPolicy } from '../infra/origins.js';
import { RequestScope } from '../infra/request-scope.js';
import { withRequestId, writeAccessLine, type AccessLogOptions } from '../plugins/useAccessLog.js';
import { attachWebSocket, type Extra } from './ws-transport.js';

/** An ended session's socket is closed this long after the end at the latest, when an operation of it has not completed by then. */
const SESSION_END_CLOSE_MS = 1000;
/** How long a client gets to answer the 1012 close at shutdown, at least, even when the grace is spent. */
const CLOSE_HANDSHAKE_MS = 1000;

/** `createYoga<{ req }>` of src/gateway.ts (`{}`: yoga's default user context). */
type GatewayYoga = YogaServerInstance<{ req: IncomingMessage }, {}>;
type Enveloped = ReturnType<GatewayYoga['getEnveloped']>;
type WsContext = Context<Record<string, unknown> | undefined, Extra>;

/** What the gateway keeps per socket. */
interface Connection {
  ctx: WsContext;
  userId: string;
  sessionKey: string;
  ended: boolean;
  /** Ids of the queries and mutations started on it (not subscriptions): a shutdown lets them finish. */
  requests: Set<string>;
}

export interface GraphqlWsServer {
  /** Open sockets. */
  readonly sockets: number;
  /**
   * Refuses new sockets, waits (at most `graceMs`: SHUTDOWN_GRACE_MS, the
   * grace HTTP requests get too) for running queries and mutations to be
   * answered, then closes every socket with 1012: subscriptions are not
   * completed, their clients resubscribe elsewhere with `after`. Sockets
   * that have not answered the close within what is left of the grace (at
   * least CLOSE_HANDSHAKE_MS) are terminated.
   */
  close(graceMs: number): Promise<void>;
}

export interface GraphqlWsOptions {
  /** Default `/graphql`. */
  path?: string;
  /** TRUSTED_DOCUMENTS: the document a `subscribe` payload names; throws the RequestError that refuses it. */
  documentFor?: (payload: SubscribePayload) => string;
  /** Where each operation's access line goes (src/plugins/useAccessLog.ts); none without. */
  accessLog?: AccessLogOptions;
  /** The id of a socket, from its upgrade request (src/infra/request-id.ts); each operation's id is `<socket id>:<n>`. Default: a new UUID. */
  socketIdOf?: (req: IncomingMessage) => string;
}

/** The operations of one socket, each with its request scope until it completes or fails. */
interface SocketOperations {
  readonly id: string;
  started: number;
  readonly scopes: Map<string, RequestScope>;
}

/**
 * graphql-ws (subprotocol `graphql-transport-ws`) on the gateway's HTTP
 * server, same port and path as HTTP. Operations run through yoga's
 * envelop, so the gateway's plugins, context and error masking apply as over
 * HTTP. The session comes from `connectionParams.authorization` and is
 * checked with the Account API at `connection_init` (and again by every
 * `accountEvents` it starts, src/schema/events.ts).
 */
export function serveGraphqlWs(
  server: Server,
  yoga: GatewayYoga,
  services: Pick<Services, 'config' | 'sessions' | 'logger' | 'events'>,
  { path = '/graphql', documentFor, accessLog, socketIdOf = () => randomUUID() }: GraphqlWsOptions = {},
): GraphqlWsServer {
  const config: Config = services.config;
  const logger: Logger = services.logger.child({ component: 'graphql-ws' });
  // A storm of refused sockets logs one line per kind and window, with the count.
  const warnings = new RepeatedWarnings(logger);
  const connections = new Map<WebSocket, Connection>();
  const origins = new OriginPolicy(config.CORS_ORIGINS);

  // Each operation is a request of its own: an id on its log lines and errors, an access line when it ends.
  const operations = new WeakMap<WsContext, SocketOperations>();
  const startOperation = (ctx: WsContext, id: string) => {
    let socket = operations.get(ctx);
    if (!socket) operations.set(ctx, (socket = { id: socketIdOf(ctx.extra.request), started: 0, scopes: new Map() }));
    const scope = new RequestScope(`${socket.id}:${++socket.started}`);
    socket.scopes.set(id, scope);
    return scope;
  };
  const scopeOfOperation = (ctx: WsContext, id: string) => operations.get(ctx)?.scopes.get(id);
  const endOperation = (ctx: WsContext, id: string) => {
    const scopes = operations.get(ctx)?.scopes;
    const scope = scopes?.get(id);
    if (!scope) return;
    scopes!.delete(id);
    if (accessLog) writeAccessLine(accessLog, scope, null);
  };

  /**
   * Closes an ended session's socket with 4403 once no operation runs any
   * more, `ending` (the one whose onComplete or onError runs) aside: that
   * hook runs before graphql-ws writes the operation's last message, so the
   * close waits for the next turn of the event loop, after that write
   * (`ws` sends in order: the client gets SessionExpired and complete first).
   */
  const closeWhenIdle = (conn: Connection, ending?: string) => {
    const socket = conn.ctx.extra.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (Object.keys(conn.ctx.subscriptions).some((id) => id !== ending)) return;
    if (ending === undefined) return socket.close(CLOSE.sessionEnded, 'Session expired');
    setImmediate(() => socket.readyState === socket.OPEN && socket.close(CLOSE.sessionEnded, 'Session expired'));
  };

  /** At shutdown: resolves once no query or mutation runs on any socket (each one's end calls `requestEnded`). */
  let requestsDone: (() => void) | null = null;
  const busy = () => [...connections.values()].some((c) => c.requests.size > 0);
  const requestEnded = (conn: Connection | undefined, id: string) => {
    if (!conn?.requests.delete(id) || !requestsDone || busy()) return;
    const done = requestsDone;
    requestsDone = null;
    setImmediate(done); // after its last message is written, as above
  };

  const stopListening = services.events.onSessionEnded((userId, ended) => {
    for (const conn of connections.values()) {
      if (conn.userId !== userId || conn.ended || !ended(conn.sessionKey)) continue;
      conn.ended = true;
      closeWhenIdle(conn);
      // However its operations end (or not), the socket is closed within the second.
      const socket = conn.ctx.extra.socket;
      setTimeout(() => socket.readyState === socket.OPEN && socket.close(CLOSE.sessionEnded, 'Session expired'), SESSION_END_CLOSE_MS).unref();
    }
  });

  const protocol = makeServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: config.SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS,
      execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as Enveloped).subscribe(args),
      onConnect: async (ctx) => {
        const { socket } = ctx.extra;
        const session = sessionFromAuthorization(ctx.connectionParams?.authorization);
        if (!session) return false;
        let userId: string;
        try {
          userId = await services.events.verifiedUserId(session);
        } catch (error) {
          if (error instanceof Unauthenticated) return false;
          warnings.warn('graphql-ws connection refused (1013): the session could not be checked', { error: error instanceof Error ? error.name : 'unknown' });
          socket.close(CLOSE.tryAgainLater, 'Try again later');
          return false;
        }
        if (socket.readyState !== socket.OPEN) return false;
        connections.set(socket, { ctx, userId, sessionKey: sessionKey(session), ended: false, requests: new Set() });
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const { socket } = ctx.extra;
        const scope = startOperation(ctx, id);
        const conn = connections.get(socket);
        if (!conn || conn.ended) {
          socket.close(CLOSE.sessionEnded, 'Forbidden');
          return [new GraphQLError('Sign in first: this needs a valid session.')];
        }
        if (Object.keys(ctx.subscriptions).length > config.SUBSCRIPTIONS_MAX_PER_CONNECTION) {
          logger.warn('graphql-ws socket closed: too many operations at once', { limit: config.SUBSCRIPTIONS_MAX_PER_CONNECTION });
          socket.close(CLOSE.tooManyOperations, 'Too many operations');
          return [new GraphQLError('Too many operations on this connection.')];
        }
        const args = await executionArgs(yoga, ctx, payload, scope, logger, documentFor);
        if (!Array.isArray(args) && getOperationAST((args as ExecutionArgs).document, payload.operationName)?.operation !== 'subscription') conn.requests.add(id);
        return args;
      },
      // Errors carry the operation's request id, and their codes go into its access line.
      onNext: (ctx, id, _payload, _args, result) => {
        const scope = result.errors?.length ? scopeOfOperation(ctx, id) : undefined;
        return scope && accessLog ? withRequestId(result, scope, accessLog.metrics) : undefined;
      },
      onError: (ctx, id, _payload, errors) => {
        // Some errors end an operation without onComplete (one that could not start).
        const conn = connections.get(ctx.extra.socket);
        requestEnded(conn, id);
        if (conn?.ended) closeWhenIdle(conn, id);
        const scope = scopeOfOperation(ctx, id);
        if (!scope || !accessLog) return;
        const tagged = withRequestId({ errors }, scope, accessLog.metrics).errors.map((e) => (e instanceof GraphQLError ? e.toJSON() : e));
        endOperation(ctx, id);
        return tagged as GraphQLError[];
      },
      onComplete: (ctx, id) => {
        endOperation(ctx, id);
        const conn = connections.get(ctx.extra.socket);
        requestEnded(conn, id);
        if (conn?.ended) closeWhenIdle(conn, id);
      },
      onClose: (ctx) => {
        const conn = connections.get(ctx.extra.socket);
        connections.delete(ctx.extra.socket);
        for (const id of conn?.requests ?? []) requestEnded(conn, id);
      },
    },
  );
  const transport = attachWebSocket(server, protocol, {
    path,
    maxPayload: config.SUBSCRIPTIONS_MAX_MESSAGE_BYTES,
    keepAliveMs: config.SUBSCRIPTIONS_KEEPALIVE_MS,
    allowsOrigin: (origin, host) => origins.allows(origin, host),
    maxSocketsPerAddress: config.SUBSCRIPTIONS_MAX_SOCKETS_PER_ADDRESS,
    addressOf: (req) => addressBlock(clientAddress(req.socket.remoteAddress, headerText(req.headers['x-forwarded-for']), config.TRUSTED_PROXIES)),
    logger,
  });

  return {
    get sockets() {
      return transport.sockets.size;
    },
    close: async (graceMs) => {
      transport.stopAccepting();
      stopListening();
      warnings.flush();
      const deadline = Date.now() + graceMs;
      if (busy()) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          requestsDone = resolve;
          timer = setTimeout(resolve, graceMs);
        });
        clearTimeout(timer);
        requestsDone = null;
      }
      await transport.close(CLOSE.serviceRestart, 'Service restart', Math.max(deadline - Date.now(), CLOSE_HANDSHAKE_MS));
    },
  };
}

function headerText(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(',') : value;
}

/** The operation's execution arguments through yoga's envelop (plugins, context, masking), or its errors. */
async function executionArgs(
  yoga: GatewayYoga,
  ctx: WsContext,
  payload: SubscribePayload,
  scope: RequestScope,
  logger: Logger,
  documentFor?: (payload: SubscribePayload) => string,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  try {
    // The context reads the session from connectionParams (checked at connection_init), the client address and user agent from the upgrade request.
    const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
      ...ctx,
      req: ctx.extra.request,
      socket: ctx.extra.socket,
      params: payload,
      connectionParams: ctx.connectionParams ?? {},
      requestScope: scope,
    });
    const document = parse(documentFor ? documentFor(payload) : payload.query);
    const errors = validate(schema, document);
    if (errors.length > 0) return errors;
    return {
      schema,
      operationName: payload.operationName,
      document,
      variableValues: payload.variables,
      contextValue: await contextFactory(),
      rootValue: { execute, subscribe },
    };
  } catch (error) {
    if (error instanceof GraphQLError) return [error];
    logger.error('graphql-ws operation could not start', { requestId: scope.id, error: error instanceof Error ? error.name : 'unknown' });
    return [new GraphQLError('Unexpected error.')];
  }
}
