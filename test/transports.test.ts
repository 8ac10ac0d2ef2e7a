import { ApolloClient, HttpLink, InMemoryCache, gql as apolloGql } from '@apollo/client';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defer, waitUntil } from './support/harness.js';
import { type Stack, startStack } from './support/gateway.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { ACCOUNT_EVENTS, FAST_ENV, Recorder, subscriptionsReady, wsClient } from './support/subscriptions.js';

/**
 * `accountEvents` with the client libraries frontends use, one per
 * transport the gateway serves on `/graphql`: graphql-sse in both of its
 * modes (distinct connections is yoga's SSE, single connection the
 * graphql-sse plugin), Apollo Client 4's multipart HTTP subscriptions, urql 6
 * over fetch and over graphql-ws. Each gets a change made through the
 * gateway, and each refuses a subscription without a session.
 */

const FIRST_NAME = `mutation($name: String!) { updateSettings(input: { firstName: $name }) { __typename } }`;
const SETTINGS_EVENTS = `subscription { accountEvents { __typename ... on SettingsUpdated { id settings { firstName } } } }`;

/** What a client library hands to its `next`: events, or errors (as the library reports them). */
function record(recorder: Recorder, result: { data?: unknown; errors?: readonly unknown[] | null; error?: unknown }) {
  if (result.errors?.length) recorder.errors.push(...result.errors);
  else if (result.error) recorder.errors.push(result.error);
  else recorder.events.push((result.data as { accountEvents: unknown }).accountEvents);
}

function codesOf(errors: unknown[]): string[] {
  return JSON.stringify(errors).match(/UNAUTHENTICATED/g) ?? [];
}

