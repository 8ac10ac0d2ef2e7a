import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useStack } from './support/gateway.js';

/**
 * Hostile HTTP requests (issue 9): bodies past the cap, cross-site content
 * types, documents that are large, costly or fan out through fragments. Each
 * is refused before any upstream call.
 */
describe('request and document limits', () => {
  // The defaults, but a small body cap so that a body past it is cheap to send.
  const t = useStack({ REQUEST_MAX_BODY_BYTES: '16384' });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(t.stack.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  const refusedAsLimit = (result: { errors?: { extensions?: Record<string, unknown> }[]; data?: unknown }) => {
    expect(result.errors?.some((e) => e.extensions?.code === 'BAD_USER_INPUT' && e.extensions.reason === 'OPERATION_LIMIT'), JSON.stringify(result.errors)).toBe(true);
    expect(result.data).toBeUndefined();
  };

  it('a body past REQUEST_MAX_BODY_BYTES is 413, by its Content-Length or counted while it streams', async () => {
    await t.stack.account.resetCalls();
    const big = JSON.stringify({ query: `mutation { logout { __typename } }`, variables: { pad: 'x'.repeat(20_000) } });
    const tooLarge = { errors: [{ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', requestId: expect.any(String) } }] };
    const declared = await post(big, { authorization: `Bearer ${t.user.token}` });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual(tooLarge);

    // Chunked, no Content-Length: the cap is counted on the stream.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(t.stack.url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(big.slice(i * 2100, (i + 1) * 2100));
      req.end(big.slice(21_000));
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toEqual(tooLarge);
    expect(await t.stack.account.calls()).toEqual({});
  });

  it('only application/json POSTs run: forms, multipart, text/plain and application/graphql get 415 and run nothing', async () => {
    await t.stack.account.resetCalls();
    const query = `mutation { logout { __typename } }`;
    const auth = { authorization: `Bearer ${t.user.token}` };
    const form = new URLSearchParams({ query }).toString();
    const multipart = new FormData();
    multipart.set('operations', JSON.stringify({ query }));
    const attempts: [string, RequestInit][] = [
      ['form', { body: form, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } }],
      ['multipart', { body: multipart, headers: auth }],
      ['text/plain', { body: JSON.stringify({ query }), headers: { ...auth, 'content-type': 'text/plain' } }],
      ['application/graphql', { body: query, headers: { ...auth, 'content-type': 'application/graphql' } }],
      ['none', { body: JSON.stringify({ query }), headers: auth }],
    ];
    for (const [name, init] of attempts) {
      const res = await fetch(t.stack.url, { method: 'POST', ...init });
      expect(res.status, name).toBe(415);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await t.stack.account.calls()).toEqual({});
    // The session is still alive: no logout ran.
    expect((await t.stack.gql(`{ viewer { id } }`, {}, { token: t.user.token })).data.viewer.id).toBe(t.user.userId);
  });

  it('GET runs queries, never mutations', async () => {
    const get = (query: string) => fetch(`${t.stack.url}?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json' } });
    const query = await get(`{ __typename }`);
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
    expect((await get(`mutation { logout { __typename } }`)).status).toBe(405);
  });

  it('a document of more tokens than OPERATION_MAX_TOKENS is refused while parsing', async () => {
    // 700 times `t:__typename` (8 kB, within the body cap): 2,102 tokens.
    const res = await t.stack.gql(`{ ${'t:__typename '.repeat(700)}}`);
    expect(res.errors).toEqual([{ message: 'The document has more than 2000 tokens.', extensions: { code: 'BAD_USER_INPUT', reason: 'OPERATION_LIMIT', requestId: expect.any(String) } }]);
  });

  it('more directives than OPERATION_MAX_DIRECTIVES, and a cost past OPERATION_MAX_COST, are refused', async () => {
    const directives = await t.stack.gql(`{ viewer { ${'id @include(if: true) '.repeat(21)} } }`, {}, { token: t.user.token });
    refusedAsLimit(directives);
    expect(directives.errors!.map((e) => e.message)).toContain('The operation uses more than 20 directives.');
    // No alias, not deep: the cost comes from fragments spread four times over.
    const fields = `id email phone settings { firstName lastName sex birthday language consents { socioDemographic } }`;
    const costly = `{ viewer { ...A ...B } } fragment A on User { ${fields} products { id state } } fragment B on User { ...C ...C ...C ...C } fragment C on User { ...D ...D ...D ...D } fragment D on User { ...E ...E ...E ...E } fragment E on User { ...G ...G ...G ...G } fragment G on User { ${fields} }`;
    const refused = await t.stack.gql(costly, {}, { token: t.user.token });
    refusedAsLimit(refused);
    expect(refused.errors!.map((e) => e.message)).toContain('The operation costs more than 2000.');
  });

  it('fragments that spread the next one twice, 64 levels deep (2^64 paths), are refused at once: each fragment is visited once', async () => {
    await t.stack.account.resetCalls();
    const levels = 64;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on User { id a${i}: id ...F${i + 1} ...F${i + 1} }`).join('\n');
    const fanOut = `{ viewer { ...F0 } }\n${fragments}\nfragment F${levels} on User { id }`;
    const res = await t.stack.gql(fanOut, {}, { token: t.user.token });
    refusedAsLimit(res);
    const messages = res.errors!.map((e) => e.message);
    expect(messages).toContain('The operation uses more than 30 aliases.');
    expect(messages).toContain('The operation costs more than 2000.');

    // The same for mutations: 2^64 logouts through fragments on Mutation.
    const mutations = Array.from({ length: levels }, (_, i) => `fragment M${i} on Mutation { ...M${i + 1} ...M${i + 1} }`).join('\n');
    const manyMutations = await t.stack.gql(`mutation { ...M0 }\n${mutations}\nfragment M${levels} on Mutation { logout { __typename } }`, {}, { token: t.user.token });
    refusedAsLimit(manyMutations);
    expect(manyMutations.errors!.map((e) => e.message)).toContain('One request may carry at most 5 mutations.');
    expect(await t.stack.account.calls()).toEqual({});
  });

  it('every operation of schema/operations/ fits the default limits', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../src/client/generated/persisted-documents.json', import.meta.url), 'utf8')) as Record<string, string>;
    expect(Object.keys(manifest).length).toBeGreaterThan(10);
    for (const [hash, document] of Object.entries(manifest)) {
      // Variables are left out: those errors come after the limits, which are validation rules.
      const res = await post(JSON.stringify({ query: document }), { accept: 'application/graphql-response+json' });
      expect(res.status, hash).not.toBe(413);
      const body = (await res.json()) as { errors?: { message: string; extensions?: { reason?: string } }[] };
      expect(body.errors?.filter((e) => e.extensions?.reason === 'OPERATION_LIMIT') ?? [], hash).toEqual([]);
    }
  });
});
