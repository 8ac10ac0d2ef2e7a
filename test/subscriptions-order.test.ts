import { beforeAll, describe, expect, it } from 'vitest';
import { UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { socketsOf } from './support/emulators.js';
import { WAIT_MS } from './support/harness.js';
import { type GatewayProcess, spawnGateway, type Stack, startStack } from './support/gateway.js';
import { redisForTests } from './support/redis.js';
import { FAST_ENV, idsInOrder, notify, subscribe, wsClient } from './support/subscriptions.js';
import { signUp } from './support/users.js';

/**
 * One source, one order: each user's log holds what the Account API's push
 * socket sent, in its order. The gateway publishes no copy of its own
 * mutations: the client that made a change has it in its payload, every
 * other device gets the upstream echo, at its place among the upstream's
 * other events, even when no instance held the user's push socket while the
 * change was made.
 */
const redisForFile = await redisForTests('subscriptions-order');
const { SUBSCRIPTIONS_SESSION_CHECK_SECONDS: _check, UPSTREAM_PUSH_HEARTBEAT_MS: _heartbeat, ...ENV } = FAST_ENV;

/** What a subscriber saw: notification titles, and `settings:<firstName>` for a settings change. */
const labels = (events: any[]) => events.map((e) => (e.__typename === 'Notification' ? e.title : e.__typename === 'SettingsUpdated' ? `settings:${e.settings.firstName}` : e.__typename));

describe('accountEvents through push socket drops', () => {
  it('the user\'s push socket dropped 30 times while notifications stream: every event once, in the Account API\'s order', async () => {
    // The emulator's default hold: a socket's events wait for its first frame, which the relay sends at once (resume_after, or null).
    const stack = await startStack(FAST_ENV);
    const user = await signUp(stack);
    const events = subscribe(wsClient(stack.url, user.token).client);
    await socketsOf(stack.emulator.url, user.userId, 1);
    const sent: string[] = [];
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i += 1) {
        await notify(stack, user.userId, `n${i}`);
        sent.push(`n${i}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    for (let drop = 0; drop < 30; drop += 1) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      await stack.account.dev('POST', 'drop', { user_id: user.userId });
    }
    producing = false;
    await producer;
    await notify(stack, user.userId, 'last');
    await events.untilNotification('last', WAIT_MS);
    expect(labels(events.events)).toEqual([...sent, 'last']);
    expect(idsInOrder(events.events, user.userId)).toBe(true);
  });
});

describe.skipIf(redisForFile.skip)('accountEvents in the Account API\'s order', () => {
  let stack: Stack;
  let a: GatewayProcess;
  let b: GatewayProcess;
  beforeAll(async () => {
    redisForFile.require();
    stack = await startStack();
    const env = { ...ENV, REDIS_URL: redisForFile.url, REDIS_KEY_PREFIX: redisForFile.keyPrefix('order') };
    [a, b] = await Promise.all([spawnGateway(stack, env), spawnGateway(stack, env)]);
  });

  it('events from both sources interleaved (upstream notifications, mutations through A and B): every subscriber, on either instance, in the Account API\'s order', async () => {
    const user = await signUp(stack);
    const subscribers = [subscribe(wsClient(a.url, user.token).client), subscribe(wsClient(b.url, user.token).client)];
    await socketsOf(stack.emulator.url, user.userId, 2);
    const sent: string[] = [];
    for (let i = 1; i <= 12; i += 1) {
      if (i % 3 === 0) {
        const via = i % 2 === 0 ? a : b;
        const changed = await via.gql(UpdateSettingsDocument, { input: { firstName: `G${i}` } }, { token: user.token });
        expect(changed.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
        sent.push(`settings:G${i}`);
      } else {
        await notify(stack, user.userId, `n${i}`);
        sent.push(`n${i}`);
      }
    }
    for (const subscriber of subscribers) {
      await subscriber.until((events) => events.length >= sent.length, 'every event');
      expect(labels(subscriber.events)).toEqual(sent);
      expect(idsInOrder(subscriber.events, user.userId)).toBe(true);
    }
    // One log: the same event has the same id on both instances.
    expect(subscribers[0]!.events.map((e) => e.id)).toEqual(subscribers[1]!.events.map((e) => e.id));
  });

  it('failover: n1 n2 on A, A killed, n3, a rename through B, n4, resume on B after n2, n5: [n3, the rename, n4, n5]', async () => {
    const user = await signUp(stack);
    const onA = subscribe(wsClient(a.url, user.token).client);
    await socketsOf(stack.emulator.url, user.userId, 1);
    await notify(stack, user.userId, 'n1');
    await notify(stack, user.userId, 'n2');
    await onA.untilNotification('n2');
    expect(labels(onA.events)).toEqual(['n1', 'n2']);
    const afterN2 = onA.events[1].id as string;

    a.child.kill('SIGKILL');
    await a.exited;
    await socketsOf(stack.emulator.url, user.userId, 0);
    await notify(stack, user.userId, 'n3');
    const renamed = await b.gql(UpdateSettingsDocument, { input: { firstName: 'Renamed' } }, { token: user.token });
    expect(renamed.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    await notify(stack, user.userId, 'n4');

    const onB = subscribe(wsClient(b.url, user.token).client, undefined, { after: afterN2 });
    await onB.untilNotification('n4');
    await notify(stack, user.userId, 'n5');
    await onB.untilNotification('n5');
    expect(labels(onB.events)).toEqual(['n3', 'settings:Renamed', 'n4', 'n5']);
    expect(idsInOrder([...onA.events, ...onB.events], user.userId)).toBe(true);
  });
});
