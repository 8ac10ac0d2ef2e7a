import { beforeAll, describe, expect, it } from 'vitest';
import {
  CompletePasswordRecoveryDocument,
  ConfirmAccountDeletionDocument,
  LogoutDocument,
  RequestAccountDeletionDocument,
  StartPasswordRecoveryDocument,
  UpdateSettingsDocument,
  ViewerDocument,
} from '../src/client/generated/graphql.js';
import { rememberSecret, WAIT_MS, waitUntil, within } from './support/harness.js';
import { type Stack, startGateway, startStack, expectMember } from './support/gateway.js';
import { socketsOf } from './support/emulators.js';
import { type SignedUpUser, signUp, signIn } from './support/users.js';
import { FAST_ENV, notify, sseSubscribe, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * Sessions that end while, or before, they are subscribed: every new
 * subscription checks its session with the Account API, and the gateway's
 * own logout, account deletion and password recovery end the subscriptions
 * of the sessions they end at once.
 *
 * Nothing else may end them here: the session check runs at its default
 * (300 s), and so does the push socket's heartbeat (a reconnect picks the
 * newest session, and the ticket of an ended one tells the relay). Deletion
 * and recovery end the push socket's own session too, which the upstream
 * tells the relay; so they are shown on a gateway whose push socket is down
 * (refused, next try in a minute), where only the gateway itself can end
 * the subscriptions.
 */
const { SUBSCRIPTIONS_SESSION_CHECK_SECONDS: _check, UPSTREAM_PUSH_HEARTBEAT_MS: _heartbeat, ...FAST } = FAST_ENV;
// Every subscription checks its session here: reusing a check of the last SUBSCRIPTIONS_SESSION_FRESH_MS is shown in subscriptions-admission.test.ts.
const ENV = { ...FAST, SUBSCRIPTIONS_SESSION_FRESH_MS: '0' };
const PUSH_DOWN_ENV = { ...ENV, UPSTREAM_PUSH_RECONNECT_MIN_MS: '60000', UPSTREAM_PUSH_RECONNECT_MAX_MS: '60000' };

/** "At once": far under the 300 s session check (the only other way these would end), and generous for a busy machine. */
const AT_ONCE_MS = WAIT_MS;

