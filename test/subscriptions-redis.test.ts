import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogoutDocument, UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { WAIT_MS, waitUntil, within } from './support/harness.js';
import { type GatewayProcess, spawnGateway, type Stack, startStack } from './support/gateway.js';
import { emulatorSockets, socketsOf } from './support/emulators.js';
import { type SignedUpUser, signUp, signIn } from './support/users.js';
import { FAST_ENV, notify, setSettingsUpstream, subscribe, wsClient } from './support/subscriptions.js';
import { redisForTests } from './support/redis.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * Two gateway processes and the real Redis: they share nothing else. A
 * reaches the Account API directly; B through a proxy that refuses every
 * push socket, its relay trying again only after a minute, so B's relay
 * never delivers or learns anything: whatever B's subscriber gets came
 * through Redis. The session check and the push heartbeat run at their
 * defaults (300 s, 45 s): nothing else ends a session during a test.
 * Without Redis (and without CI) the file is skipped with a printed reason;
 * under CI an unreachable Redis fails it.
 */
const redisForFile = await redisForTests('subscriptions-redis');
const { SUBSCRIPTIONS_SESSION_CHECK_SECONDS: _check, UPSTREAM_PUSH_HEARTBEAT_MS: _heartbeat, ...ENV } = FAST_ENV;

