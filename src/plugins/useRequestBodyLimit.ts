import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** yoga's own default: 25 MB. */
export const REQUEST_MAX_BODY_BYTES = 25_000_000;

const CONTENT_LENGTH = /^\d+$/;
const tooLarge = () => createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });

/**
 * The request body limit of yoga's `maxRequestBodySize`, at less cost per
 * request. A body with a valid Content-Length within the limit is read as
 * it is: node:http reads exactly that many bytes and refuses a request with
 * both Content-Length and Transfer-Encoding. Only a body without
 * Content-Length (chunked) is counted as it streams, as yoga does for all.
 * Used with `maxRequestBodySize: false`, in yoga's place.
 */
export function useRequestBodyLimit(limit = REQUEST_MAX_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!CONTENT_LENGTH.test(declared)) {
          throw createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
        }
        if (Number(declared) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => {
        let read = 0;
        // A native stream pipes only into a native TransformStream (as in yoga's own plugin).
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const body = req.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body, duplex: 'half' } as RequestInit));
      });
    },
  };
}
