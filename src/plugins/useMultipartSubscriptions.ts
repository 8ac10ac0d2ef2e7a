import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

type ResultProcessor = Parameters<Parameters<NonNullable<Plugin['onResultProcess']>>[0]['setResultProcessor']>[0];

export interface MultipartSubscriptionsOptions {
  /**
   * Interval of the heartbeat part (`{}`) on an open subscription response,
   * so proxies do not take a quiet subscription for a dead one (0: off).
   * @default 12000
   */
  heartbeatMs?: number;
}

const BOUNDARY = 'graphql';

/**
 * Subscriptions over HTTP multipart, as Apollo Client's `HttpLink` asks for
 * them (`Accept: multipart/mixed;subscriptionSpec=1.0`, Apollo's "multipart
 * HTTP protocol for GraphQL subscriptions"). Yoga serves subscriptions only as
 * SSE or a single JSON answer and answers such a request 406; this plugin
 * takes exactly those requests (a subscription result nothing else accepted)
 * and streams it: each event one part `{"payload": result}`, a heartbeat
 * part `{}` every `heartbeatMs`, the closing boundary when it completes.
 *
 * The subscription ran through yoga like every HTTP request (context,
 * session check, trusted documents); only the encoding of its result is ours.
 * A subscription refused before it starts (no session) is a plain result,
 * which yoga answers as JSON (`application/json` is in Apollo's Accept).
 */
export function useMultipartSubscriptions({ heartbeatMs = 12_000 }: MultipartSubscriptionsOptions = {}): Plugin {
  const processor: ResultProcessor = (result, fetchAPI) => multipartResponse(result as AsyncIterable<unknown>, fetchAPI, heartbeatMs);
  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      if (resultProcessor || !isAsyncIterable(result) || !acceptsMultipart(request)) return;
      setResultProcessor(processor, 'multipart/mixed');
    },
  };
}

function acceptsMultipart(request: Request): boolean {
  return (request.headers.get('accept') ?? '').split(',').some((type) => type.trim().toLowerCase().startsWith('multipart/mixed'));
}

function multipartResponse(results: AsyncIterable<unknown>, fetchAPI: { Response: typeof Response; ReadableStream: typeof ReadableStream; TextEncoder: typeof TextEncoder }, heartbeatMs: number): Response {
  const encoder = new fetchAPI.TextEncoder();
  // The first boundary at once (the headers go out with it), then each part followed by a boundary.
  const part = (json: string) => encoder.encode(`\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--${BOUNDARY}`);
  const iterator = results[Symbol.asyncIterator]();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`\r\n--${BOUNDARY}`));
      if (heartbeatMs > 0) {
        heartbeat = setInterval(() => controller.enqueue(part('{}')), heartbeatMs);
        heartbeat.unref?.();
      }
    },
    async pull(controller) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch {
        // Yoga masks errors inside results; a throwing iterator is a transport error.
        next = { done: true, value: undefined };
        controller.enqueue(part(JSON.stringify({ payload: null, errors: [{ message: 'Unexpected error.' }] })));
      }
      if (!next.done) {
        controller.enqueue(part(JSON.stringify({ payload: withoutInternals(next.value as ExecutionResult) })));
        return;
      }
      clearInterval(heartbeat);
      controller.enqueue(encoder.encode('--\r\n'));
      controller.close();
    },
    async cancel() {
      clearInterval(heartbeat);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: {
      'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    },
  });
}

/** A result as yoga would send it: without its internal `http` extensions (status, headers). */
function withoutInternals({ errors, extensions, ...rest }: ExecutionResult): FormattedExecutionResult {
  const strip = (ext: Record<string, unknown> | undefined, ...names: string[]) => {
    const kept = Object.fromEntries(Object.entries(ext ?? {}).filter(([name]) => !names.includes(name)));
    return Object.keys(kept).length ? kept : undefined;
  };
  return {
    ...rest,
    ...(errors && { errors: errors.map((error) => { const json = error.toJSON(); return { ...json, extensions: strip(json.extensions, 'http', 'unexpected') }; }) }),
    ...(strip(extensions, 'http') && { extensions: strip(extensions, 'http') }),
  };
}
