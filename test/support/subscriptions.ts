import { print } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import { WebSocket } from 'ws';
import { AccountEventsDocument } from '../../src/client/generated/graphql.js';
import { comparePositions, decodeEventId } from '../../src/events/event-id.js';
import type { Gateway } from '../../src/gateway.js';
import type { Stack } from './gateway.js';
import { defer, WAIT_MS, waitUntil } from './harness.js';

/**
 * Subscriptions against real servers: real graphql-ws clients (`ws` as the
 * WebSocket), the emulator's real push sockets, SSE streams. Everything
 * opened is disposed with the harness's leftovers.
 */

/**
 * Short intervals so the suite stays fast. The connection-init timeout stays
 * long: on a busy machine a client's `connection_init` may come late, and only
 * the test of that timeout wants it short (with a gateway of its own).
 */
export const FAST_ENV: Record<string, string> = {
  UPSTREAM_PUSH_RECONNECT_MIN_MS: '20',
  UPSTREAM_PUSH_RECONNECT_MAX_MS: '200',
  UPSTREAM_PUSH_HEARTBEAT_MS: '2000',
  SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS: '10000',
  SUBSCRIPTIONS_SESSION_CHECK_SECONDS: '1',
  // Tests open many sockets from one loopback address.
  SUBSCRIPTIONS_MAX_SOCKETS_PER_ADDRESS: '1000',
};

/** Whether the events' ids are ids of `userId`'s events, each after the one before (the public contract: ordered per user, unique). */
export function idsInOrder(events: Array<{ id: string }>, userId: string): boolean {
  const cursors = events.map((e) => decodeEventId(e.id, userId));
  if (cursors.some((c) => c === null)) return false;
  return cursors.every((c, i) => i === 0 || c!.epoch !== cursors[i - 1]!.epoch || comparePositions(c!.position, cursors[i - 1]!.position) > 0);
}

/** The `accountEvents` subscription of the typed documents (schema/operations/events.graphql), as text. */
export const ACCOUNT_EVENTS = print(AccountEventsDocument);

export interface WsClient {
  client: Client;
  /** Resolves with the close code of the first socket close. */
  closed: Promise<number>;
}

/** A graphql-ws client that never retries and never closes on its own, so a close code is the server's and final. */
export function wsClient(httpUrl: string, token: string | null, options: Partial<ClientOptions> = {}): WsClient {
  let resolveClosed: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    // Keep the socket after the last subscription completes, so the close code seen is the server's.
    lazyCloseTimeout: 60_000,
    on: { closed: (event) => resolveClosed((event as { code: number }).code) },
    ...options,
  });
  defer(() => client.dispose());
  return { client, closed };
}

/** What one subscription received. */
export class Recorder {
  readonly events: any[] = [];
  readonly errors: unknown[] = [];
  completed = false;

  /** Waits until `predicate` holds for the events, or fails after `ms`. */
  async until(predicate: (events: any[]) => boolean, what: string, ms = WAIT_MS): Promise<any[]> {
    await waitUntil(() => predicate(this.events) || this.errors.length > 0, what, ms);
    if (this.errors.length > 0) throw new Error(`${what}: the subscription failed: ${JSON.stringify(this.errors)}`);
    return this.events;
  }

  /** Waits for a Notification with this title. */
  untilNotification(title: string, ms?: number) {
    return this.until((events) => events.some((e) => e.__typename === 'Notification' && e.title === title), `notification "${title}"`, ms);
  }

  typenames(): string[] {
    return this.events.map((e) => e.__typename);
  }
}

/** Subscribes to `accountEvents` on `client` (with `variables`, e.g. `{ after }`). */
export function subscribe(client: Client, query = ACCOUNT_EVENTS, variables?: Record<string, unknown>): Recorder {
  const recorder = new Recorder();
  client.subscribe(
    variables ? { query, variables } : { query },
    {
      next: (result) => {
        if (result.errors) recorder.errors.push(...result.errors);
        else recorder.events.push((result.data as { accountEvents: unknown }).accountEvents);
      },
      error: (error) => recorder.errors.push(error),
      complete: () => (recorder.completed = true),
    },
  );
  return recorder;
}

/** Waits until `gateway` has exactly `count` live subscriptions (each listening on the bus). */
export function subscriptionsReady(gateway: Gateway, count: number, ms?: number) {
  return waitUntil(() => gateway.services.events.stats().subscriptions === count, `${count} live subscriptions`, ms);
}

/** Pushes a `notification` to the user through the emulator. */
export async function notify(stack: Stack, userId: string, title: string): Promise<void> {
  await stack.account.post('notify', { user_id: userId, kind: 'test', title, body: `body of ${title}` });
}

/** Changes settings on the emulator directly (the Account API's own `user/settings/set`), bypassing the gateway. */
export async function setSettingsUpstream(stack: Stack, token: string, wire: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.emulator.url}/user/settings/set`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(wire),
  });
  const answer = (await res.json()) as { state: number };
  if (answer.state !== 200) throw new Error(`user/settings/set answered state ${answer.state}`);
}


/** An `accountEvents` subscription over SSE (GraphQL over SSE, distinct connections mode), read in the background. */
export class SseRecorder extends Recorder {
  /** Everything the stream carried so far. */
  text = '';
  /** The stream ended (completed or not). */
  ended = false;

  constructor(
    readonly status: number,
    readonly contentType: string,
    private readonly controller: AbortController,
  ) {
    super();
  }

  close(): void {
    this.controller.abort();
  }

  /** Reads `body` until it ends, recording each `next` and the `complete`. */
  async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let pending = '';
    const reader = body.getReader();
    try {
      for (;;) {
        const { value: chunk, done } = await reader.read();
        if (done) break;
        const text = decoder.decode(chunk, { stream: true });
        this.text += text;
        pending += text;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          this.#onMessage(pending.slice(0, end));
          pending = pending.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
    }
  }

  #onMessage(block: string): void {
    const lines = block.split('\n');
    const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
    if (event === 'complete') {
      this.completed = true;
      return;
    }
    if (event !== 'next' || data === '') return;
    const result = JSON.parse(data) as { data?: { accountEvents?: unknown }; errors?: unknown[] };
    if (result.errors) this.errors.push(...result.errors);
    else if (result.data?.accountEvents) this.events.push(result.data.accountEvents);
  }
}

/** Subscribes to `accountEvents` over SSE with `token`; resolves once the answer's headers are in. Closed with the leftovers. */
export async function sseSubscribe(httpUrl: string, token: string | null, query = ACCOUNT_EVENTS): Promise<SseRecorder> {
  const controller = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(httpUrl, { method: 'POST', headers, body: JSON.stringify({ query }), signal: controller.signal });
  const recorder = new SseRecorder(res.status, res.headers.get('content-type') ?? '', controller);
  defer(() => recorder.close());
  if (res.body) void recorder.read(res.body);
  else recorder.ended = true;
  return recorder;
}
