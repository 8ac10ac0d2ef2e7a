import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedUpUser, type Stack, signUp, startStack } from './support/stack.js';

describe('per-request DataLoaders', () => {
  let stack: Stack;
  let user: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack();
    user = await signUp(stack);
  });
  afterAll(() => stack.stop());

  it('fetch settings, products and the user once per request however often they are named', async () => {
    await stack.account.resetCalls();
    const result = await stack.gql(
      `{
        viewer { id settings { sex } again: settings { lang: language } products { id } }
        me: viewer { id third: settings { news } }
        products { state }
      }`,
      {},
      { token: user.token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.viewer.id).toBe(user.userId);
    expect(result.data.products.length).toBeGreaterThanOrEqual(3);
    const calls = await stack.account.calls();
    expect(calls['user/settings/get']).toBe(1);
    expect(calls['user/products/get']).toBe(1);
    expect(calls['user/get']).toBe(1);
  });

  it('a mutation payload shows the state after the change', async () => {
    await stack.account.resetCalls();
    const result = await stack.gql(
      `mutation {
        activateProduct(input: { productId: "webstat" }) { ... on ActivateProductSuccess { product { id state } activeProductIds } }
        updateSettings(input: { firstName: "Berta" }) { ... on UpdateSettingsSuccess { settings { firstName } } }
      }`,
      {},
      { token: user.token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.activateProduct).toEqual({ product: { id: 'webstat', state: 'ACTIVATED' }, activeProductIds: ['webstat'] });
    expect(result.data.updateSettings.settings.firstName).toBe('Berta');
    const viewer = await stack.gql(`{ viewer { activeProductIds settings { firstName } } }`, {}, { token: user.token });
    expect(viewer.data.viewer).toEqual({ activeProductIds: ['webstat'], settings: { firstName: 'Berta' } });
  });

  it('requests do not share loaders: each sees its own session', async () => {
    const other = await signUp(stack);
    const [a, b] = await Promise.all([
      stack.gql(`{ viewer { id email } }`, {}, { token: user.token }),
      stack.gql(`{ viewer { id email } }`, {}, { token: other.token }),
    ]);
    expect(a.data.viewer).toEqual({ id: user.userId, email: user.email });
    expect(b.data.viewer).toEqual({ id: other.userId, email: other.email });
  });
});
