import { WebSocket } from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/harness.js';
import { type Stack, startGateway, startStack } from './support/gateway.js';
import { socketsOf } from './support/emulators.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { ACCOUNT_EVENTS, FAST_ENV, notify, type Recorder, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';

/** The documented limits of graphql-ws sockets and their close codes (docs/subscriptions.md, "Close codes"). */
describe('subscription limits', () => {
  let stack: Stack;
  let user: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
    user = await signUp(stack);
  });

  /** How each subscription ended, once each has: `[events, completed, close codes of its errors]`, counted. */
  const outcomes = async (recorders: Recorder[]) => {
    // graphql-ws tells the client's `closed` listener first, then each subscription.
    await waitUntil(() => recorders.every((r) => r.completed || r.errors.length > 0), 'every subscription to end');
    const counts: Record<string, number> = {};
    for (const r of recorders) {
      const key = JSON.stringify([r.events.length, r.completed, r.errors.map((e) => (e as { code?: number }).code ?? String(e))]);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  it('SUBSCRIPTIONS_MAX_PER_CONNECTION subscriptions on one socket each get every event; one more closes the socket with 1008', async () => {
    const max = stack.gateway.services.config.SUBSCRIPTIONS_MAX_PER_CONNECTION;
    const { client, closed } = wsClient(stack.url, user.token);
    const recorders = Array.from({ length: max }, () => subscribe(client));
    await subscriptionsReady(stack.gateway, max);
    await socketsOf(stack.emulator.url, user.userId, 1);
    await notify(stack, user.userId, 'to-all');
    await Promise.all(recorders.map((r) => r.untilNotification('to-all')));
    expect(recorders.map((r) => [r.events.length, r.completed, r.errors.length]).every(([n, done, errors]) => n === 1 && !done && errors === 0)).toBe(true);

    const extra = subscribe(client);
    expect(await closed).toBe(1008);
    expect(await outcomes([...recorders, extra])).toEqual({ [JSON.stringify([1, false, [1008]])]: max, [JSON.stringify([0, false, [1008]])]: 1 });
    await subscriptionsReady(stack.gateway, 0);
  });

  it('1000 subscribe messages on one socket: closed with 1008 past SUBSCRIPTIONS_MAX_PER_CONNECTION, each told by the close, nothing left behind', async () => {
    const { client, closed } = wsClient(stack.url, user.token);
    const recorders = Array.from({ length: 1000 }, () => subscribe(client));
    expect(await closed).toBe(1008);
    // Every subscription, started or refused, ends with the socket's close: none completes as if normally, none gets an event.
    expect(await outcomes(recorders)).toEqual({ [JSON.stringify([0, false, [1008]])]: 1000 });
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
    // A gateway of its own: a 300 ms init timeout would close the other tests' clients on a busy machine.
    const shortInit = await startGateway({ ...FAST_ENV, SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS: '300', ACCOUNT_API_URL: stack.emulator.url }, 'init-timeout-300');
    const socket = new WebSocket(shortInit.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
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

  it('graceful shutdown completes no subscription: graphql-ws sockets close with 1012 (retryable), SSE streams are cut without `complete`', async () => {
    const second = await startGateway({ ...FAST_ENV, ACCOUNT_API_URL: stack.emulator.url }, 'shutting-down');
    const { client, closed } = wsClient(second.url, user.token);
    const events = subscribe(client);
    const sse = await fetch(second.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: ACCOUNT_EVENTS }),
    });
    await subscriptionsReady(second.gateway, 2);

    await second.stop();
    expect(await closed).toBe(1012);
    expect(events.completed).toBe(false);
    const text = await sse.text().catch(() => '(cut)');
    expect(text).not.toContain('event: complete');
    await waitUntil(async () => (await fetch(`${stack.emulator.url}/_emulator/sockets`).then((r) => r.json()) as Record<string, number>)[user.userId] === undefined, 'the upstream socket closed');
  });
});
