import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatingSiteEmulation } from '../src/emulator/dating/sites.js';
import { UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { waitUntil } from './support/harness.js';
import { gql, type Stack, startGateway, startStack } from './support/gateway.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { FAST_ENV, idsInOrder, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * joinDating changes the user's products like activateProduct and
 * deactivateProduct do, so it publishes ProductsUpdated at once as they do.
 * The gateway under test reaches the Account API through a proxy that refuses
 * every push socket: whatever its subscribers get, the gateway published.
 */
const SITES: DatingSiteEmulation[] = [{ id: 'open', apiKey: 'events-open-site-key', ipWhitelist: ['127.0.0.1', '::1'], perMinuteLimit: 500 }];

const JOIN = `mutation($input: JoinDatingInput!) { joinDating(input: $input) {
  __typename
  ... on JoinDatingSuccess { productActivated }
  ... on DatingRefused { productDeactivated }
} }`;

describe('joinDating and accountEvents', () => {
  let stack: Stack;
  let proxy: TcpProxy;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV, { dating: SITES });
    proxy = await startTcpProxy(stack.emulator.url, { refuseWebsockets: true });
  });

  const join = (who: SignedUpUser, input: Record<string, unknown> = {}, url = gateway.url) =>
    gql(url, JOIN, { input: { site: 'open', password: 'dating-pass-1', idempotencyKey: randomUUID(), ...input } }, { token: who.token });

  /** A verified account whose sex and birthday the sites accept. */
  async function account(): Promise<SignedUpUser> {
    const who = await signUp(stack);
    const res = await stack.gql(
      'mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { __typename } }',
      { input: { sex: 'CISGENDER_WOMAN', birthday: '1990-04-17' } },
      { token: who.token },
    );
    expect(res.data.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    return who;
  }

  /** A subscriber of `who` on the gateway without push sockets, live once its relay was refused. */
  async function subscriber(who: SignedUpUser) {
    gateway = await startGateway({ ...stack.env, ACCOUNT_API_URL: proxy.url }, 'no-push-socket');
    const events = subscribe(wsClient(gateway.url, who.token).client);
    await subscriptionsReady(gateway.gateway, 1);
    const refused = proxy.refused;
    await waitUntil(() => proxy.refused > refused, 'the relay\'s push socket refused');
    return events;
  }

  /** Everything published before a last change of the first name (published by this gateway too, so in order after them). */
  async function eventsBeforeFence(who: SignedUpUser, events: ReturnType<typeof subscribe>) {
    await gateway.gql(UpdateSettingsDocument, { input: { firstName: 'Fence' } }, { token: who.token });
    await events.until((e) => e.some((x) => x.settings?.firstName === 'Fence'), 'the fence');
    // No push socket here (refused): all came from this gateway's mutations, in order.
    expect(idsInOrder(events.events, who.userId)).toBe(true);
    return events.events.slice(0, -1).map((e) => [e.__typename, e.activeProductIds]);
  }

  it('publishes the activation at once', async () => {
    const who = await account();
    const events = await subscriber(who);
    const res = await join(who);
    expect(res.data.joinDating).toEqual({ __typename: 'JoinDatingSuccess', productActivated: true });
    expect(await eventsBeforeFence(who, events)).toEqual([['ProductsUpdated', ['dating']]]);
  });

  it('publishes the activation and its undo when the site refuses', async () => {
    const who = await account();
    await join(await account(), { email: who.email }, stack.url); // someone took the email on the site
    const events = await subscriber(who);
    const res = await join(who);
    expect(res.data.joinDating).toEqual({ __typename: 'DatingRefused', productDeactivated: true });
    expect(await eventsBeforeFence(who, events)).toEqual([
      ['ProductsUpdated', ['dating']],
      ['ProductsUpdated', []],
    ]);
  });
});
