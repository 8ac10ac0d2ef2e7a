import { beforeAll, describe, expect, it } from 'vitest';
import { ActivateProductDocument, ConfirmContactChangeDocument, LogoutDocument, UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { waitUntil } from './support/harness.js';
import { type Stack, startStack } from './support/gateway.js';
import { socketsOf } from './support/emulators.js';
import { type SignedUpUser, signUp, signIn } from './support/users.js';
import { ACCOUNT_EVENTS, FAST_ENV, idsInOrder, notify, setSettingsUpstream, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';

/**
 * `accountEvents` over graphql-ws and SSE against the real emulator push
 * socket: delivery, order, once-only, isolation between users, sessions.
 * Every list is checked after a final notification, which the upstream
 * socket delivers after anything that came before it: a late duplicate
 * would be in the list by then.
 */
describe('accountEvents', () => {
  let stack: Stack;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
    [ann, bob] = await Promise.all([signUp(stack), signUp(stack)]);
  });

  it('delivers a change made through the gateway and one made upstream, in order, once each, to that user only', async () => {
    const annEvents = subscribe(wsClient(stack.url, ann.token).client);
    const bobEvents = subscribe(wsClient(stack.url, bob.token).client);
    await subscriptionsReady(stack.gateway, 2);
    await Promise.all([socketsOf(stack.emulator.url, ann.userId, 1), socketsOf(stack.emulator.url, bob.userId, 1)]);

    const changed = await stack.gql(UpdateSettingsDocument, { input: { firstName: 'Anna' } }, { token: ann.token });
    expect(changed.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    await annEvents.until((e) => e.length === 1, 'the gateway change');
    await setSettingsUpstream(stack, ann.token, { first_name: 'Anne' });
    await annEvents.until((e) => e.length === 2, 'the upstream change');
    await notify(stack, ann.userId, 'ann-last');
    await annEvents.untilNotification('ann-last');
    await notify(stack, bob.userId, 'bob-last');
    await bobEvents.untilNotification('bob-last');

    expect(annEvents.events.map((e) => [e.__typename, e.settings?.firstName ?? e.title])).toEqual([
      ['SettingsUpdated', 'Anna'],
      ['SettingsUpdated', 'Anne'],
      ['Notification', 'ann-last'],
    ]);
    expect(idsInOrder(annEvents.events, ann.userId)).toBe(true);
    expect(new Set(annEvents.events.map((e) => e.id)).size).toBe(3);
    expect(bobEvents.events.map((e) => e.title)).toEqual(['bob-last']);
    expect(annEvents.errors).toEqual([]);
  });

  it('products and a confirmed contact: the mutation\'s event at once, the upstream copy dropped', async () => {
    const events = subscribe(wsClient(stack.url, ann.token).client);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, ann.userId, 1);

    const activated = await stack.gql(ActivateProductDocument, { input: { productId: 'webstat' } }, { token: ann.token });
    expect(activated.data?.activateProduct.__typename).toBe('ActivateProductSuccess');
    const email = `new.${ann.email}`;
    await stack.gql(UpdateSettingsDocument, { input: { email } }, { token: ann.token });
    const code = await stack.account.code(email, 'contact_change');
    const confirmed = await stack.gql(ConfirmContactChangeDocument, { input: { code } }, { token: ann.token });
    expect(confirmed.data?.confirmContactChange.__typename).toBe('ConfirmContactChangeSuccess');
    await notify(stack, ann.userId, 'products-last');
    await events.untilNotification('products-last');

    const seen = events.events.map((e) => `${e.__typename}:${e.activeProductIds ?? e.channel ?? e.title ?? ''}`);
    // The contact change's settings.updated comes only from upstream; its user.verified is the ContactVerified the mutation published.
    expect(seen.filter((s) => !s.startsWith('SettingsUpdated')).sort()).toEqual(['ContactVerified:EMAIL', 'Notification:products-last', 'ProductsUpdated:webstat']);
    expect(seen.filter((s) => s.startsWith('SettingsUpdated'))).toHaveLength(1);
    expect(events.events[0].__typename).toBe('ProductsUpdated');
    expect(idsInOrder(events.events, ann.userId)).toBe(true);
  });

  it('over SSE with the Authorization header, and UNAUTHENTICATED without a session', async () => {
    const controller = new AbortController();
    const res = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ query: ACCOUNT_EVENTS }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, bob.userId, 1);
    await notify(stack, bob.userId, 'over-sse');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('over-sse')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const dataLine = text.split('\n').find((line) => line.startsWith('data:') && line.includes('over-sse'))!;
    expect(JSON.parse(dataLine.slice(5)).data.accountEvents).toMatchObject({ __typename: 'Notification', title: 'over-sse' });
    await subscriptionsReady(stack.gateway, 0);

    const anonymous = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: ACCOUNT_EVENTS }),
    });
    const body = await anonymous.text();
    expect(body).toContain('"UNAUTHENTICATED"');
    expect(body).not.toContain('accountEvents":{');
  });

  it('a missing, malformed or unknown session closes the socket with 4403', async () => {
    for (const token of [null, 'not a token', 'f0f0f0f0-0000-4000-8000-000000000000']) {
      const { client, closed } = wsClient(stack.url, token);
      const events = subscribe(client);
      expect(await closed).toBe(4403);
      expect(events.events).toEqual([]);
    }
  });

  it('an ended session: SessionExpired, complete, then the socket closes with 4403 and the token is refused', async () => {
    const carl = await signUp(stack);
    const { client, closed } = wsClient(stack.url, carl.token);
    const events = subscribe(client);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, carl.userId, 1);

    await stack.account.post('expire', { user_id: carl.userId });
    expect(await closed).toBe(4403);
    expect(events.typenames()).toEqual(['SessionExpired']);
    expect(events.completed).toBe(true);
    await subscriptionsReady(stack.gateway, 0);
    await socketsOf(stack.emulator.url, carl.userId, 0);
    expect(stack.gateway.services.events.stats()).toEqual({ subscriptions: 0, users: 0, relays: 0 });

    const again = wsClient(stack.url, carl.token);
    subscribe(again.client);
    expect(await again.closed).toBe(4403);
  });

  it('ending one session of a user ends only that session\'s subscriptions', async () => {
    const dana = await signUp(stack);
    const phone = await signIn(stack, dana);
    const laptop = wsClient(stack.url, dana.token);
    const laptopEvents = subscribe(laptop.client);
    const phoneEvents = subscribe(wsClient(stack.url, phone).client);
    await subscriptionsReady(stack.gateway, 2);
    await socketsOf(stack.emulator.url, dana.userId, 1);

    // Whether the relay's one socket uses the laptop's session (the upstream says it ended) or the phone's (the session check finds it), only the laptop's subscription ends.
    await stack.gql(LogoutDocument, {}, { token: dana.token });
    expect(await laptop.closed).toBe(4403);
    expect(laptopEvents.typenames()).toEqual(['SessionExpired']);
    await notify(stack, dana.userId, 'phone-only');
    await phoneEvents.untilNotification('phone-only');
    expect(phoneEvents.typenames()).toEqual(['Notification']);
    await waitUntil(() => stack.gateway.services.events.stats().subscriptions === 1, 'one subscription left');
  });
});
