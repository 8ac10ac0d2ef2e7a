import type { IncomingMessage } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import { type ExecutionResult, type Params, urlOf } from './json-lane-wire.js';

type FetchAPI = YogaServerInstance<{}, {}>['fetchAPI'];

const noop = () => {};
const unsupported = (what: string) => () => {
  throw new Error(`json lane: ${what}`);
};
const requestHandler = unsupported('the request handler is not reachable from onRequest');
const setRequest = unsupported('onRequest cannot replace the request');
const setRequestHandler = unsupported('onRequest cannot replace the request handler');

/**
 * What onRequest and onRequestParse hooks get in the lane (the fields of
 * yoga's and @whatwg-node/server's payloads; hooks destructure it, so what
 * needs `this` is an arrow). It cannot swap the request, its handler or its
 * parser (the lane has parsed the body); `endResponse` answers early, as in
 * yoga.
 */
export class RequestHookPayload {
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
    readonly fetchAPI: FetchAPI,
  ) {}
  get url(): URL {
    return (this.#url ??= new this.fetchAPI.URL(this.request.url));
  }
}

/** What onResultProcess hooks get in the lane: the result to change; the processor is the lane's (JSON). */
export class ResultHookPayload {
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
 * What yoga's hooks read of a request (the fetch `Request` fields they
 * use), without a fetch body stream: method, url, headers (yoga's fetch
 * Headers over the node ones, made when first read), json() and text() of
 * the body already read.
 */
export class LaneRequest {
  readonly method = 'POST';
  readonly body = null;
  readonly bodyUsed = true;
  #headers: Headers | undefined;
  #url: string | undefined;
  constructor(
    private readonly req: IncomingMessage,
    private readonly raw: Buffer,
    private readonly params: Params,
    private readonly fetchAPI: FetchAPI,
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
