import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAsyncIterable } from '@envelop/core';
import { GraphQLError } from 'graphql';
import { createGraphQLError, processRegularResult, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { memoized } from '../infra/bounded-map.js';
import type { Logger } from '../infra/logger.js';

/** `createYoga<{ req }>` of src/gateway.ts (`{}`: yoga's default user context). */
type GatewayYoga = YogaServerInstance<{ req: IncomingMessage }, {}>;
type ExecutionResult = Parameters<typeof processRegularResult>[0];
type Params = Record<string, unknown>;

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
  logger: Logger;
}

const CONTENT_LENGTH = /^\d+$/;
/** What an Accept header of a lane request lists (charset utf-8 or none, no other parameter). */
const JSON_MEDIA_TYPE = /^(application\/graphql-response\+json|application\/json|application\/\*|\*\/\*)(;charset=utf-8)?$/;
/** The fields of a GraphQL-over-HTTP body, as yoga's useCheckGraphQLQueryParams has them (and `documentId`, trusted documents). */
const OBJECT_PARAMS = new Set(['variables', 'extensions']);
const STRING_PARAMS = new Set(['query', 'operationName', 'documentId']);

/**
 * The lean lane for plain JSON POSTs: GraphQL without yoga's fetch layer.
 * yoga turns every request into a fetch `Request` with a streamed body and an
 * AbortController, runs it through layers of maybe-promises, and writes a
 * fetch `Response` back; for a JSON POST with a Content-Length and a JSON
 * answer that is most of its cost. The lane reads the body into one Buffer,
 * parses it, and runs the operation through yoga's own
 * `getResultForParams`: every onParams and onExecutionResult hook, then
 * `getEnveloped` with every envelop plugin (limits, masking, trusted
 * documents, compiled execution, context), as yoga does. It answers with
 * yoga's `processRegularResult` (status codes, headers and body as yoga
 * writes them), in one write. The gateway's own HTTP hooks (`plugins`) run
 * around it with a light request (method, url, headers, json(), text()).
 *
 * Everything else is left to yoga, untouched: another method, path or
 * media type, no or a too large Content-Length, an Accept beyond JSON, an
 * `Origin` (browsers: CORS stays yoga's), graphql-sse's stream token, and a body that is not one plain
 * params object (yoga answers it from the read bytes, as its own errors).
 */
export interface JsonLane {
  /** Takes the request (and answers it), or returns false: then it is yoga's. */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests the lane has taken so far. */
  readonly served: number;
}

