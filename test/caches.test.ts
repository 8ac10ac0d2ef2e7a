import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { introspectionFromSchema } from 'graphql';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AccountEventsDocument,
  ActivateProductDocument,
  ProductsScreenDocument,
  SettingsScreenDocument,
  UpdateSettingsDocument,
  type ProductsScreenQuery,
  type SettingsScreenQuery,
} from '../src/client/generated/graphql.js';
import possibleTypes from '../src/client/generated/possible-types.js';
import { schema } from '../src/schema/index.js';
import { defer, waitUntil } from './support/harness.js';
import { type Stack, startStack } from './support/gateway.js';
import { type SignedUpUser, signUp } from './support/users.js';
import { socketsOf } from './support/emulators.js';
import { FAST_ENV, setSettingsUpstream, subscriptionsReady } from './support/subscriptions.js';

/**
 * Normalized caches of the two client libraries frontends use, fed only by
 * the gateway's answers: a watched query shows the new state after
 * `updateSettings`, after `activateProduct`, and after a `SettingsUpdated`
 * event (a change made upstream), with no refetch. What makes it work is in
 * the schema: `Settings` and `Consents` carry the user's id, and every
 * success that changes the user returns the changed `User`.
 */

/** The latest value a watched query showed. */
interface Watched<T> {
  latest: T | undefined;
}

