import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SignedUpUser, type Stack, signUp, startStack } from './support/stack.js';
import {
  disposeLeftovers,
  emulatorSockets,
  FAST_ENV,
  notify,
  setSettingsUpstream,
  socketsOf,
  startGateway,
  subscribe,
  subscriptionsReady,
  UPDATE_FIRST_NAME,
  waitUntil,
  wsClient,
} from './support/subscriptions.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * Two gateway instances on the real Redis. Instance B reaches the Account
 * API through a proxy that refuses every push socket, so B's relay never
 * delivers anything: whatever B's subscriber gets came through Redis.
 * Without Redis (and without CI) the file is skipped with a printed reason;
 * under CI an unreachable Redis fails it.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisReachable(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const reachable = await redisReachable(REDIS_URL);
if (!reachable && !process.env.CI) console.info(`subscriptions-redis: skipped, Redis is unreachable at ${REDIS_URL} (under CI this fails)`);

describe.skipIf(!reachable && !process.env.CI)('accountEvents across instances on Redis', () => {
  const prefix = `test-${process.pid}-${Date.now()}:`;
  const env = { ...FAST_ENV, REDIS_URL, REDIS_KEY_PREFIX: prefix, UPSTREAM_PUSH_RECONNECT_MAX_MS: '100' };
  let stack: Stack;
  let proxy: TcpProxy;
  let redis: Redis;
  let user: SignedUpUser;
  beforeAll(async () => {
    if (!reachable) throw new Error(`Redis is unreachable at ${REDIS_URL} (CI is set, so this fails instead of skipping)`);
    stack = await startStack(env); // instance A, straight to the emulator
    proxy = await startTcpProxy(stack.emulator.url, { refuseWebsockets: true });
    redis = new Redis(REDIS_URL);
    user = await signUp(stack);
  });
  afterEach(disposeLeftovers);
  afterAll(async () => {
    await proxy?.close();
    redis?.disconnect();
    await stack?.stop();
  });

  const subscribers = async (userId: string) => ((await redis.pubsub('NUMSUB', `${prefix}events:${userId}`)) as [string, number])[1];

  it('an event that arrives on A reaches a subscriber on B', async () => {
    const b = await startGateway(proxy.url, env, 'instance-b');
    const onB = subscribe(wsClient(b.url, user.token).client);
    await subscriptionsReady(b.gateway, 1);
    await waitUntil(() => proxy.refused >= 2, 'B\'s relay refused twice');
    expect(await subscribers(user.userId)).toBe(1);
    expect((await emulatorSockets(stack.emulator.url))[user.userId]).toBeUndefined();

    // 1. No push socket anywhere: only A's mutation, published at once through Redis, can reach B.
    const viaA = await stack.gql(UPDATE_FIRST_NAME, { name: 'ViaA' }, { token: user.token });
    expect(viaA.data.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    const [first] = await onB.until((e) => e.length === 1, 'A\'s mutation on B');
    expect(first).toMatchObject({ __typename: 'SettingsUpdated', settings: { firstName: 'ViaA' } });
    expect(first.id).toMatch(/^gw-/);

    // 2. A subscriber on A opens A's push socket; a change made upstream arrives there only, and reaches B.
    const onA = subscribe(wsClient(stack.url, user.token).client);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, user.userId, 1);
    expect(await subscribers(user.userId)).toBe(2);
    await setSettingsUpstream(stack, user.token, { first_name: 'Upstream' });
    await onB.until((e) => e.length === 2, 'the upstream change on B');
    expect(onB.events[1]).toMatchObject({ __typename: 'SettingsUpdated', settings: { firstName: 'Upstream' } });
    expect(onB.events[1].id).not.toMatch(/^gw-/);

    // 3. And back: B's mutation reaches A's subscriber, once, though A's socket delivers it too.
    await b.gql(UPDATE_FIRST_NAME, { name: 'ViaB' }, { token: user.token });
    await notify(stack, user.userId, 'redis-last');
    await onA.untilNotification('redis-last');
    await onB.untilNotification('redis-last');
    const names = (events: any[]) => events.map((e) => e.settings?.firstName ?? e.title);
    expect(names(onB.events)).toEqual(['ViaA', 'Upstream', 'ViaB', 'redis-last']);
    expect(names(onA.events)).toEqual(['Upstream', 'ViaB', 'redis-last']);
    expect((await emulatorSockets(stack.emulator.url))[user.userId]).toBe(1);
    expect(proxy.refused).toBeGreaterThanOrEqual(2);
  });

  it('isolation holds on the shared bus: another user\'s instance sees nothing', async () => {
    const other = await signUp(stack);
    const b = await startGateway(proxy.url, env, 'instance-b2');
    const onB = subscribe(wsClient(b.url, other.token).client);
    await subscriptionsReady(b.gateway, 1);
    await stack.gql(UPDATE_FIRST_NAME, { name: 'NotForOther' }, { token: user.token });
    await b.gql(UPDATE_FIRST_NAME, { name: 'Other' }, { token: other.token });
    await onB.until((e) => e.length === 1, 'the other user\'s own change');
    await notify(stack, user.userId, 'not-for-other');
    await stack.gql(UPDATE_FIRST_NAME, { name: 'OtherAgain' }, { token: other.token });
    await onB.until((e) => e.length === 2, 'the other user\'s second change');
    expect(onB.events.map((e) => e.settings?.firstName ?? e.title)).toEqual(['Other', 'OtherAgain']);
  });
});
