import { GraphQLUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { useStack } from './support/gateway.js';

/**
 * Operations run compiled (src/plugins/useCompiledExecution.ts), one
 * compiled query per operation of a document: a document of several
 * operations, as GraphiQL sends its whole editor, answers with the one each
 * request names, whichever ran first, on the JSON lane (POST) and on yoga's
 * own path (GET). Unions resolve compiled as on graphql-js, and the schema
 * yoga runs is left as it was built (graphql-jit compiles against its own copy).
 */
const DOCUMENT = 'query Typename { __typename } query Sites { datingSites { id } } query Both { __typename datingSites { id } }';

describe('compiled execution', () => {
  // As built, before the gateway compiles anything.
  const unions = Object.values(schema.getTypeMap()).filter((type): type is GraphQLUnionType => type instanceof GraphQLUnionType);
  const resolvers = unions.map((union) => union.resolveType);
  const t = useStack();

  const post = async (operationName: string) => {
    const res = await fetch(t.stack.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: DOCUMENT, operationName }) });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };
  const get = async (operationName: string) => {
    const url = new URL(t.stack.url);
    url.searchParams.set('query', DOCUMENT);
    url.searchParams.set('operationName', operationName);
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };

  it.each([
    ['POST', post],
    ['GET', get],
  ])('answers each operation of one document with its own fields (%s)', async (_method, send) => {
    for (const name of ['Typename', 'Sites', 'Both', 'Typename', 'Sites']) {
      const answer = await send(name);
      expect(answer.errors, name).toBeUndefined();
      const fields = Object.keys(answer.data ?? {}).sort();
      expect(fields, name).toEqual(name === 'Typename' ? ['__typename'] : name === 'Sites' ? ['datingSites'] : ['__typename', 'datingSites']);
    }
  });

  it('resolves a union compiled, without changing the schema yoga runs', async () => {
    const query = 'mutation Activate($id: ID!) { activateProduct(input: { productId: $id }) { __typename ... on Error { message } } }';
    for (let i = 0; i < 2; i++) {
      const res = await fetch(t.stack.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.user.token}` },
        body: JSON.stringify({ query, variables: { id: 'no-such-product' } }),
      });
      const answer = (await res.json()) as { data?: { activateProduct?: { __typename: string; message?: string } }; errors?: unknown[] };
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.activateProduct?.__typename).toBe('ProductNotFound');
      expect(answer.data?.activateProduct?.message).toEqual(expect.any(String));
    }
    expect(unions.map((union) => union.resolveType)).toEqual(resolvers);
  });
});