describe('normalized caches update themselves', () => {
  let stack: Stack;
  let user: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
    user = await signUp(stack);
  });
  // Each test counts its own live subscriptions: the last test's are gone first.
  beforeEach(() => subscriptionsReady(stack.gateway, 0, 10_000));

  /** Counts the requests a client library sends, to prove nothing was refetched. */
  function countingFetch() {
    const sent: string[] = [];
    const counted: typeof fetch = (input, init) => {
      // POST bodies name the operation; urql sends queries as GET with `operationName` in the URL.
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { operationName?: string }) : {};
      sent.push(body.operationName ?? new URL(String(input instanceof Request ? input.url : input)).searchParams.get('operationName') ?? '?');
      return fetch(input, init);
    };
    return { sent, fetch: counted };
  }

  describe('Apollo Client 4 (InMemoryCache with the generated possibleTypes)', () => {
    function apollo() {
      const counter = countingFetch();
      const client = new ApolloClient({
        link: new HttpLink({ uri: stack.url, headers: { authorization: `Bearer ${user.token}` }, fetch: counter.fetch }),
        cache: new InMemoryCache({ possibleTypes: possibleTypes.possibleTypes }),
      });
      defer(() => client.stop());
      return { client, sent: counter.sent };
    }

    function watch<T>(client: ApolloClient, query: Parameters<ApolloClient['watchQuery']>[0]['query']): Watched<T> {
      const watched: Watched<T> = { latest: undefined };
      const subscription = client.watchQuery({ query }).subscribe((result) => {
        if (result.data) watched.latest = result.data as T;
      });
      defer(() => subscription.unsubscribe());
      return watched;
    }

    it('updateSettings: the watched settings show the change; a query of other settings fields merges', async () => {
      const { client, sent } = apollo();
      const screen = watch<SettingsScreenQuery>(client, SettingsScreenDocument);
      await waitUntil(() => screen.latest !== undefined, 'the settings screen');
      expect(screen.latest!.viewer!.settings.id).toBe(user.userId);

      const firstName = `Apollo${Date.now() % 100_000}`;
      const { data } = await client.mutate({ mutation: UpdateSettingsDocument, variables: { input: { firstName, consents: { biometrics: true } } } });
      expect(data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
      await waitUntil(() => screen.latest?.viewer?.settings.firstName === firstName, 'the new first name in the watched query');
      expect(screen.latest!.viewer!.settings.consents.biometrics).toBe(true);
      expect(sent).toEqual(['SettingsScreen', 'UpdateSettings']);

      // Another screen's selection of the same Settings merges into it instead of replacing it.
      await client.query({ query: gql`query Birthday { viewer { id settings { id birthday } } }` });
      expect((client.cache.extract() as Record<string, unknown>)[`Settings:${user.userId}`]).toMatchObject({ id: user.userId, firstName, birthday: null });
      expect(screen.latest!.viewer!.settings.firstName).toBe(firstName);
    });

    it('activateProduct: the watched catalogue and the viewer show the activation', async () => {
      const { client, sent } = apollo();
      const products = watch<ProductsScreenQuery>(client, ProductsScreenDocument);
      const screen = watch<SettingsScreenQuery>(client, SettingsScreenDocument);
      await waitUntil(() => products.latest !== undefined && screen.latest !== undefined, 'both screens');
      expect(products.latest!.products.find((p) => p.id === 'webstat')?.state).toBe('DEACTIVATED');

      const { data } = await client.mutate({ mutation: ActivateProductDocument, variables: { input: { productId: 'webstat' } } });
      expect(data?.activateProduct.__typename).toBe('ActivateProductSuccess');
      await waitUntil(() => products.latest?.products.find((p) => p.id === 'webstat')?.state === 'ACTIVATED', 'webstat activated in the catalogue');
      await waitUntil(() => screen.latest?.viewer?.activeProductIds.includes('webstat') === true, 'webstat among the viewer\'s products');
      expect(sent.filter((name) => name !== 'ActivateProduct').sort()).toEqual(['ProductsScreen', 'SettingsScreen']);
    });

    it('a SettingsUpdated event (multipart subscription) updates the watched settings', async () => {
      const { client, sent } = apollo();
      const screen = watch<SettingsScreenQuery>(client, SettingsScreenDocument);
      await waitUntil(() => screen.latest !== undefined, 'the settings screen');
      const events = client.subscribe({ query: AccountEventsDocument }).subscribe(() => undefined);
      defer(() => events.unsubscribe());
      await subscriptionsReady(stack.gateway, 1, 10_000);
      await socketsOf(stack.emulator.url, user.userId, 1, 10_000);

      const lastName = `Upstream${Date.now() % 100_000}`;
      await setSettingsUpstream(stack, user.token, { last_name: lastName });
      await waitUntil(() => screen.latest?.viewer?.settings.lastName === lastName, 'the upstream change in the watched query', 10_000);
      expect(sent).toEqual(['SettingsScreen', 'AccountEvents']);
    });
  });

  describe('urql 6 (graphcache with the schema\'s introspection)', () => {
    function urql() {
      const counter = countingFetch();
      const client = new UrqlClient({
        url: stack.url,
        fetch: counter.fetch,
        fetchOptions: { headers: { authorization: `Bearer ${user.token}` } },
        fetchSubscriptions: true,
        exchanges: [cacheExchange({ schema: introspectionFromSchema(schema) }), fetchExchange],
      });
      return { client, sent: counter.sent };
    }

    function watch<T>(client: UrqlClient, query: Parameters<UrqlClient['query']>[0]): Watched<T> {
      const watched: Watched<T> = { latest: undefined };
      const { unsubscribe } = client.query(query, {}).subscribe((result) => {
        if (result.data) watched.latest = result.data as T;
      });
      defer(unsubscribe);
      return watched;
    }

    it('updateSettings: the watched settings show the change', async () => {
      const { client, sent } = urql();
      const screen = watch<SettingsScreenQuery>(client, SettingsScreenDocument);
      await waitUntil(() => screen.latest !== undefined, 'the settings screen');
      const firstName = `Urql${Date.now() % 100_000}`;
      const result = await client.mutation(UpdateSettingsDocument, { input: { firstName } }).toPromise();
      expect(result.data?.updateSettings.__typename).toBe('UpdateSettingsSuccess');
      await waitUntil(() => screen.latest?.viewer?.settings.firstName === firstName, 'the new first name in the watched query');
      expect(sent).toEqual(['SettingsScreen', 'UpdateSettings']);
    });

    it('activateProduct: the watched catalogue and the viewer show the activation', async () => {
      const { client, sent } = urql();
      const products = watch<ProductsScreenQuery>(client, ProductsScreenDocument);
      const screen = watch<SettingsScreenQuery>(client, SettingsScreenDocument);
      await waitUntil(() => products.latest !== undefined && screen.latest !== undefined, 'both screens');
      const productId = products.latest!.products.find((p) => p.state === 'DEACTIVATED')!.id;

      const result = await client.mutation(ActivateProductDocument, { input: { productId } }).toPromise();
      expect(result.data?.activateProduct.__typename).toBe('ActivateProductSuccess');
      await waitUntil(() => products.latest?.products.find((p) => p.id === productId)?.state === 'ACTIVATED', `${productId} activated in the catalogue`);
      await waitUntil(() => screen.latest?.viewer?.activeProductIds.includes(productId) === true, `${productId} among the viewer's products`);
      expect(sent.filter((name) => name !== 'ActivateProduct').sort()).toEqual(['ProductsScreen', 'SettingsScreen']);
    });

    it('a SettingsUpdated event (SSE over fetch) updates the watched settings', async () => {
      const { client, sent } = urql();
      const screen = watch<SettingsScreenQuery>(client, SettingsScreenDocument);
      await waitUntil(() => screen.latest !== undefined, 'the settings screen');
      const { unsubscribe } = client.subscription(AccountEventsDocument, {}).subscribe(() => undefined);
      defer(unsubscribe);
      await subscriptionsReady(stack.gateway, 1, 10_000);
      await socketsOf(stack.emulator.url, user.userId, 1, 10_000);

      const lastName = `Graphcache${Date.now() % 100_000}`;
      await setSettingsUpstream(stack, user.token, { last_name: lastName });
      await waitUntil(() => screen.latest?.viewer?.settings.lastName === lastName, 'the upstream change in the watched query', 10_000);
      expect(sent).toEqual(['SettingsScreen', 'AccountEvents']);
    });
  });
});
