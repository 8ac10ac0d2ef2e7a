import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type HandlerOptions } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { refusalOfNonJson } from './useJsonRequestsOnly.js';
import { scopeOf } from '../infra/request-scope.js';
import { mustCountBody, refusalResponse, withCountedBody } from './useRequestBodyLimit.js';

export interface GraphqlSseOptions {
  /**
   * The GraphQL endpoint the mode shares with every other transport.
   * @default '/graphql'
   */
  endpoint?: string;
  /**
   * Reserved streams (`PUT`) not opened yet, at most; one more is refused
   * with 503 and `Retry-After`, so reservations cannot fill the memory.
   * @default 1000
   */
  maxPendingReservations?: number;
  /**
   * How long a reservation waits for its stream to be opened (`GET` with the
   * token); later it is dropped with the operations sent to it.
   * @default 10000
   */
  reservationTimeoutMs?: number;
  /**
   * Largest operation body (`POST`): REQUEST_MAX_BODY_BYTES, bounded as
   * useRequestBodyLimit bounds yoga's (same helpers, same 413): by its
   * Content-Length, or counted while a chunked body streams.
   */
  maxBodyBytes: number;
}

/**
 * graphql-sse's single connection mode (its client's `singleConnection: true`)
 * on the GraphQL endpoint: `PUT` reserves a stream and answers its token,
 * `GET` (Accept `text/event-stream`) with the token opens it, each `POST`
 * with the token (`x-graphql-event-stream-token` header or `token`
 * parameter) runs one operation onto it, `DELETE ?operationId=` stops one.
 * Only those requests (a `PUT`, or any request with a token) come here;
 * everything else on the endpoint, the distinct connections SSE of yoga
 * included, is yoga's.
 *
 * graphql-sse's own handler serves the protocol; this is the adapter of
 * `@graphql-yoga/plugin-graphql-sse`, with these changes: a refused operation
 * (no session, a validation error) reaches the client as a result with its
 * errors, where that plugin answers 400 "Unable to detect operation AST"
 * (graphql-sse takes `{ errors }` without `data` for execution arguments);
 * reservations and bodies are bounded (see the options), and a POST must be
 * `application/json` as everywhere (useJsonRequestsOnly).
 *
 * Every operation is its own POST with its own headers, built into the
 * gateway's context like any HTTP request: `accountEvents` checks the
 * `Authorization` of each. Not for TRUSTED_DOCUMENTS: the mode carries raw
 * queries only (src/gateway.ts leaves it out then).
 *
 * The answer ends in `onRequest` and `onSubscribe` runs the operation with
 * `getEnveloped` itself, so yoga's result hooks do not run: the errors sent
 * on the stream carry no `requestId` (useAccessLog); the POST's
 * `x-request-id` header carries it.
 */
