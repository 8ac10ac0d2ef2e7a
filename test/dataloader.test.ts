import { describe, expect, it } from 'vitest';
import { useStack } from './support/gateway.js';
import { signUp } from './support/users.js';

describe('per-request DataLoaders', () => {
  const t = useStack();

  it('fetch settings, products and the user once per request however often they are named', async () => {
    await t.stack.account.resetCalls();
    const result = await t.stack.gql(
      `{
        viewer { id settings { sex } again: settings { lang: language } products { id } }
        me: viewer { id third: settings { news } }
        products { state }
      }`,
      {},
      { token: t.user.token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.viewer.id).toBe(t.user.userId);
    expect(result.data.products.length).toBeGreaterThanOrEqual(3);
    const calls = await t.stack.account.calls();
    expect(calls['user/settings/get']).toBe(1);
    expect(calls['user/products/get']).toBe(1);
    expect(calls['user/get']).toBe(1);
  });

  it('a mutation payload shows the state after the change', async () => {
    await t.stack.account.resetCalls();
    const result = await t.stack.gql(
      `mutation {
        activateProduct(input: { productId: "webstat" }) { ... on ActivateProductSuccess { product { id state } activeProductIds } }
        updateSettings(input: { firstName: "Berta" }) { ... on UpdateSettingsSuccess { settings { firstName } } }
      }`,
      {},
      { token: t.user.token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.activateProduct).toEqual({ product: { id: 'webstat', state: 'ACTIVATED' }, activeProductIds: ['webstat'] });
    expect(result.data.updateSettings.settings.firstName).toBe('Berta');
    const viewer = await t.stack.gql(`{ viewer { activeProductIds settings { firstName } } }`, {}, { token: t.user.token });
    expect(viewer.data.viewer).toEqual({ activeProductIds: ['webstat'], settings: { firstName: 'Berta' } });
  });

  it('requests do not share loaders: each sees its own session', async () => {
    const other = await signUp(t.stack);
    const [a, b] = await Promise.all([
      t.stack.gql(`{ viewer { id email } }`, {}, { token: t.user.token }),
      t.stack.gql(`{ viewer { id email } }`, {}, { token: other.token }),
    ]);
    expect(a.data.viewer).toEqual({ id: t.user.userId, email: t.user.email });
    expect(b.data.viewer).toEqual({ id: other.userId, email: other.email });
  });
});
