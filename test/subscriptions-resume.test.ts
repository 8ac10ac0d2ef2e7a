import { beforeAll, describe, expect, it } from 'vitest';
import { AccountEventsDocument, UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { startBalancer, type Balancer } from './support/balancer.js';
import { socketsOf } from './support/emulators.js';
import { type GatewayProcess, spawnGateway, type Stack, startStack } from './support/gateway.js';
import { defer, waitUntil } from './support/harness.js';
import { redisServerForTests, startPrivateRedis, type PrivateRedis } from './support/private-redis.js';
import { redisForTests } from './support/redis.js';
import { FAST_ENV, idsInOrder, notify } from './support/subscriptions.js';
import { typedClient } from './support/typed-client.js';
import { type SignedUpUser, signUp } from './support/users.js';

/**
 * Subscriptions that resume anywhere: two gateway processes sharing only
 * Redis, behind a balancer, and the typed client of src/client on one of
 * them. While the upstream (notifications) and a gateway (settings changed
 * through the other process) keep producing events, the client's process is
 * killed (SIGKILL), drained (SIGTERM), or Redis restarts; the client must
 * receive every event once and in order. The Redis restart uses a private
 * redis-server (test/support/private-redis.ts): restarting the machine's
 * shared Redis would disturb every other run on it.
 */
const redisForFile = await redisForTests('subscriptions-resume');
const redisServer = redisServerForTests('subscriptions-resume');
const { SUBSCRIPTIONS_SESSION_CHECK_SECONDS: _check, UPSTREAM_PUSH_HEARTBEAT_MS: _heartbeat, ...ENV } = FAST_ENV;

interface Run {
  user: SignedUpUser;
  received: any[];
  errors: unknown[];
  sentNotes: string[];
  sentNames: string[];
}

describe.skipIf(redisForFile.skip)('accountEvents resume on any instance', () => {
  let stack: Stack;
  beforeAll(async () => {
    redisForFile.require();
    stack = await startStack();
  });

  /** Two gateway processes on `redisUrl`, a balancer pointing at the first. */
  async function fleet(redisUrl: string): Promise<{ a: GatewayProcess; b: GatewayProcess; balancer: Balancer }> {
    const env = { ...ENV, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: redisForFile.keyPrefix('resume') };
    const [a, b] = await Promise.all([spawnGateway(stack, env), spawnGateway(stack, env)]);
    const balancer = await startBalancer(a.url);
    defer(() => balancer.close());
    return { a, b, balancer };
  }

  /**
   * Subscribes through the balancer; produces events (a notification, and
   * every other time a settings change through `mutateOn`) until `disrupt`
   * has run and `afterwards` more pairs went out; then a last notification.
   * Resolves once the client has it.
   */
  async function produceAround(balancer: Balancer, mutateOn: () => GatewayProcess, disrupt: () => Promise<void>): Promise<Run> {
    const user = await signUp(stack);
    const client = typedClient(balancer.url, { token: user.token, reconnect: { minDelayMs: 50, maxDelayMs: 400 } });
    defer(() => client.close());
    const run: Run = { user, received: [], errors: [], sentNotes: [], sentNames: [] };
    // Ended by client.close() (deferred above): the socket's dispose completes it.
    const events = client.subscribe(AccountEventsDocument);
    void (async () => {
      try {
        for await (const { accountEvents } of events) run.received.push(accountEvents);
      } catch (error) {
        run.errors.push(error);
      }
    })();
    const titles = () => run.received.filter((e) => e.__typename === 'Notification').map((e) => e.title as string);
    await socketsOf(stack.emulator.url, user.userId, 1, 20_000);
    await notify(stack, user.userId, 'start');
    await waitUntil(() => titles().includes('start'), 'the first event', 20_000);

    let i = 0;
    const pair = async () => {
      i += 1;
      await notify(stack, user.userId, `n${i}`);
      run.sentNotes.push(`n${i}`);
      if (i % 2 === 0) {
        const changed = await mutateOn().gql(UpdateSettingsDocument, { input: { firstName: `G${i}` } }, { token: user.token });
        expect(changed.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
        run.sentNames.push(`G${i}`);
      }
      // A steady stream, not a burst (the pace of production, no wait for a state).
      await new Promise((resolve) => setTimeout(resolve, 10));
    };
    for (let k = 0; k < 8; k += 1) await pair();
    await waitUntil(() => titles().includes(`n${i}`), 'the client mid-stream', 20_000);
    let disrupted = false;
    const producing = (async () => {
      while (!disrupted) await pair();
      for (let k = 0; k < 8; k += 1) await pair();
    })();
    await disrupt();
    disrupted = true;
    await producing;
    await notify(stack, user.userId, 'last');
    await waitUntil(() => titles().includes('last') || run.errors.length > 0, 'the last event', 30_000);
    return run;
  }

  /** Every event once, in order; ids ordered; no EventsMissed, no error. */
  function expectEverythingOnce(run: Run, processes: GatewayProcess[] = []) {
    if (process.env.DEBUG_RESUME) for (const p of processes) console.log(p.output());
    expect(run.errors).toEqual([]);
    const titles = run.received.filter((e) => e.__typename === 'Notification').map((e) => e.title);
    expect(titles).toEqual(['start', ...run.sentNotes, 'last']);
    const names = run.received.filter((e) => e.__typename === 'SettingsUpdated').map((e) => e.settings.firstName);
    expect(names).toEqual(run.sentNames);
    expect(run.received.map((e) => e.__typename)).not.toContain('EventsMissed');
    expect(new Set(run.received.map((e) => e.id)).size).toBe(run.received.length);
    expect(idsInOrder(run.received, run.user.userId)).toBe(true);
    expect(run.sentNotes.length).toBeGreaterThanOrEqual(16);
  }

  it('SIGKILL of the client\'s process mid-stream: it resumes on the other and gets every event once, in order', async () => {
    const { a, b, balancer } = await fleet(redisForFile.url);
    const run = await produceAround(balancer, () => b, async () => {
      a.child.kill('SIGKILL');
      await a.exited;
      balancer.pointAt(b.url);
    });
    expectEverythingOnce(run, [a, b]);
  });

  it('SIGTERM (a deploy): sockets close with 1012, the client resumes on the other process, every event once, in order', async () => {
    const { a, b, balancer } = await fleet(redisForFile.url);
    const run = await produceAround(balancer, () => b, async () => {
      balancer.pointAt(b.url);
      await a.stop();
      expect(a.output()).not.toMatch(/"level":"error"/);
    });
    expectEverythingOnce(run);
  });

  describe.skipIf(redisServer.skip)('with a Redis of its own', () => {
    let redis: PrivateRedis | null;
    beforeAll(async () => {
      redisServer.require();
      redis = await startPrivateRedis();
      if (redis) defer(() => redis!.stop());
    });

    it('a Redis restart mid-stream: the client stays on its process and gets every event once, in order', async () => {
      expect(redis, 'redis-server runs here but could not be started').not.toBeNull();
      const { b, balancer } = await fleet(redis!.url);
      const run = await produceAround(balancer, () => b, () => redis!.restart(() => new Promise((resolve) => setTimeout(resolve, 300))));
      expectEverythingOnce(run);
    });
  });
});