export function useGraphqlSse({ endpoint = '/graphql', maxPendingReservations = 1000, reservationTimeoutMs = 10_000, maxBodyBytes }: GraphqlSseOptions): Plugin {
  /** Reserved tokens not opened yet → when they lapse. */
  const pending = new Map<string, number>();
  /** The server context (node's `req`) of each request the handler is given. */
  const serverContexts = new WeakMap<Request, Record<string, unknown>>();
  let handler: (request: Request) => Promise<Response>;

  const authenticate: HandlerOptions<Request>['authenticate'] = (req) => {
    const token = tokenOf(req.headers, req.url);
    if (req.method === 'PUT' && token !== null) {
      // The gateway picks every token: one a client chose would bypass the bound below.
      return [JSON.stringify({ errors: [{ message: 'A stream reservation must not carry a token.' }] }), { status: 400, statusText: 'Bad Request', headers: JSON_TYPE }];
    }
    if (token !== null) {
      // Opening the stream ends the wait; graphql-sse refuses a second opening itself.
      if (req.method === 'GET' && req.headers.get('accept') === 'text/event-stream') pending.delete(token);
      return token;
    }
    // A reservation (only a PUT without a token gets here).
    if (pending.size >= maxPendingReservations) {
      return [
        JSON.stringify({ errors: [{ message: 'Too many event streams are being reserved; try again shortly.', extensions: { code: 'RATE_LIMITED' } }] }),
        { status: 503, statusText: 'Service Unavailable', headers: { ...JSON_TYPE, 'retry-after': String(Math.ceil(reservationTimeoutMs / 1000)) } },
      ];
    }
    const fresh = randomUUID();
    pending.set(fresh, Date.now() + reservationTimeoutMs);
    return fresh;
  };

  /** Drops the lapsed reservations: a stream opened with an aborted request ends at once, with its operations. */
  const dropLapsed = async () => {
    const now = Date.now();
    for (const [token, lapses] of pending) {
      if (lapses > now) continue;
      pending.delete(token);
      await handler(new Request(`http://gateway${endpoint}`, { headers: { accept: 'text/event-stream', [TOKEN_HEADER_KEY]: token }, signal: AbortSignal.abort() }));
    }
  };

  /** A POST within the body limit (a chunked one read here, counted), or the refusal yoga gives a body past it. */
  const bounded = async (request: Request, fetchAPI: Parameters<typeof withCountedBody>[2], requestId?: string): Promise<{ operation: Request } | { refusal: Response }> => {
    if (request.method !== 'POST') return { operation: request };
    try {
      if (!mustCountBody(request, maxBodyBytes)) return { operation: request };
      const body = await withCountedBody(request, maxBodyBytes, fetchAPI).arrayBuffer();
      return { operation: new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body }) };
    } catch (error) {
      if (error instanceof GraphQLError) return { refusal: refusalResponse(error, fetchAPI, requestId) };
      throw error;
    }
  };

  return {
    onYogaInit({ yoga }) {
      handler = createHandler<Record<string, unknown>>(
        {
          authenticate,
          onSubscribe: async (req, params) => {
            const enveloped = yoga.getEnveloped({ ...serverContexts.get(req.raw), request: req.raw, params });
            let document: DocumentNode;
            try {
              document = enveloped.parse(params.query);
            } catch (error) {
              return refused([error instanceof GraphQLError ? error : new GraphQLError('Syntax error.')]);
            }
            const errors = enveloped.validate(enveloped.schema, document);
            if (errors.length > 0) return refused(errors);
            const args = {
              schema: enveloped.schema,
              document,
              contextValue: await enveloped.contextFactory(),
              variableValues: params.variables,
              operationName: params.operationName,
            };
            const operation = getOperationAST(document, params.operationName);
            const result = await (operation?.operation === 'subscription' ? enveloped.subscribe(args) : enveloped.execute(args));
            return isAsyncIterable(result) || 'data' in result ? result : refused(result.errors ?? []);
          },
        },
        yoga.fetchAPI,
      );
    },
    onRequest(payload) {
      const { request, serverContext, endResponse, fetchAPI } = payload;
      // Cheapest first: every GraphQL request passes here (`url` is parsed once, for all hooks).
      if (request.method !== 'PUT' && tokenOf(request.headers, request.url) === null) return;
      if (payload.url.pathname !== endpoint) return;
      // The rules yoga's parsing applies elsewhere: JSON only (useJsonRequestsOnly), bounded bodies.
      const nonJson = refusalOfNonJson(request, fetchAPI);
      if (nonJson) return endResponse(nonJson);
      return bounded(request, fetchAPI, scopeOf((serverContext as { req?: IncomingMessage }).req)?.id).then(async (bounds) => {
        if ('refusal' in bounds) return endResponse(bounds.refusal);
        const { operation } = bounds;
        serverContexts.set(operation, serverContext);
        await dropLapsed();
        endResponse(await handler(operation));
      });
    },
  };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** A refusal as graphql-sse recognises a result: with `data` (null). */
function refused(errors: readonly GraphQLError[]): ExecutionResult {
  return { data: null, errors };
}

function tokenOf(headers: { get(name: string): string | null | undefined }, url: string | undefined): string | null {
  return headers.get(TOKEN_HEADER_KEY) || (url?.includes('?') ? new URL(url, 'http://localhost/').searchParams.get(TOKEN_QUERY_KEY) : null) || null;
}
