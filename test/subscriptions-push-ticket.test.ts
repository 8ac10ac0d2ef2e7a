import { beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage } from '../src/events/bus.js';
import { AdmissionQueue } from '../src/events/admission.js';
import { Pacer } from '../src/events/pacer.js';
import { UpstreamRelay } from '../src/events/relay.js';
import { AccountClient } from '../src/upstream/account/client.js';
import { captureLogger, defer, disposeLeftovers, gatewayLogLines, waitUntil } from './support/harness.js';
import { type GatewayProcess, spawnGateway, type Stack, startStack } from './support/gateway.js';
import { socketsOf } from './support/emulators.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { FAST_ENV, notify, subscribe, wsClient } from './support/subscriptions.js';

/**
 * An answer of `user/auth/websocket` off contract (shared/UPSTREAM.md §1:
 * `{ url, ticket }`, the socket URL a ws(s) URL) is an Account API failure
 * like any other: logged, and the relay tries again with backoff. The
 * subscriptions stay open meanwhile, and upstream events flow once a ticket
 * is good. Never a crash: shown in a real gateway process, which an
 * unhandled rejection would end.
 */
describe('an off-contract push ticket', () => {
  let stack: Stack;
  let user: SignedUpUser;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
    user = await signUp(stack);
    gateway = await spawnGateway(stack, FAST_ENV);
  });

  it('keeps the gateway process up and the subscription open; upstream events flow once a ticket is good', async () => {
    await stack.account.resetCalls();
    for (const url of ['not a url', 'ftp://127.0.0.1/ws']) {
      await stack.account.post('force', { path: 'user/auth/websocket', state: 200, data: { url, ticket: 'x' } });
    }
    const { client, closed } = wsClient(gateway.url, user.token);
    let socketClosed: number | null = null;
    void closed.then((code) => (socketClosed = code));
    const events = subscribe(client);

    // Two refused answers, then the relay's third try opens the socket.
    await socketsOf(stack.emulator.url, user.userId, 1, 10_000);
    expect((await stack.account.calls())['user/auth/websocket']).toBe(3);
    await notify(stack, user.userId, 'after-bad-tickets');
    await events.untilNotification('after-bad-tickets');
    expect(gateway.alive()).toBe(true);
    expect(socketClosed).toBeNull();
    expect(events.completed).toBe(false);
    expect(events.errors).toEqual([]);
    const offContract = gateway.output().split('\n').filter((line) => line.includes('Account API answer off contract') && line.includes('user/auth/websocket'));
    expect(offContract).toHaveLength(2);

    // Later subscriptions work as usual.
    const later = subscribe(wsClient(gateway.url, user.token).client);
    await waitUntil(async () => {
      await notify(stack, user.userId, 'probe');
      return later.events.length > 0;
    }, 'the later subscription to receive');
    await notify(stack, user.userId, 'later');
    await later.untilNotification('later');
    await events.untilNotification('later');
    expect(gateway.alive()).toBe(true);
  });
});

describe('the relay, should a ticket it cannot open get through', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
  });

  it('logs it and retries: no unhandled rejection', async () => {
    const user = await signUp(stack);
    const logger = captureLogger({ relay_test: true });
    const account = new AccountClient({ baseUrl: stack.emulator.url, timeoutMs: 5000, maxBodyBytes: 1_048_576, connections: 2, logger });
    defer(() => account.close());
    // The Account API's answers, but the first two ticket URLs are ones `ws` refuses (as if ticketWire let them through).
    const bad = ['ftp://127.0.0.1/ws', 'ws+unix:'];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    defer(() => process.off('unhandledRejection', onUnhandled));
    const published: BusMessage[] = [];
    const relay = new UpstreamRelay({
      account: {
        getUser: account.getUser,
        websocketTicket: async (session) => {
          const answer = await account.websocketTicket(session);
          const url = bad.shift();
          return url === undefined ? answer : { ...answer, url };
        },
      },
      bus: {
        append: async (_userId, message) => {
          published.push(message);
          return null;
        },
        lastUpstreamId: async () => null,
      },
      admission: new AdmissionQueue({ concurrency: 2, maxWaiting: 10, deadlineMs: 5000 }),
      pacer: new Pacer(1000),
      logger,
      heartbeatMs: 2000,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      maxFrameBytes: 1_048_576,
      sessionCheckMs: 0,
    });
    defer(() => relay.close());
    relay.acquire(user.userId, user.token);

    await socketsOf(stack.emulator.url, user.userId, 1);
    await notify(stack, user.userId, 'through');
    await waitUntil(() => published.some((m) => m.event.type === 'Notification' && m.event.title === 'through'), 'the event through the relay');
    expect(bad).toEqual([]);
    expect(unhandled).toEqual([]);
    // Two failures of one kind: the first line at once, the second counted (RepeatedWarnings), written when the relay closes.
    const retrying = () => gatewayLogLines().filter((line) => line.includes('"relay_test":true') && line.includes('retrying'));
    expect(retrying()).toHaveLength(1);
    relay.close();
    expect(retrying().map((line) => JSON.parse(line).repeated)).toEqual([undefined, 1]);
    await disposeLeftovers();
  });
});
