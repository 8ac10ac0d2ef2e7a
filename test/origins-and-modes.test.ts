import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient } from 'graphql-ws';
import { loadConfig } from '../src/config.js';
import { useStack } from './support/gateway.js';

/** The status of a graphql-ws upgrade with these headers: 101 when it opened, else the refusal's. */
function upgradeStatus(httpUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
  });
}

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

describe('origins: CORS and graphql-ws upgrades', () => {
  const t = useStack({ CORS_ORIGINS: `${APP}, http://localhost:5173` });
  const own = () => new URL(t.stack.url).origin;

  const preflight = (origin: string) =>
    fetch(t.stack.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });

  it('an allowlisted origin and the own one get CORS headers, without credentials; any other gets none', async () => {
    for (const origin of [APP, own()]) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin'), origin).toBe(origin);
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const evil = await preflight(EVIL);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(evil.headers.get('access-control-allow-credentials')).toBeNull();

    const answered = await t.stack.gql(`{ __typename }`, {}, { headers: { origin: EVIL } });
    expect(answered.data).toEqual({ __typename: 'Query' });
    const res = await fetch(t.stack.url, { method: 'POST', headers: { origin: EVIL, 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a graphql-ws upgrade from a foreign page is refused with 403; no Origin, the own one and allowlisted ones open', async () => {
    await t.stack.account.resetCalls();
    expect(await upgradeStatus(t.stack.url, { origin: EVIL })).toBe(403);
    expect(await upgradeStatus(t.stack.url, { origin: 'null' })).toBe(403);
    expect(await t.stack.account.calls()).toEqual({});
    expect(await upgradeStatus(t.stack.url, {})).toBe(101);
    expect(await upgradeStatus(t.stack.url, { origin: own() })).toBe(101);
    expect(await upgradeStatus(t.stack.url, { origin: 'http://localhost:5173' })).toBe(101);
  });

  it('a session sent from a foreign page never reaches connection_init', async () => {
    await t.stack.account.resetCalls();
    const client = createClient({
      url: t.stack.url.replace(/^http/, 'ws'),
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols: string[]) {
          super(url, protocols, { headers: { origin: EVIL } });
        }
      },
      connectionParams: { authorization: `Bearer ${t.user.token}` },
      retryAttempts: 0,
    });
    const closed = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: resolve, complete: () => resolve('completed') });
    });
    expect(closed).not.toBe('completed');
    await client.dispose();
    expect(await t.stack.account.calls()).toEqual({});
  });
});

describe('production mode', () => {
  const t = useStack({ NODE_ENV: 'production' });

  it('introspection is refused over HTTP and graphql-ws, __typename still works', async () => {
    const res = await t.stack.gql(`{ __schema { queryType { name } } }`);
    expect(res.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'INTROSPECTION_DISABLED', requestId: expect.any(String) });
    expect((await t.stack.gql(`{ __type(name: "User") { name } }`)).errors?.[0]?.extensions?.reason).toBe('INTROSPECTION_DISABLED');
    expect((await t.stack.gql(`{ __typename }`)).data).toEqual({ __typename: 'Query' });

    const client = createClient({
      url: t.stack.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${t.user.token}` },
    });
    const overWs = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: '{ __schema { queryType { name } } }' }, { next: resolve, error: resolve, complete: () => undefined });
    });
    await client.dispose();
    expect(JSON.stringify(overWs)).toContain('INTROSPECTION_DISABLED');
  });

  it('validation and variable errors suggest no field names or enum values', async () => {
    const res = await t.stack.gql(`{ viewer { emial } }`);
    expect(res.errors?.[0]?.message).toBe('Cannot query field "emial" on type "User".');
    const enumValue = await t.stack.gql(`mutation($l: Language) { register(input: { password: "a password 1", language: $l }) { __typename } }`, { l: 'EX' });
    expect(enumValue.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(enumValue.errors?.[0]?.message).not.toMatch(/Did you mean|"EN"/);
  });

  it('GraphiQL is not served', async () => {
    const res = await fetch(t.stack.url, { headers: { accept: 'text/html' } });
    expect(res.headers.get('content-type') ?? '').not.toContain('text/html');
  });
});

describe('production mode with each switch turned back on', () => {
  const t = useStack({ NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true', FIELD_SUGGESTIONS: 'true' });

  it('answers introspection, suggests fields and serves GraphiQL', async () => {
    expect((await t.stack.gql(`{ __schema { queryType { name } } }`)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await t.stack.gql(`{ viewer { emial } }`)).errors?.[0]?.message).toContain('Did you mean "email"?');
    const enumValue = await t.stack.gql(`mutation($l: Language) { register(input: { password: "a password 1", language: $l }) { __typename } }`, { l: 'EX' });
    expect(enumValue.errors?.[0]?.message).toContain('Did you mean the enum value "EL", "EN", or "ES"?');
    const page = await fetch(t.stack.url, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});

describe('GraphiQL delivery', () => {
  const t = useStack();

  const load = (headers: Record<string, string>) =>
    // node's fetch would decompress; read the raw bytes with a plain request instead.
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) => {
        get(t.stack.url, { headers: { accept: 'text/html', ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      }, reject);
    });

  it('is compressed (br, else gzip), cacheable, and a reload with its ETag moves no body', async () => {
    const plain = await load({});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toContain('<html');

    const br = await load({ 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);

    const gz = await load({ 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);

    expect(br.headers['cache-control']).toBe('public, max-age=300');
    expect(br.headers.vary).toBe('Accept-Encoding');
    const etag = br.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const reload = await load({ 'accept-encoding': 'br', 'if-none-match': etag });
    expect(reload.status).toBe(304);
    expect(reload.body.length).toBe(0);
  });
});

describe('configuration of the new limits', () => {
  it('NODE_ENV decides the switches unless each is set; CORS_ORIGINS must be origins', () => {
    expect(loadConfig({})).toMatchObject({ GRAPHIQL: true, INTROSPECTION: true, FIELD_SUGGESTIONS: true, EMULATORS: true, CORS_ORIGINS: [] });
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ GRAPHIQL: false, INTROSPECTION: false, FIELD_SUGGESTIONS: false, EMULATORS: false });
    expect(loadConfig({ NODE_ENV: 'production', EMULATORS: 'on' })).toMatchObject({ EMULATORS: true, GRAPHIQL: false });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' })).toMatchObject({ GRAPHIQL: true, INTROSPECTION: false });
    expect(loadConfig({ INTROSPECTION: 'false' })).toMatchObject({ INTROSPECTION: false, GRAPHIQL: true });
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com/, http://b.example.com:8080' }).CORS_ORIGINS).toEqual(['https://a.example.com', 'http://b.example.com:8080']);
    expect(() => loadConfig({ CORS_ORIGINS: 'a.example.com' })).toThrow(/CORS_ORIGINS: not an http\(s\) origin: a\.example\.com/);
  });
});
