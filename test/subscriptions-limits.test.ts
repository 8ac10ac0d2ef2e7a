import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SignedUpUser, type Stack, signUp, startStack } from './support/stack.js';
import {
  ACCOUNT_EVENTS,
  disposeLeftovers,
  FAST_ENV,
  socketsOf,
  startGateway,
  subscribe,
  subscriptionsReady,
  waitUntil,
  wsClient,
} from './support/subscriptions.js';

/** The documented limits of graphql-ws sockets and their close codes (README, "Subscriptions"). */
describe('subscription limits', () => {
  let stack: Stack;
  let user: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack({ ...FAST_ENV, SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS: '300' });
    user = await signUp(stack);
  });
  afterEach(disposeLeftovers);
  afterAll(() => stack.stop());

  it('1000 subscribe messages on one socket: closed with 1008 past SUBSCRIPTIONS_MAX_PER_CONNECTION, nothing left behind', async () => {
    const { client, closed } = wsClient(stack.url, user.token);
    const recorders = Array.from({ length: 1000 }, () => subscribe(client));
    expect(await closed).toBe(1008);
    expect(recorders.every((r) => r.events.length === 0)).toBe(true);
    await subscriptionsReady(stack.gateway, 0);
    await socketsOf(stack.emulator.url, user.userId, 0);
    expect(stack.gateway.services.events.stats()).toEqual({ subscriptions: 0, users: 0, relays: 0 });
  });

  it('a message larger than SUBSCRIPTIONS_MAX_MESSAGE_BYTES: closed with 1009', async () => {
    const { client, closed } = wsClient(stack.url, user.token);
    client.subscribe({ query: ACCOUNT_EVENTS, variables: { padding: 'x'.repeat(70_000) } }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    expect(await closed).toBe(1009);
  });

  it('silence after connect: closed with 4408 after SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS', async () => {
    const socket = new WebSocket(stack.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const started = Date.now();
    const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
    expect(code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('another path is refused, and a socket without the graphql-transport-ws subprotocol is closed with 4406', async () => {
    const wrongPath = new WebSocket(stack.url.replace(/^http/, 'ws').replace('/graphql', '/other'), 'graphql-transport-ws');
    wrongPath.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => wrongPath.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
    const noProtocol = new WebSocket(stack.url.replace(/^http/, 'ws'));
    expect(await new Promise<number>((resolve) => noProtocol.on('close', (c) => resolve(c)))).toBe(4406);
  });

  it('graceful shutdown completes every subscription, then closes graphql-ws sockets with 1001', async () => {
    const second = await startGateway(stack.emulator.url, FAST_ENV, 'shutting-down');
    const { client, closed } = wsClient(second.url, user.token);
    const events = subscribe(client);
    const sse = await fetch(second.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: ACCOUNT_EVENTS }),
    });
    await subscriptionsReady(second.gateway, 2);

    await second.stop();
    expect(await closed).toBe(1001);
    expect(events.completed).toBe(true);
    expect(await sse.text()).toContain('event: complete');
    await waitUntil(async () => (await fetch(`${stack.emulator.url}/_emulator/sockets`).then((r) => r.json()) as Record<string, number>)[user.userId] === undefined, 'the upstream socket closed');
  });
});
