// In place of yoga's maxRequestBodySize (5.24): that one pipes every body through a counting TransformStream; node:http already enforces a Content-Length, so only chunked bodies are counted here.
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const CONTENT_LENGTH = /^\d+$/;
const tooLarge = () => createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });

type FetchAPI = { TransformStream: typeof TransformStream; Request: typeof Request; Response: typeof Response };

/**
 * The request body limit (REQUEST_MAX_BODY_BYTES) of every route that reads
 * a body: yoga's parsing (the plugin below) and graphql-sse's single
 * connection mode (useGraphqlSse, which reads bodies itself). Throws the
 * refusal (a GraphQLError with its HTTP status) of an invalid Content-Length
 * (400) or one past `limit` (413, REQUEST_ENTITY_TOO_LARGE); answers whether
 * the body has no Content-Length (chunked) and must be counted as it streams
 * (countedBody). A body with a valid Content-Length within the limit is read
 * as it is: node:http reads exactly that many bytes and refuses a request
 * with both Content-Length and Transfer-Encoding.
 */
export function mustCountBody(request: Request, limit: number): boolean {
  const declared = request.headers.get('content-length');
  if (declared === null) return request.body !== null;
  if (!CONTENT_LENGTH.test(declared)) {
    throw createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
  }
  if (Number(declared) > limit) throw tooLarge();
  return false;
}

/** `request` with its body counted as it streams: past `limit` bytes reading it fails with the 413 refusal. */
export function withCountedBody(request: Request, limit: number, fetchAPI: FetchAPI): Request {
  let read = 0;
  // A native stream pipes only into a native TransformStream (as in yoga's own plugin).
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body, duplex: 'half' } as RequestInit);
}

/**
 * The response yoga gives a refusal thrown while it parses a request, for
 * a route that answers outside yoga's parsing (useGraphqlSse): the error's
 * HTTP status, its message and code, and the request's id.
 */
export function refusalResponse(error: GraphQLError, fetchAPI: Pick<FetchAPI, 'Response'>, requestId?: string): Response {
  const { http, ...extensions } = error.extensions as { http?: { status?: number } } & Record<string, unknown>;
  const body = { errors: [{ message: error.message, extensions: requestId ? { ...extensions, requestId } : extensions }] };
  return new fetchAPI.Response(JSON.stringify(body), { status: http?.status ?? 400, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

/**
 * The request body limit of yoga's `maxRequestBodySize`, at less cost per
 * request: only a body without Content-Length (chunked) is counted as it
 * streams, as yoga does for all (mustCountBody). Used with
 * `maxRequestBodySize: false`, in yoga's place; `limit` is
 * REQUEST_MAX_BODY_BYTES.
 */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!mustCountBody(request, limit) || !requestParser) return;
      const parse = requestParser;
      setRequestParser((req) => parse(withCountedBody(req, limit, fetchAPI)));
    },
  };
}
