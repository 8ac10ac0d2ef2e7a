import { describe, expect, it } from 'vitest';
import { useStack } from './support/gateway.js';

/**
 * Operations run compiled (src/plugins/useCompiledExecution.ts), one
 * compiled query per operation of a document: a document of several
 * operations, as GraphiQL sends its whole editor, answers with the one each
 * request names, whichever ran first, on the JSON lane (POST) and on yoga's
 * own path (GET).
 */
const DOCUMENT = 'query Typename { __typename } query Sites { datingSites { id } } query Both { __typename datingSites { id } }';

describe('compiled execution', () => {
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
});