describe.skipIf(redisForFile.skip)('accountEvents across gateway processes on Redis', () => {
  const prefix = redisForFile.keyPrefix('events');
  const env = { ...ENV, REDIS_URL: redisForFile.url, REDIS_KEY_PREFIX: prefix, UPSTREAM_PUSH_RECONNECT_MAX_MS: '100' };
  const envB = { ...env, UPSTREAM_PUSH_RECONNECT_MIN_MS: '60000', UPSTREAM_PUSH_RECONNECT_MAX_MS: '60000' };
  const secrets: string[] = [];
  let stack: Stack;
  let proxy: TcpProxy;
  let redis: Redis;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let user: SignedUpUser;

  const signUpHere = async () => {
    const signedUp = await signUp(stack);
    secrets.push(signedUp.token, signedUp.password);
    return signedUp;
  };

  beforeAll(async () => {
    redisForFile.require();
    stack = await startStack(); // the emulator, and a gateway of its own for signing up
    proxy = await startTcpProxy(stack.emulator.url, { refuseWebsockets: true });
    [a, b] = await Promise.all([spawnGateway(stack, env), spawnGateway(stack, { ...envB, ACCOUNT_API_URL: proxy.url })]);
    redis = new Redis(redisForFile.url);
    user = await signUpHere();
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const [name, gateway] of [['A', a], ['B', b]] as const) {
      if (!gateway) continue;
      for (const secret of secrets) expect(gateway.output().includes(secret), `process ${name} logged a secret`).toBe(false);
    }
    redis?.disconnect();
  });

  /** Instances listening on the user's channel: one per instance with a live subscription of the user. */
  const listening = async (userId: string) => ((await redis.pubsub('NUMSUB', `${prefix}events:${userId}`)) as [string, number])[1];
  const instancesListening = (userId: string, count: number) =>
    waitUntil(async () => (await listening(userId)) === count, `${count} instances listening for the user`);

  it('an event that arrives on A reaches a subscriber on B', async () => {
    // Counted before subscribing: B's relay may be refused before the subscription is seen live, and tries again only after a minute.
    const refusedBefore = proxy.refused;
    const onB = subscribe(wsClient(b.url, user.token).client);
    await instancesListening(user.userId, 1);
    await waitUntil(() => proxy.refused > refusedBefore, 'B\'s relay refused');
    expect((await emulatorSockets(stack.emulator.url))[user.userId]).toBeUndefined();

    // 1. A subscriber on A opens A's push socket: a change made through A comes back as the upstream's echo there, and reaches B.
    const onA = subscribe(wsClient(a.url, user.token).client);
    await instancesListening(user.userId, 2);
    await socketsOf(stack.emulator.url, user.userId, 1);
    const viaA = await a.gql(UpdateSettingsDocument, { input: { firstName: 'ViaA' } }, { token: user.token });
    expect(viaA.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    const [first] = await onB.until((e) => e.length === 1, 'A\'s mutation on B');
    expect(first).toMatchObject({ __typename: 'SettingsUpdated', settings: { firstName: 'ViaA' } });

    // 2. A change made upstream arrives on A's socket only, and reaches B.
    await setSettingsUpstream(stack, user.token, { first_name: 'Upstream' });
    await onB.until((e) => e.length === 2, 'the upstream change on B');
    expect(onB.events[1]).toMatchObject({ __typename: 'SettingsUpdated', settings: { firstName: 'Upstream' } });

    // 3. And back: B's mutation reaches both through A's socket, once: the gateway publishes no copy of its own.
    await b.gql(UpdateSettingsDocument, { input: { firstName: 'ViaB' } }, { token: user.token });
    await notify(stack, user.userId, 'redis-last');
    await onA.untilNotification('redis-last');
    await onB.untilNotification('redis-last');
    const names = (events: any[]) => events.map((e) => e.settings?.firstName ?? e.title);
    expect(names(onB.events)).toEqual(['ViaA', 'Upstream', 'ViaB', 'redis-last']);
    expect(names(onA.events)).toEqual(['ViaA', 'Upstream', 'ViaB', 'redis-last']);
    // One log on Redis: the same event has the same id on both instances.
    expect(onA.events.map((e) => e.id)).toEqual(onB.events.map((e) => e.id));
    expect((await emulatorSockets(stack.emulator.url))[user.userId]).toBe(1);
  });

  it('isolation holds on the shared bus: another user\'s subscriber sees nothing of this user', async () => {
    const other = await signUpHere();
    const onB = subscribe(wsClient(b.url, other.token).client);
    // The other user's push socket is A's (B's relay is refused): their events reach B through Redis.
    subscribe(wsClient(a.url, other.token).client);
    await instancesListening(other.userId, 2);
    await socketsOf(stack.emulator.url, other.userId, 1);
    await a.gql(UpdateSettingsDocument, { input: { firstName: 'NotForOther' } }, { token: user.token });
    await b.gql(UpdateSettingsDocument, { input: { firstName: 'Other' } }, { token: other.token });
    await onB.until((e) => e.length === 1, 'the other user\'s own change');
    await notify(stack, user.userId, 'not-for-other');
    await a.gql(UpdateSettingsDocument, { input: { firstName: 'OtherAgain' } }, { token: other.token });
    await onB.until((e) => e.length === 2, 'the other user\'s second change');
    expect(onB.events.map((e) => e.settings?.firstName ?? e.title)).toEqual(['Other', 'OtherAgain']);
  });

  it('a logout on A ends that session\'s subscription on B at once; the user\'s other session goes on', async () => {
    const dana = await signUpHere();
    const phone = await signIn(stack, dana);
    secrets.push(phone);
    const refused = proxy.refused;
    const phoneOnB = wsClient(b.url, phone);
    const onB = subscribe(phoneOnB.client);
    await instancesListening(dana.userId, 1);
    await waitUntil(() => proxy.refused > refused, 'B\'s relay refused');
    // A's relay opens the one upstream socket, with the laptop's session: the upstream tells nobody the phone's session ends.
    const onA = subscribe(wsClient(a.url, dana.token).client);
    await instancesListening(dana.userId, 2);
    await socketsOf(stack.emulator.url, dana.userId, 1);

    const out = await a.gql(LogoutDocument, {}, { token: phone });
    expect(out.data?.logout.__typename).toBe('LogoutSuccess');
    expect(await within(phoneOnB.closed, WAIT_MS, 'B\'s socket of the phone to close')).toBe(4403);
    expect(onB.typenames()).toEqual(['SessionExpired']);
    expect(onB.completed).toBe(true);
    await instancesListening(dana.userId, 1);

    await notify(stack, dana.userId, 'laptop-only');
    await onA.untilNotification('laptop-only');
    expect(onA.typenames()).toEqual(['Notification']);
  });
});
