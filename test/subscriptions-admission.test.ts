import { WebSocket } from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { socketsOf } from './support/emulators.js';
import { type Stack, startGateway, startStack } from './support/gateway.js';
import { waitUntil, within } from './support/harness.js';
import { FAST_ENV, notify, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';
import { type SignedUpUser, signUp } from './support/users.js';

/**
 * Reconnect storms are absorbed, not refused: concurrent and recent session
 * checks of one session share one Account API call, one push ticket per
 * user at a time, session checks wait their turn in the admission queue and
 * are refused (1013) only once their deadline has passed; one address holds
 * a bounded number of sockets. Upstream calls are counted by the emulator
 * (`/_emulator/calls`).
 */
describe('admission of subscriptions', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
  });

  const calls = () => stack.account.calls();
  const resetCalls = () => stack.account.resetCalls();
  /** The next `user/get` of the emulator answers after `ms`. */
  const slowUserGet = (ms: number) => stack.account.post('fault', { path: 'user/get', kind: 'delay', ms });

  it('50 sockets x 10 subscribes of one session: a handful of user/get calls and one push ticket, and every subscription gets the event', async () => {
    const user = await signUp(stack);
    await resetCalls();
    const recorders = Array.from({ length: 50 }, () => {
      const { client } = wsClient(stack.url, user.token);
      return Array.from({ length: 10 }, () => subscribe(client));
    }).flat();
    await subscriptionsReady(stack.gateway, 500, 30_000);
    await socketsOf(stack.emulator.url, user.userId, 1);
    const counted = await calls();
    // One per SUBSCRIPTIONS_SESSION_FRESH_MS (2 s) at most while the 550 checks came in; without sharing, 550.
    expect(counted['user/get'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(counted['user/get']).toBeLessThanOrEqual(10);
    expect(counted['user/auth/websocket']).toBe(1);
    console.info(`50 sockets x 10 subscribes of one session: ${counted['user/get']} user/get, ${counted['user/auth/websocket']} user/auth/websocket calls`);

    await notify(stack, user.userId, 'to-all-500');
    await Promise.all(recorders.map((r) => r.untilNotification('to-all-500', 20_000)));
    expect(recorders.every((r) => r.events.length === 1 && r.errors.length === 0)).toBe(true);
  });

  describe('with one session check at a time', () => {
    let users: SignedUpUser[];
    beforeAll(async () => {
      users = await Promise.all([signUp(stack), signUp(stack)]);
    });

    it('a socket whose check waits in the queue, within its deadline, is admitted and gets its events', async () => {
      const gateway = await startGateway({ ...FAST_ENV, ACCOUNT_API_URL: stack.emulator.url, SUBSCRIPTIONS_ADMISSION_CONCURRENCY: '1', SUBSCRIPTIONS_ADMISSION_DEADLINE_MS: '20000' }, 'one-check-at-a-time');
      const [slow, waiting] = users as [SignedUpUser, SignedUpUser];
      await slowUserGet(1500);
      const first = wsClient(gateway.url, slow.token);
      const firstEvents = subscribe(first.client);
      await waitUntil(() => gateway.gateway.services.events.admissionStats().running === 1, 'the slow check to hold the one slot');
      const second = wsClient(gateway.url, waiting.token);
      const secondEvents = subscribe(second.client);
      await waitUntil(() => gateway.gateway.services.events.admissionStats().waiting === 1, 'the second check to wait in line');

      await subscriptionsReady(gateway.gateway, 2, 20_000);
      await socketsOf(stack.emulator.url, waiting.userId, 1);
      await notify(stack, waiting.userId, 'after-waiting');
      await secondEvents.untilNotification('after-waiting');
      await notify(stack, slow.userId, 'after-the-slow-check');
      await firstEvents.untilNotification('after-the-slow-check');
      expect(gateway.gateway.services.events.admissionStats().timedOut).toBe(0);
    });

    it('1013 only once the deadline has passed', async () => {
      const deadlineMs = 400;
      const gateway = await startGateway({ ...FAST_ENV, ACCOUNT_API_URL: stack.emulator.url, SUBSCRIPTIONS_ADMISSION_CONCURRENCY: '1', SUBSCRIPTIONS_ADMISSION_DEADLINE_MS: String(deadlineMs) }, 'short-deadline');
      const [slow, waiting] = users as [SignedUpUser, SignedUpUser];
      await slowUserGet(4000);
      const first = wsClient(gateway.url, slow.token);
      const firstEvents = subscribe(first.client);
      await waitUntil(() => gateway.gateway.services.events.admissionStats().running === 1, 'the slow check to hold the one slot');
      const started = Date.now();
      const second = wsClient(gateway.url, waiting.token);
      const secondEvents = subscribe(second.client);
      expect(await within(second.closed, 10_000, 'the waiting socket to close')).toBe(1013);
      expect(Date.now() - started).toBeGreaterThanOrEqual(deadlineMs);
      expect(secondEvents.events).toEqual([]);
      expect(gateway.gateway.services.events.admissionStats().timedOut).toBe(1);
      // The one whose call had started waits for it, past the deadline: admitted, not refused.
      // Its socket stays open and serves: an event reaches it after the deadline, and it never closed.
      await subscriptionsReady(gateway.gateway, 1, 20_000);
      let firstClosed = false;
      void first.closed.then(() => (firstClosed = true));
      await socketsOf(stack.emulator.url, slow.userId, 1);
      await notify(stack, slow.userId, 'admitted-past-the-deadline');
      await firstEvents.untilNotification('admitted-past-the-deadline');
      expect(firstClosed).toBe(false);
    });
  });

  it('one address holds at most SUBSCRIPTIONS_MAX_SOCKETS_PER_ADDRESS sockets; one more is refused with 429 until one closes', async () => {
    const gateway = await startGateway({ ...FAST_ENV, ACCOUNT_API_URL: stack.emulator.url, SUBSCRIPTIONS_MAX_SOCKETS_PER_ADDRESS: '3' }, 'socket-cap');
    const wsUrl = gateway.url.replace(/^http/, 'ws');
    const open = (): Promise<WebSocket | number> =>
      new Promise((resolve) => {
        const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
        socket.once('open', () => resolve(socket));
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('error', () => undefined);
      });
    const sockets = await Promise.all([open(), open(), open()]);
    expect(sockets.every((s) => s instanceof WebSocket)).toBe(true);
    expect(await open()).toBe(429);
    const closed = new Promise((resolve) => (sockets[0] as WebSocket).once('close', resolve));
    (sockets[0] as WebSocket).close();
    await closed;
    let again: WebSocket | number = 0;
    await waitUntil(async () => (again = await open()) instanceof WebSocket, 'a socket once one closed');
    for (const socket of [...sockets.slice(1), again]) (socket as WebSocket).close();
  });
});
