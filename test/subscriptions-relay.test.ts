import { beforeAll, describe, expect, it } from 'vitest';
import { UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { defer, gatewayLogLines, waitUntil } from './support/harness.js';
import { type Stack, startGateway, startStack } from './support/gateway.js';
import { emulatorSockets, socketsOf } from './support/emulators.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { FAST_ENV, notify, type Recorder, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';
import { startTcpProxy } from './support/tcp-proxy.js';

/**
 * The relay: one upstream socket per user on an instance, shared, resumed
 * after a drop without gap or repeat, replaced when it goes silent, closed
 * with the last subscription; and fan-out to many subscribers.
 */
describe('the upstream relay', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The emulator pings every second, so a 3 s silence means a dead link. Not faster: a socket that misses
    // one pong is ended, and on a busy machine a pong may take a while (a relay that loses its socket
    // before the socket's first event has no id to resume from, src/events/relay.ts).
    stack = await startStack(FAST_ENV, { emulator: { pingIntervalMs: 1000 } });
  });

  const titles = (recorder: Recorder) => recorder.events.map((e) => e.title);

  it('a dropped upstream socket loses no event and repeats none; still one socket per user', async () => {
    const user = await signUp(stack);
    const first = subscribe(wsClient(stack.url, user.token).client);
    const second = subscribe(wsClient(stack.url, user.token).client);
    await subscriptionsReady(stack.gateway, 2);
    await socketsOf(stack.emulator.url, user.userId, 1);

    const expected: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      await notify(stack, user.userId, `before-drop-${round}`);
      expected.push(`before-drop-${round}`);
      await first.untilNotification(`before-drop-${round}`);
      const dropped = (await stack.account.post('drop', { user_id: user.userId })) as { dropped: number };
      expect(dropped.dropped).toBe(1);
      // Events while the gateway reconnects: replayed through resume_after.
      for (const n of [1, 2]) {
        await notify(stack, user.userId, `during-${round}-${n}`);
        expected.push(`during-${round}-${n}`);
      }
    }
    await notify(stack, user.userId, 'last');
    expected.push('last');
    await first.untilNotification('last');
    await second.untilNotification('last');
    expect(titles(first)).toEqual(expected);
    expect(titles(second)).toEqual(expected);
    await socketsOf(stack.emulator.url, user.userId, 1);
  });

  it('a silent (half-open) upstream socket is replaced and resumed', async () => {
    const proxy = await startTcpProxy(stack.emulator.url);
    defer(() => proxy.close());
    const viaProxy = await startGateway({ ...FAST_ENV, UPSTREAM_PUSH_HEARTBEAT_MS: '3000', ACCOUNT_API_URL: proxy.url }, 'via-proxy');
    const user = await signUp(stack);
    const events = subscribe(wsClient(viaProxy.url, user.token).client);
    await subscriptionsReady(viaProxy.gateway, 1);
    await socketsOf(stack.emulator.url, user.userId, 1);
    await notify(stack, user.userId, 'before-freeze');
    await events.untilNotification('before-freeze');

    proxy.freeze();
    await notify(stack, user.userId, 'while-frozen');
    await events.untilNotification('while-frozen');
    await notify(stack, user.userId, 'after');
    await events.untilNotification('after');
    expect(titles(events)).toEqual(['before-freeze', 'while-frozen', 'after']);
    expect(gatewayLogLines().some((line) => line.includes('push socket silent') && line.includes('"via-proxy"'))).toBe(true);
    // The emulator ends the frozen socket when its pings go unanswered.
    await socketsOf(stack.emulator.url, user.userId, 1);
  });

  it('the upstream socket closes when the last subscription of its user ends', async () => {
    const user = await signUp(stack);
    const a = wsClient(stack.url, user.token);
    const b = wsClient(stack.url, user.token);
    subscribe(a.client);
    subscribe(b.client);
    await subscriptionsReady(stack.gateway, 2);
    await socketsOf(stack.emulator.url, user.userId, 1);
    await a.client.dispose();
    await subscriptionsReady(stack.gateway, 1);
    expect((await emulatorSockets(stack.emulator.url))[user.userId]).toBe(1);
    await b.client.dispose();
    await socketsOf(stack.emulator.url, user.userId, 0);
    expect(stack.gateway.services.events.stats()).toEqual({ subscriptions: 0, users: 0, relays: 0 });
  });

  it('200 subscribers across 50 users: every event reaches each subscriber of its user exactly once', async () => {
    const users: SignedUpUser[] = [];
    for (let batch = 0; batch < 5; batch += 1) users.push(...(await Promise.all(Array.from({ length: 10 }, () => signUp(stack)))));
    const started = Date.now();
    const subscribers = users.flatMap((user, u) => Array.from({ length: 4 }, () => ({ u, events: subscribe(wsClient(stack.url, user.token).client) })));
    await subscriptionsReady(stack.gateway, 200, 15_000);
    await waitUntil(async () => {
      const sockets = await emulatorSockets(stack.emulator.url);
      return users.every((user) => sockets[user.userId] === 1);
    }, 'one upstream socket per user', 10_000);
    const subscribedMs = Date.now() - started;

    const sent = Date.now();
    await Promise.all(users.map(async (user, u) => {
      const changed = await stack.gql(UpdateSettingsDocument, { input: { firstName: `User${u}` } }, { token: user.token });
      expect(changed.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
      await notify(stack, user.userId, `for-${u}`);
    }));
    await Promise.all(subscribers.map(({ u, events }) => events.untilNotification(`for-${u}`, 10_000)));
    const deliveredMs = Date.now() - sent;

    for (const { u, events } of subscribers) {
      expect(events.events.map((e) => e.settings?.firstName ?? e.title)).toEqual([`User${u}`, `for-${u}`]);
    }
    const sockets = await emulatorSockets(stack.emulator.url);
    expect(users.map((user) => sockets[user.userId])).toEqual(users.map(() => 1));
    console.info(`200 subscribers / 50 users: all subscribed in ${subscribedMs} ms; 100 events (400 deliveries) in ${deliveredMs} ms`);
  });
});