export function createJsonLane(yoga: GatewayYoga, { endpoint, maxBodyBytes, plugins, logger }: JsonLaneOptions): JsonLane {
  // Once: each property read of the yoga adapter (a Proxy) binds a fresh function.
  const fetchAPI = yoga.fetchAPI;
  const waitUntil = yoga.waitUntil;
  const handleRequest = yoga.handleRequest as (request: Request, ...contextParts: object[]) => Promise<Response>;
  const getResultForParams = yoga.getResultForParams;
  // yoga's own masking (maskedErrors of createYoga), private in its types.
  const maskedErrors = (yoga as unknown as { maskedErrorsOpts: { maskError: (error: unknown, message: string, isDev?: boolean) => unknown; errorMessage: string; isDev?: boolean } | null }).maskedErrorsOpts;
  const hooks = {
    onRequest: plugins.flatMap((p) => (p.onRequest ? [p.onRequest.bind(p)] : [])),
    onRequestParse: plugins.flatMap((p) => (p.onRequestParse ? [p.onRequestParse.bind(p)] : [])),
    onResultProcess: plugins.flatMap((p) => (p.onResultProcess ? [p.onResultProcess.bind(p)] : [])),
    onResponse: plugins.flatMap((p) => (p.onResponse ? [p.onResponse.bind(p)] : [])),
  };
  if ((yoga as unknown as { instrumentation?: unknown }).instrumentation) {
    logger.info('json lane off: a plugin instruments yoga\'s request handling, which only yoga\'s path runs');
    return { take: () => false, served: 0 };
  }
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
    if (hooks.onResultProcess.length > 0) {
      const processing = new ResultHookPayload(request, result, serverContext);
      for (const hook of hooks.onResultProcess) {
        const pending = hook(processing as never);
        if (pending) await pending;
      }
      result = processing.result;
    }
    if (isAsyncIterable(result)) {
      // A subscription asked for as JSON: nothing to stream it in (yoga's answer, 406).
      await (result as AsyncIterableIterator<unknown>).return?.();
      return respond(new fetchAPI.Response(null, { status: 406, statusText: 'Not Acceptable', headers: { accept: 'text/event-stream; charset=utf-8' } }), request, serverContext, res);
    }
    // A result without errors is answered as yoga's processRegularResult answers it (200, its
    // media type, the result's own stringify), without a fetch Response when no hook reads one.
    if (hooks.onResponse.length === 0 && isPlainResult(result)) return writeJson(res, mediaType, (result.stringify ?? JSON.stringify)(result));
    return respond(await processRegularResult(result, fetchAPI, mediaType), request, serverContext, res);
  };

  /** yoga's handleError: a GraphQLError as it is, anything else masked (and logged) by yoga's maskError. */
  const errorsOf = (error: unknown): GraphQLError[] => {
    if (error instanceof AggregateError) return error.errors.flatMap(errorsOf);
    const masking = maskedErrors;
    if (!masking) return [error instanceof GraphQLError ? error : createGraphQLError(error instanceof Error ? error.message : String(error))];
    const masked = masking.maskError(error, masking.errorMessage, masking.isDev) as Error;
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

const noop = () => {};
const unsupported = (what: string) => () => {
  throw new Error(`json lane: ${what}`);
};
const requestHandler = unsupported('the request handler is not reachable from onRequest');
const setRequest = unsupported('onRequest cannot replace the request');
const setRequestHandler = unsupported('onRequest cannot replace the request handler');

/**
 * What onRequest and onRequestParse hooks get in the lane (hooks destructure
 * it, so what needs `this` is an arrow). It cannot swap the request, its
 * handler or its parser (the lane has parsed the body); `endResponse`
 * answers early, as in yoga.
 */
class RequestHookPayload {
  early: Response | undefined;
  #url: URL | undefined;
  readonly requestParser = undefined;
  readonly requestHandler = requestHandler;
  readonly setRequest = setRequest;
  readonly setRequestHandler = setRequestHandler;
  readonly setRequestParser = noop;
  readonly endResponse = (response: Response) => {
    this.early = response;
  };
  constructor(
    readonly request: Request,
    readonly serverContext: object,
    readonly fetchAPI: GatewayYoga['fetchAPI'],
  ) {}
  get url(): URL {
    return (this.#url ??= new this.fetchAPI.URL(this.request.url));
  }
}

/** What onResultProcess hooks get in the lane: the result to change; the processor is the lane's (JSON). */
class ResultHookPayload {
  readonly acceptableMediaTypes: string[] = [];
  readonly resultProcessor = undefined;
  readonly setResultProcessor = noop;
  readonly setResult = (result: ExecutionResult) => {
    this.result = result;
  };
  constructor(
    readonly request: Request,
    public result: ExecutionResult,
    readonly serverContext: object,
  ) {}
}

/**
 * The media type yoga's result processors answer an Accept of JSON types
 * with: the first one listed, `application/json` for a wildcard or none (as
 * yoga picks). Undefined when Accept lists anything else (SSE, multipart,
 * parameters, other charsets): yoga's to answer.
 */
function acceptedMediaType(accept: string | undefined): string | undefined {
  return accept === undefined ? 'application/json' : mediaTypeOfAccept(accept);
}
/** Clients send a handful of distinct Accept headers: each is read once. */
const mediaTypeOfAccept = memoized(mediaTypeOf, 256);

function mediaTypeOf(accept: string): string | undefined {
  let chosen: string | undefined;
  for (const entry of accept.replace(/\s/g, '').toLowerCase().split(',')) {
    const match = JSON_MEDIA_TYPE.exec(entry);
    if (!match) return undefined;
    chosen ??= match[1] === 'application/graphql-response+json' ? match[1] : 'application/json';
  }
  return chosen;
}

/** One params object as yoga's checks accept it, or undefined (yoga then answers it). */
function regularParams(body: Buffer): Params | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const params = parsed as Params;
  for (const key in params) {
    const value = params[key];
    if (value === null || value === undefined) continue;
    if (STRING_PARAMS.has(key) ? typeof value !== 'string' : !OBJECT_PARAMS.has(key) || typeof value !== 'object' || Array.isArray(value)) return undefined;
  }
  return params;
}

/**
 * What yoga's hooks read of a request, without a fetch body stream: method,
 * url, headers (yoga's fetch Headers over the node ones, made when first
 * read), json() and text() of the body already read.
 */
class LaneRequest {
  readonly method = 'POST';
  readonly body = null;
  readonly bodyUsed = true;
  #headers: Headers | undefined;
  #url: string | undefined;
  constructor(
    private readonly req: IncomingMessage,
    private readonly raw: Buffer,
    private readonly params: Params,
    private readonly fetchAPI: GatewayYoga['fetchAPI'],
  ) {}
  get url(): string {
    return (this.#url ??= urlOf(this.req));
  }
  get headers(): Headers {
    return (this.#headers ??= new this.fetchAPI.Headers(this.req.headers as HeadersInit));
  }
  json(): Promise<Params> {
    return Promise.resolve(this.params);
  }
  text(): Promise<string> {
    return Promise.resolve(this.raw.toString('utf8'));
  }
}

function urlOf(req: IncomingMessage): string {
  return `http://${req.headers.host ?? 'localhost'}${req.url}`;
}

/** The whole body (node:http reads exactly Content-Length bytes), or undefined when the client goes away first. */
function readBody(req: IncomingMessage, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(length === 0 ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', () => resolve(undefined));
    req.once('aborted', () => resolve(undefined));
  });
}

/**
 * A single result that yoga's result processing passes through as it is:
 * no errors (their status and internals are yoga's to work out) and no
 * `extensions.http`. yoga answers it with 200 and JSON.
 */
function isPlainResult(result: ExecutionResult): result is PlainResult {
  if (Array.isArray(result)) return false;
  const single = result as PlainResult;
  return !single.errors?.length && !(single.extensions as { http?: unknown } | undefined)?.http;
}
type PlainResult = ExecutionResult & { errors?: readonly unknown[]; extensions?: unknown; stringify?: (result: unknown) => string };

/** A 200 JSON answer, with the headers yoga's processRegularResult gives it. */
function writeJson(res: ServerResponse, mediaType: string, body: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(200, { 'Content-Type': `${mediaType}; charset=utf-8`, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** A fetch Response of yoga's, in one write when its body is text. */
async function send(response: Response, res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  });
  res.writeHead(response.status, response.statusText || undefined, headers);
  // yoga's fetch API (@whatwg-node/node-fetch) keeps a text body as it was given: no copy.
  const text = (response as { bodyType?: string; bodyInit?: unknown }).bodyType === 'String' ? (response as { bodyInit?: unknown }).bodyInit : undefined;
  if (typeof text === 'string') res.end(text);
  else res.end(response.body === null ? null : Buffer.from(await response.arrayBuffer()));
}