describe('ended sessions and accountEvents', () => {
  let stack: Stack;
  let proxy: TcpProxy;
  beforeAll(async () => {
    stack = await startStack(ENV);
    expect(stack.gateway.services.config.SUBSCRIPTIONS_SESSION_CHECK_SECONDS).toBe(300);
    proxy = await startTcpProxy(stack.emulator.url, { refuseWebsockets: true });
  });

  type Gateway = Pick<Stack, 'url' | 'gateway' | 'gql'>;

  /** A gateway whose push sockets are refused: each relay tries once, then waits a minute (relaysRefused). */
  async function pushDownGateway(): Promise<Gateway> {
    return startGateway({ ...PUSH_DOWN_ENV, ACCOUNT_API_URL: proxy.url }, 'push-down');
  }
  const relaysRefused = async (count: number, since: number) => waitUntil(() => proxy.refused >= since + count, `${count} push sockets refused`);


  /**
   * `first` subscribes and the relay opens the user's one upstream socket
   * with its session; then `second` subscribes (over graphql-ws and SSE).
   * The upstream tells only the socket's session that it ended: whatever
   * ends `second`'s subscriptions is the gateway's doing.
   */
  async function subscribedTwice(user: SignedUpUser, first: string, second: string, on: Gateway = stack, others = 0) {
    // The subscriptions of the test before are gone first: a count that still holds one of them would say "live" too early.
    await subscriptionsReady(on.gateway, others);
    const a = wsClient(on.url, first);
    const aEvents = subscribe(a.client);
    await subscriptionsReady(on.gateway, others + 1);
    if (on === stack) await socketsOf(stack.emulator.url, user.userId, 1);
    const b = wsClient(on.url, second);
    const bEvents = subscribe(b.client);
    const bSse = await sseSubscribe(on.url, second);
    expect(bSse.status).toBe(200);
    await subscriptionsReady(on.gateway, others + 3);
    return { a, aEvents, b, bEvents, bSse };
  }

  /** The subscription ended as README says: SessionExpired, complete, and a graphql-ws socket closed with 4403. */
  async function endedAtOnce(ws: ReturnType<typeof wsClient>, events: ReturnType<typeof subscribe>, what: string) {
    expect(await within(ws.closed, AT_ONCE_MS, `${what}: the socket closed`)).toBe(4403);
    expect(events.typenames()).toEqual(['SessionExpired']);
    expect(events.completed).toBe(true);
  }

  it('a new subscription checks its session with the Account API, not a remembered one (SSE and graphql-ws)', async () => {
    const user = await signUp(stack);
    const other = await signIn(stack, user);
    // A first subscription makes the gateway remember the session's user.
    const first = await sseSubscribe(stack.url, other);
    await subscriptionsReady(stack.gateway, 1);
    first.close();
    await subscriptionsReady(stack.gateway, 0);

    // The session ends where the gateway cannot see it: straight at the Account API.
    const res = await fetch(`${stack.emulator.url}/user/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${other}` }, body: '{}' });
    expect(await res.json()).toEqual({ state: 200, data: true });
    const viewer = await stack.gql(ViewerDocument, {}, { token: other });
    expect(viewer.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);

    const sse = await sseSubscribe(stack.url, other);
    await within(waitUntil(() => sse.ended, 'the SSE answer to end'), AT_ONCE_MS, 'the SSE answer to end');
    expect(sse.text).toContain('"UNAUTHENTICATED"');
    expect(sse.events).toEqual([]);
    expect(stack.gateway.services.events.stats().subscriptions).toBe(0);

    const ws = wsClient(stack.url, other);
    const wsEvents = subscribe(ws.client);
    expect(await within(ws.closed, AT_ONCE_MS, 'the graphql-ws socket to close')).toBe(4403);
    expect(wsEvents.events).toEqual([]);

    // The user's live session still subscribes.
    const live = await sseSubscribe(stack.url, user.token);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, user.userId, 1);
    await notify(stack, user.userId, 'still-live');
    await live.untilNotification('still-live');
  });

  it('logout ends that session\'s subscriptions at once (graphql-ws and SSE); the user\'s other session goes on', async () => {
    const user = await signUp(stack);
    const phone = await signIn(stack, user);
    const { aEvents, b, bEvents, bSse } = await subscribedTwice(user, user.token, phone);

    const out = await stack.gql(LogoutDocument, {}, { token: phone });
    expect(out.data?.logout.__typename).toBe('LogoutSuccess');
    await endedAtOnce(b, bEvents, 'logout');
    await within(waitUntil(() => bSse.ended, 'the SSE stream to end'), AT_ONCE_MS, 'the SSE stream to end');
    expect(bSse.typenames()).toEqual(['SessionExpired']);
    expect(bSse.completed).toBe(true);

    await notify(stack, user.userId, 'laptop-only');
    await aEvents.untilNotification('laptop-only');
    expect(aEvents.typenames()).toEqual(['Notification']);
    await subscriptionsReady(stack.gateway, 1);
    const again = await sseSubscribe(stack.url, phone);
    await within(waitUntil(() => again.ended, 'the SSE answer to end'), AT_ONCE_MS, 'the SSE answer to end');
    expect(again.text).toContain('"UNAUTHENTICATED"');
  });

  it('completePasswordRecovery ends the subscriptions of every other session at once; the new session subscribes', async () => {
    const on = await pushDownGateway();
    const refused = proxy.refused;
    const user = await signUp(stack);
    const phone = await signIn(stack, user);
    const bystander = await signUp(stack);
    const bystanderEvents = subscribe(wsClient(on.url, bystander.token).client);
    await subscriptionsReady(on.gateway, 1);
    const { a, aEvents, b, bEvents, bSse } = await subscribedTwice(user, user.token, phone, on, 1);
    await relaysRefused(2, refused);

    const started = (await on.gql(StartPasswordRecoveryDocument, { input: { login: user.email } })).data?.startPasswordRecovery;
    expectMember(started, 'StartPasswordRecoverySuccess');
    const { recoveryToken } = started;
    const code = await stack.account.code(user.email, 'recovery');
    const done = (await on.gql(CompletePasswordRecoveryDocument, { input: { recoveryToken, code, newPassword: 'a brand new pw 2' } })).data?.completePasswordRecovery;
    expectMember(done, 'AuthSuccess');
    const fresh = done.session.token;
    rememberSecret(fresh);

    await endedAtOnce(a, aEvents, 'recovery, one other session');
    await endedAtOnce(b, bEvents, 'recovery, another');
    await within(waitUntil(() => bSse.ended, 'the SSE stream to end'), AT_ONCE_MS, 'the SSE stream to end');
    expect(bSse.typenames()).toEqual(['SessionExpired']);
    await subscriptionsReady(on.gateway, 1);

    // The new session subscribes and gets its events; another user's subscription never noticed.
    const freshEvents = subscribe(wsClient(on.url, fresh).client);
    await subscriptionsReady(on.gateway, 2);
    // Push sockets are refused here, so no event comes: both subscriptions simply stay live.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(on.gateway.services.events.stats().subscriptions).toBe(2);
    expect([freshEvents.events, freshEvents.completed, bystanderEvents.events, bystanderEvents.completed]).toEqual([[], false, [], false]);
  });

  it('confirmAccountDeletion ends the subscriptions of every session of the user at once', async () => {
    const on = await pushDownGateway();
    const refused = proxy.refused;
    const user = await signUp(stack);
    const phone = await signIn(stack, user);
    const { a, aEvents, b, bEvents, bSse } = await subscribedTwice(user, user.token, phone, on);
    await relaysRefused(1, refused);

    const requested = await on.gql(RequestAccountDeletionDocument, {}, { token: phone });
    expect(requested.data?.requestAccountDeletion.__typename).toBe('RequestAccountDeletionSuccess');
    const code = await stack.account.code(user.email, 'deletion');
    const deleted = await on.gql(ConfirmAccountDeletionDocument, { input: { code } }, { token: phone });
    expect(deleted.data?.confirmAccountDeletion.__typename).toBe('ConfirmAccountDeletionSuccess');

    await endedAtOnce(b, bEvents, 'deletion, the session that deleted');
    await endedAtOnce(a, aEvents, 'deletion, the other session');
    await within(waitUntil(() => bSse.ended, 'the SSE stream to end'), AT_ONCE_MS, 'the SSE stream to end');
    expect(bSse.typenames()).toEqual(['SessionExpired']);
    await subscriptionsReady(on.gateway, 0);
    expect(on.gateway.services.events.stats()).toEqual({ subscriptions: 0, users: 0, relays: 0 });
  });
});
