import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatingSiteEmulation } from '../src/emulator/dating/sites.js';
import { UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { socketsOf } from './support/emulators.js';
import { gql, type Stack, startStack } from './support/gateway.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { FAST_ENV, idsInOrder, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';

/**
 * joinDating changes the user's products like activateProduct and
 * deactivateProduct do: its subscribers get the Account API's
 * ProductsUpdated echoes (the gateway publishes no copy of its own), in the
 * Account API's order, once each.
 */
const SITES: DatingSiteEmulation[] = [{ id: 'open', apiKey: 'events-open-site-key', ipWhitelist: ['127.0.0.1', '::1'], perMinuteLimit: 500 }];

const JOIN = `mutation($input: JoinDatingInput!) { joinDating(input: $input) {
  __typename
  ... on JoinDatingSuccess { productActivated }
  ... on DatingRefused { productDeactivated }
} }`;

describe('joinDating and accountEvents', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV, { dating: SITES });
  });

  const join = (who: SignedUpUser, input: Record<string, unknown> = {}, url = stack.url) =>
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

  /** A subscriber of `who`, live once the user's push socket is open. */
  async function subscriber(who: SignedUpUser) {
    const events = subscribe(wsClient(stack.url, who.token).client);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, who.userId, 1);
    return events;
  }

  /** Every event before a last change of the first name (its echo comes after theirs, in the Account API's order). */
  async function eventsBeforeFence(who: SignedUpUser, events: ReturnType<typeof subscribe>) {
    await stack.gql(UpdateSettingsDocument, { input: { firstName: 'Fence' } }, { token: who.token });
    await events.until((e) => e.some((x) => x.settings?.firstName === 'Fence'), 'the fence');
    expect(idsInOrder(events.events, who.userId)).toBe(true);
    return events.events.slice(0, -1).map((e) => [e.__typename, e.activeProductIds]);
  }

  it('its subscribers get the activation', async () => {
    const who = await account();
    const events = await subscriber(who);
    const res = await join(who);
    expect(res.data.joinDating).toEqual({ __typename: 'JoinDatingSuccess', productActivated: true });
    expect(await eventsBeforeFence(who, events)).toEqual([['ProductsUpdated', ['dating']]]);
  });

  it('its subscribers get the activation and its undo when the site refuses', async () => {
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
