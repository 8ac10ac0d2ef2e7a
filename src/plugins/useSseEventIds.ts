import { getSSEProcessor, isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * Resumable `accountEvents` over SSE: each `next` message of a subscription
 * whose event carries an `id` gets an SSE `id:` line, so a fetch-based SSE
 * client that loses its connection (a deploy cuts SSE streams without
 * `complete`) and reconnects with `Last-Event-ID` (as
 * `@microsoft/fetch-event-source` does; a browser EventSource cannot send
 * the `Authorization` that `accountEvents` needs) resumes: `accountEvents`
 * takes it as `after` (src/schema/events.ts). Everything else is yoga's own SSE processor,
 * untouched: its body is rewritten message by message, whatever its chunks.
 */
export function useSseEventIds(): Plugin {
  const sse = getSSEProcessor();
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !(request.headers.get('accept') ?? '').includes('text/event-stream')) return;
      setResultProcessor(async (input, fetchAPI, mediaType) => {
        const response = await sse(input, fetchAPI, mediaType);
        if (!response.body) return response;
        return new fetchAPI.Response(response.body.pipeThrough(withEventIds()), { status: response.status, headers: response.headers });
      }, 'text/event-stream');
    },
  };
}

/** Adds `id: <event id>` to each complete SSE `next` message whose data has `data.<root field>.id`. */
function withEventIds(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  return new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const message = pending.slice(0, end + 2);
        pending = pending.slice(end + 2);
        controller.enqueue(encoder.encode(`${idLine(message)}${message}`));
      }
    },
    flush(controller) {
      if (pending) controller.enqueue(encoder.encode(pending));
    },
  });
}

function idLine(message: string): string {
  if (!message.startsWith('event: next\n')) return '';
  const data = /^data: (.*)$/m.exec(message)?.[1];
  if (!data) return '';
  try {
    const root = Object.values((JSON.parse(data) as { data?: Record<string, unknown> }).data ?? {})[0] as { id?: unknown } | null | undefined;
    return typeof root?.id === 'string' && /^[A-Za-z0-9_-]{1,400}$/.test(root.id) ? `id: ${root.id}\n` : '';
  } catch {
    return '';
  }
}
