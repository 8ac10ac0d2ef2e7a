import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { createGraphQLError, isAsyncIterable, processRegularResult, type Plugin, type YogaMaskedErrorOpts, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from '../infra/logger.js';
import { LaneRequest, RequestHookPayload, ResultHookPayload } from './json-lane-hooks.js';
import { acceptedMediaType, type ExecutionResult, isPlainResult, readBody, regularParams, send, urlOf, writeJson } from './json-lane-wire.js';

/** `createYoga<{ req }>` of src/gateway.ts (`{}`: yoga's default user context). */
type GatewayYoga = YogaServerInstance<{ req: IncomingMessage }, {}>;

export interface JsonLaneOptions {
  /** The GraphQL path. */
  endpoint: string;
  /** Largest body the lane reads: a larger one goes to yoga, which refuses it (useRequestBodyLimit, 413). */
  maxBodyBytes: number;
  /**
   * The gateway's own plugins, the very objects given to `createYoga`: their
   * HTTP hooks (onRequest, onRequestParse, onResultProcess, onResponse) run in
   * the lane as in yoga. yoga's built-in HTTP plugins (parsers, result
   * processors, CORS, GraphiQL, health check) are what the lane itself does
   * for the requests it takes, or it leaves the request to yoga.
   */
  plugins: readonly Plugin[];
  /** The `maskedErrors` given to `createYoga` (null: none), for the errors the lane answers itself. */
  maskedErrors: YogaMaskedErrorOpts | null;
  logger: Logger;
}

const CONTENT_LENGTH = /^\d+$/;

/**
 * The lean lane for plain JSON POSTs: GraphQL without yoga's fetch layer.
 * yoga turns every request into a fetch `Request` with a streamed body and an
 * AbortController, runs it through layers of maybe-promises, and writes a
 * fetch `Response` back; for a JSON POST with a Content-Length and a JSON
 * answer that is most of its cost. The lane reads the body into one Buffer,
 * parses it, and runs the operation through yoga's public
 * `getResultForParams` (as Hive Gateway's graphql-ws handler does): every
 * onParams and onExecutionResult hook, then `getEnveloped` with every
 * envelop plugin (limits, masking, trusted documents, compiled execution,
 * context), as yoga does. It answers with yoga's `processRegularResult`
 * (status codes, headers and body as yoga writes them), in one write. The
 * gateway's own HTTP hooks (`plugins`) run around it with a light request
 * (method, url, headers, json(), text()).
 *
 * Everything else is left to yoga, untouched: another method, path or
 * media type, no or a too large Content-Length, an Accept beyond JSON, an
 * `Origin` (browsers: CORS stays yoga's), graphql-sse's stream token. A
 * body that is not one plain params object, and a subscription (a stream,
 * or yoga's 406), yoga answers from the bytes the lane read. The lane is
 * off when a plugin instruments yoga's request handling (`instrumentation`),
 * which only yoga's path runs. Of yoga it uses the public API only (fetchAPI,
 * handleRequest, waitUntil, getResultForParams, logger, processRegularResult,
 * and the `maskedErrors` given to createYoga); test/json-lane.test.ts and
 * test/graphql-http-audits.test.ts hold it to yoga's answers.
 */
export interface JsonLane {
  /** Takes the request (and answers it), or returns false: then it is yoga's. */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests the lane has taken so far. */
  readonly served: number;
}

export function createJsonLane(yoga: GatewayYoga, { endpoint, maxBodyBytes, plugins, maskedErrors, logger }: JsonLaneOptions): JsonLane {
  if (plugins.some((plugin) => plugin.instrumentation)) {
    logger.info('json lane off: a plugin instruments yoga\'s request handling, which only yoga\'s path runs');
    return { take: () => false, served: 0 };
  }
  // Once: each property read of the yoga adapter (a Proxy) binds a fresh function.
  const fetchAPI = yoga.fetchAPI;
  const waitUntil = yoga.waitUntil;
  const handleRequest = yoga.handleRequest as (request: Request, ...contextParts: object[]) => Promise<Response>;
  const getResultForParams = yoga.getResultForParams;
  const hooks = {
    onRequest: plugins.flatMap((p) => (p.onRequest ? [p.onRequest.bind(p)] : [])),
    onRequestParse: plugins.flatMap((p) => (p.onRequestParse ? [p.onRequestParse.bind(p)] : [])),
    onResultProcess: plugins.flatMap((p) => (p.onResultProcess ? [p.onResultProcess.bind(p)] : [])),
    onResponse: plugins.flatMap((p) => (p.onResponse ? [p.onResponse.bind(p)] : [])),
  };
  let served = 0;

  /** An irregular body: yoga answers it from the bytes read, exactly as on its own path. */
  const delegate = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const request = new fetchAPI.Request(urlOf(req), { method: 'POST', headers: req.headers as HeadersInit, body: body as Uint8Array<ArrayBuffer> });
    await send(await handleRequest(request, { req, res }, { waitUntil }), res);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, length: number, mediaType: string) => {
    const body = await readBody(req, length);
    if (body === undefined) return; // the client left mid-body
    const params = regularParams(body);
    if (params === undefined) return delegate(req, res, body);
    // A subscription's text goes to yoga before anything runs (the lane writes no streams); a
    // document known only by its hash is caught below, once it has run.
    if (mayBeSubscription(params)) return delegate(req, res, body);
    const request = new LaneRequest(req, body, params, fetchAPI) as unknown as Request;
    const serverContext = { req, res, waitUntil };
    // One payload for the onRequest and onRequestParse hooks: methods on its prototype, no closures per request.
    const payload = new RequestHookPayload(request, serverContext, fetchAPI);
    // A hook that answers at once is not awaited: each await is a turn of the microtask queue.
    for (const hook of hooks.onRequest) {
      const pending = hook(payload as never);
      if (pending) await pending;
      if (payload.early) return respond(payload.early, request, serverContext, res);
    }
    for (const hook of hooks.onRequestParse) {
      const pending = hook(payload as never);
      if (pending) await pending;
      if (payload.early) return respond(payload.early, request, serverContext, res);
    }
    let result: ExecutionResult;
    try {
      result = (await getResultForParams({ params: params as never, request }, serverContext as never)) as ExecutionResult;
    } catch (error) {
      // Thrown by an onParams hook (e.g. trusted documents) or an onExecutionResult hook: answered as yoga answers it.
      result = { errors: errorsOf(error) } as ExecutionResult;
    }
    if (isAsyncIterable(result)) {
      // A subscription: yoga streams it (SSE, for an Accept of */* or none) or refuses it (406);
      // the lane writes no streams. Stopped here, it runs again on yoga's path, from the bytes read.
      await (result as AsyncIterableIterator<unknown>).return?.();
      return delegate(req, res, body);
    }
    if (hooks.onResultProcess.length > 0) {
      const processing = new ResultHookPayload(request, result, serverContext);
      for (const hook of hooks.onResultProcess) {
        const pending = hook(processing as never);
        if (pending) await pending;
      }
      result = processing.result;
    }
    // A result without errors is answered as yoga's processRegularResult answers it (200, its
    // media type, the result's own stringify), without a fetch Response when no hook reads one.
    if (hooks.onResponse.length === 0 && isPlainResult(result)) return writeJson(res, mediaType, (result.stringify ?? JSON.stringify)(result));
    return respond(await processRegularResult(result, fetchAPI, mediaType), request, serverContext, res);
  };

  /**
   * As yoga's handling of a thrown error: each of an AggregateError's, an
   * abort none, the rest through `maskedErrors` (yoga's `maskError` leaves
   * a GraphQLError as it is; what it masks is logged), or as they are.
   */
  const errorsOf = (error: unknown): GraphQLError[] => {
    if (error instanceof AggregateError) return error.errors.flatMap(errorsOf);
    if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) return [];
    if (!maskedErrors) return [error instanceof GraphQLError ? error : createGraphQLError(error instanceof Error ? error.message : String(error))];
    const masked = maskedErrors.maskError(error, maskedErrors.errorMessage, maskedErrors.isDev);
    if (masked !== error) yoga.logger.error(error);
    return [masked instanceof GraphQLError ? masked : createGraphQLError(masked.message, { originalError: masked })];
  };

  /** The gateway's onResponse hooks, then the answer. */
  const respond = async (response: Response, request: Request, serverContext: object, res: ServerResponse) => {
    for (const onResponse of hooks.onResponse) {
      await onResponse({ request, response, serverContext, fetchAPI, setResponse: (next: Response) => { response = next; } } as never);
    }
    await send(response, res);
  };

  const take = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== endpoint) return false;
    const { headers } = req;
    // Exactly the bodies yoga's JSON parser takes (its media type match is case-sensitive).
    const type = headers['content-type']?.split(',')[0];
    if (type !== 'application/json' && !type?.startsWith('application/json;')) return false;
    const declared = headers['content-length'];
    if (declared === undefined || headers['transfer-encoding'] !== undefined || !CONTENT_LENGTH.test(declared)) return false;
    const length = Number(declared);
    // Origin: browsers (CORS stays yoga's); the graphql-sse token: a stream's operation (useGraphqlSse, yoga's path).
    if (length > maxBodyBytes || headers.origin !== undefined || headers['x-graphql-event-stream-token'] !== undefined) return false;
    const mediaType = acceptedMediaType(headers.accept);
    if (mediaType === undefined) return false;
    serve(req, res, length, mediaType).catch((error: unknown) => {
      logger.error('json lane: request failed', { error: error instanceof Error ? error.name : 'unknown' });
      if (!res.headersSent) res.writeHead(500, { 'content-length': '0' });
      res.end();
    });
    served++;
    return true;
  };
  return {
    take,
    get served() {
      return served;
    },
  };
}

/** Whether a document's text may hold a subscription (a cheap test first, on every request). */
function mayBeSubscription(params: { query?: unknown }): boolean {
  const { query } = params;
  return typeof query === 'string' && query.includes('subscription') && /\bsubscription\b/.test(query);
}