describe('subscription transports with real client libraries', () => {
  let stack: Stack;
  let ann: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack({ ...FAST_ENV, SUBSCRIPTIONS_KEEPALIVE_MS: '100', SUBSCRIPTIONS_SSE_PENDING_STREAMS: '3', SUBSCRIPTIONS_SSE_RESERVATION_TIMEOUT_MS: '300' });
    ann = await signUp(stack);
  });
  // Each test counts its own live subscriptions: the last test's are gone first.
  beforeEach(() => subscriptionsReady(stack.gateway, 0, 10_000));

  /** Changes ann's first name through the gateway once `live` subscriptions listen, and waits for the event on `recorder`. */
  async function changeAndSee(recorder: Recorder, live = 1) {
    await subscriptionsReady(stack.gateway, live, 10_000);
    const name = `Name${Date.now() % 100_000}`;
    const changed = await stack.gql(FIRST_NAME, { name }, { token: ann.token });
    expect(changed.data.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    await recorder.until((events) => events.some((e) => e.settings?.firstName === name), `SettingsUpdated ${name}`, 10_000);
    expect(recorder.events.at(-1)).toMatchObject({ __typename: 'SettingsUpdated', settings: { firstName: name } });
  }

  function sseClient(singleConnection: boolean, headers: () => Record<string, string>): SseClient {
    const client = createSseClient({ url: stack.url, singleConnection, headers, retryAttempts: 0 });
    defer(() => client.dispose());
    return client;
  }

  function sseSubscribe(client: SseClient, query = SETTINGS_EVENTS): Recorder {
    const recorder = new Recorder();
    const dispose = client.subscribe({ query }, {
      next: (r) => record(recorder, r),
      // A refused request is a NetworkError holding the response.
      error: async (e) => recorder.errors.push(e instanceof Error && 'response' in e && e.response instanceof Response ? { status: e.response.status, body: await e.response.text() } : e),
      complete: () => (recorder.completed = true),
    });
    defer(dispose);
    return recorder;
  }

  for (const singleConnection of [false, true]) {
    const mode = singleConnection ? 'single connection' : 'distinct connections';
    it(`graphql-sse, ${mode} mode: delivers the user's events; no session is UNAUTHENTICATED`, async () => {
      const events = sseSubscribe(sseClient(singleConnection, () => ({ authorization: `Bearer ${ann.token}` })));
      await changeAndSee(events);
      expect(events.errors).toEqual([]);

      const refused = sseSubscribe(sseClient(singleConnection, () => ({})));
      await waitUntil(() => refused.errors.length > 0, 'the refusal', 10_000);
      expect(codesOf(refused.errors).length).toBeGreaterThan(0);
      expect(refused.events).toEqual([]);
    });
  }

  it('graphql-sse, single connection mode: every operation on the one stream checks its own session', async () => {
    // graphql-sse's client sends every operation with the headers of its connection, so this one speaks the protocol itself.
    const token = await (await fetch(stack.url, { method: 'PUT' })).text();
    const controller = new AbortController();
    defer(() => controller.abort());
    const stream = await fetch(stack.url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token }, signal: controller.signal });
    expect(stream.status).toBe(200);
    let text = '';
    const reader = stream.body!.getReader();
    void (async () => {
      for (let read = await reader.read(); !read.done; read = await reader.read()) text += new TextDecoder().decode(read.value);
    })().catch(() => undefined);
    const operation = (id: string, headers: Record<string, string>) =>
      fetch(stack.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...headers },
        body: JSON.stringify({ query: SETTINGS_EVENTS, extensions: { operationId: id } }),
      });
    expect((await operation('signed-in', { authorization: `Bearer ${ann.token}` })).status).toBe(202);
    await subscriptionsReady(stack.gateway, 1, 10_000);
    expect((await operation('anonymous', {})).status).toBe(202);
    await waitUntil(() => text.includes('"id":"anonymous"') && text.includes('event: complete'), 'the anonymous operation refused', 10_000);
    const refusal = text.split('\n').find((line) => line.startsWith('data:') && line.includes('"anonymous"'))!;
    expect(JSON.parse(refusal.slice(5))).toMatchObject({ id: 'anonymous', payload: { data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    // The stream and its first operation go on.
    await stack.gql(FIRST_NAME, { name: 'OneStream' }, { token: ann.token });
    await waitUntil(() => text.includes('OneStream'), 'the signed-in operation\'s event', 10_000);
    expect(text.split('\n').find((line) => line.includes('OneStream'))).toContain('"id":"signed-in"');
  });

  it('graphql-sse, single connection mode: the gateway picks the tokens, bounds waiting reservations and drops lapsed ones', async () => {
    const put = (headers: Record<string, string> = {}) => fetch(stack.url, { method: 'PUT', headers });
    expect((await put({ 'x-graphql-event-stream-token': 'mine' })).status).toBe(400);
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reserved = await put();
      expect(reserved.status).toBe(201);
      tokens.push(await reserved.text());
    }
    expect(new Set(tokens).size).toBe(3);
    const full = await put();
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('1');
    // SUBSCRIPTIONS_SSE_RESERVATION_TIMEOUT_MS later the lapsed ones are gone: room again, and their tokens open nothing.
    await waitUntil(async () => (await put()).status === 201, 'room for a reservation', 10_000);
    // graphql-sse takes a token without a stream for a distinct connection request, which needs a query.
    const open = await fetch(`${stack.url}?token=${tokens[0]}`, { headers: { accept: 'text/event-stream' } });
    expect(open.status).toBe(400);
  });

  it('graphql-sse, single connection mode: an operation must be JSON and within REQUEST_MAX_BODY_BYTES, by Content-Length or counted while chunked, refused as everywhere', async () => {
    const token = await (await fetch(stack.url, { method: 'PUT' })).text();
    const headers = { 'content-type': 'application/json', 'x-graphql-event-stream-token': token };
    /** A POST with a streamed body (no Content-Length, chunked) of `text`, in pieces. */
    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      const body = new ReadableStream({
        start: (c) => {
          for (let i = 0; i < bytes.length; i += 8192) c.enqueue(bytes.slice(i, i + 8192));
          c.close();
        },
      });
      return fetch(stack.url, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
    };
    const tooLarge = { errors: [{ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', requestId: expect.any(String) } }] };
    // Within the limit (65536 by default), chunked is read as any body: the operation is taken.
    const small = await chunked(JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'small' } }));
    expect(small.status).toBe(202);
    const past = JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'big' }, padding: 'x'.repeat(70_000) });
    const streamed = await chunked(past);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual(tooLarge);
    const declared = await fetch(stack.url, { method: 'POST', headers, body: past });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual(tooLarge);
    // The same refusal as a body past the limit elsewhere on the endpoint.
    const elsewhere = await fetch(stack.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: past });
    expect(elsewhere.status).toBe(413);
    expect(await elsewhere.json()).toEqual(tooLarge);
    // JSON only, as everywhere: what a foreign page can POST without a preflight runs nothing.
    const form = await fetch(`${stack.url}?token=${token}`, { method: 'POST', headers: { 'content-type': 'text/plain;x=application/json' }, body: JSON.stringify({ query: SETTINGS_EVENTS, extensions: { operationId: 'form' } }) });
    expect(form.status).toBe(415);
  });

  function apolloClient(token: string | null) {
    const client = new ApolloClient({
      link: new HttpLink({ uri: stack.url, headers: token ? { authorization: `Bearer ${token}` } : {} }),
      cache: new InMemoryCache(),
    });
    defer(() => client.stop());
    return client;
  }

  function apolloSubscribe(client: ApolloClient, query = SETTINGS_EVENTS): Recorder {
    const recorder = new Recorder();
    const subscription = client.subscribe({ query: apolloGql(query) }).subscribe({
      next: (r) => record(recorder, r),
      error: (e) => recorder.errors.push(e),
      complete: () => (recorder.completed = true),
    });
    defer(() => subscription.unsubscribe());
    return recorder;
  }

  it('Apollo Client 4, multipart HTTP subscriptions: delivers the user\'s events; no session is UNAUTHENTICATED', async () => {
    const events = apolloSubscribe(apolloClient(ann.token));
    await changeAndSee(events);
    expect(events.errors).toEqual([]);

    const refused = apolloSubscribe(apolloClient(null));
    await waitUntil(() => refused.errors.length > 0, 'the refusal', 10_000);
    expect(codesOf(refused.errors.map((e) => (e as { errors?: unknown }).errors ?? e)).length).toBeGreaterThan(0);
    expect(refused.events).toEqual([]);
  });

  it('multipart subscriptions follow Apollo\'s protocol: payload parts, heartbeats, the subscription ends with the response', async () => {
    const controller = new AbortController();
    defer(() => controller.abort());
    const res = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json', authorization: `Bearer ${ann.token}` },
      body: JSON.stringify({ query: SETTINGS_EVENTS }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (wanted: string) => {
      while (!text.includes(wanted)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the response ended before ${wanted}: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    // SUBSCRIPTIONS_KEEPALIVE_MS (100 here) is the heartbeat.
    await readUntil('\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{}\r\n--graphql');
    await subscriptionsReady(stack.gateway, 1, 10_000);
    await stack.gql(FIRST_NAME, { name: 'Multipart' }, { token: ann.token });
    await readUntil('Multipart');
    const part = text.split('\r\n--graphql').find((p) => p.includes('Multipart'))!;
    expect(JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4))).toMatchObject({ payload: { data: { accountEvents: { __typename: 'SettingsUpdated', settings: { firstName: 'Multipart' } } } } });
    controller.abort();
    await subscriptionsReady(stack.gateway, 0, 10_000);
  });

  function urqlSubscribe(client: UrqlClient, query = SETTINGS_EVENTS): Recorder {
    const recorder = new Recorder();
    const { unsubscribe } = client.subscription(query, {}).subscribe((r) => {
      if (r.error) recorder.errors.push(...(r.error.graphQLErrors.length ? r.error.graphQLErrors : [r.error]));
      else record(recorder, r);
    });
    defer(unsubscribe);
    return recorder;
  }

  it('urql 6 over fetch (fetchSubscriptions): delivers the user\'s events; no session is UNAUTHENTICATED', async () => {
    const client = (token: string | null) =>
      new UrqlClient({ url: stack.url, exchanges: [fetchExchange], fetchSubscriptions: true, fetchOptions: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
    const events = urqlSubscribe(client(ann.token));
    await changeAndSee(events);
    expect(events.errors).toEqual([]);

    const refused = urqlSubscribe(client(null));
    await waitUntil(() => refused.errors.length > 0, 'the refusal', 10_000);
    expect(codesOf(refused.errors).length).toBeGreaterThan(0);
  });

  it('urql 6 over graphql-ws (subscriptionExchange): delivers the user\'s events', async () => {
    const ws = wsClient(stack.url, ann.token).client;
    const client = new UrqlClient({
      url: stack.url,
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
          }),
        }),
      ],
    });
    const events = urqlSubscribe(client, ACCOUNT_EVENTS);
    await changeAndSee(events);
    expect(events.errors).toEqual([]);
  });
});
