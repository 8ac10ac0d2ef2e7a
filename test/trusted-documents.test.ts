import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as documents from '../src/client/generated/graphql.js';
import { AccountEventsDocument, RegisterDocument, UpdateSettingsDocument, VerifyRegistrationDocument, ViewerDocument } from '../src/client/generated/graphql.js';
import manifest from '../src/client/generated/persisted-documents.json' with { type: 'json' };
import { GatewayRequestError } from '../src/client/request-error.js';
import { TrustedDocuments } from '../src/plugins/useTrustedDocuments.js';
import { type Stack, startStack } from './support/gateway.js';
import { pushSockets, pushSocketsAbove } from './support/emulators.js';
import { uniqueEmail } from './support/users.js';
import { typedClient } from './support/typed-client.js';

const hashOf = (document: object) => (document as { __meta__: { hash: string } }).__meta__.hash;

describe('the trusted documents manifest', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('holds every generated document under the hash the document carries', () => {
    const generated = Object.entries(documents).filter(([name]) => name.endsWith('Document'));
    expect(generated.length).toBeGreaterThanOrEqual(23);
    for (const [name, document] of generated) expect(Object.keys(manifest), name).toContain(hashOf(document));
    expect(TrustedDocuments.load().size).toBe(Object.keys(manifest).length);
  });

  it('is refused at start when an entry is not the hash of its document', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gateway-manifest-'));
    dirs.push(dir);
    const [hash] = Object.keys(manifest);
    const tampered = join(dir, 'persisted-documents.json');
    await writeFile(tampered, JSON.stringify({ [hash!]: 'query { products { id policy } }' }));
    expect(() => TrustedDocuments.load(tampered)).toThrow(/bad entry/);
    await writeFile(tampered, JSON.stringify(['query { viewer { id } }']));
    expect(() => TrustedDocuments.load(tampered)).toThrow(/JSON object/);
  });
});

describe('TRUSTED_DOCUMENTS on', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ TRUSTED_DOCUMENTS: 'true' });
  });

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(stack.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body) });
    return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  };

  /** Signs up through the typed client sending hashes; the client keeps the session. */
  async function signUpByHash() {
    const client = typedClient(stack.url, { persisted: true });
    const email = uniqueEmail('trusted');
    const { register } = await client.execute(RegisterDocument, { input: { email, password: 'trusted docs 1' } });
    if (register.__typename !== 'RegisterSuccess') throw new Error(register.__typename);
    const emailCode = await stack.account.code(email, 'registration');
    const { verifyRegistration } = await client.execute(VerifyRegistrationDocument, { input: { userId: register.userId, emailCode } });
    expect(verifyRegistration.__typename).toBe('AuthSuccess');
    return { client, email, userId: register.userId };
  }

  it('runs manifest documents named by hash: the typed client signs up and reads the viewer', async () => {
    const { client, email, userId } = await signUpByHash();
    const { viewer } = await client.execute(ViewerDocument);
    expect(viewer).toMatchObject({ id: userId, email, emailVerified: true });
  });

  it('over graphql-ws too: a subscription named by hash runs, one sent as a query is refused', async () => {
    const { client, userId } = await signUpByHash();
    const events = client.subscribe(AccountEventsDocument);
    try {
      const before = await pushSockets(stack.emulator.url, userId);
      const first = events.next();
      await pushSocketsAbove(stack.emulator.url, userId, before);
      await client.execute(UpdateSettingsDocument, { input: { firstName: 'Trudy' } });
      const { value } = await first;
      expect(value?.accountEvents).toMatchObject({ __typename: 'SettingsUpdated', settings: { firstName: 'Trudy' } });
    } finally {
      await events.return();
      client.close();
    }

    const raw = typedClient(stack.url, { token: client.session.current });
    const refused = await raw.subscribe(AccountEventsDocument).next().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRequestError);
    expect((refused as GatewayRequestError).codes).toEqual(['PERSISTED_QUERY_ONLY']);
    raw.close();
  });

  it('serves multipart subscriptions named by hash; graphql-sse\'s single connection mode (raw queries only) is not served', async () => {
    const { client } = await signUpByHash();
    const controller = new AbortController();
    const res = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json', authorization: `Bearer ${client.session.current}` },
      body: JSON.stringify({ documentId: hashOf(AccountEventsDocument) }),
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toContain('multipart/mixed');
    controller.abort();
    client.close();

    const reservation = await fetch(stack.url, { method: 'PUT' });
    expect(reservation.status).toBe(405);
  });

  it('Apollo Client 4 and urql 6 run the generated documents by their embedded hash (docs/frontends.md)', async () => {
    const { client } = await signUpByHash();
    const authorization = `Bearer ${client.session.current}`;
    const embeddedHash = (document: unknown) => hashOf(document as object).replace(/^sha256:/, '');

    const apollo = new ApolloClient({
      link: new PersistedQueryLink({ generateHash: embeddedHash }).concat(new HttpLink({ uri: stack.url, headers: { authorization } })),
      cache: new InMemoryCache(),
    });
    const viaApollo = await apollo.query({ query: ViewerDocument });
    expect(viaApollo.data?.viewer?.emailVerified).toBe(true);
    apollo.stop();

    const urql = new UrqlClient({
      url: stack.url,
      fetchOptions: { headers: { authorization } },
      exchanges: [persistedExchange({ enforcePersistedQueries: true, generateHash: async (_query, document) => embeddedHash(document) }), fetchExchange],
    });
    const viaUrql = await urql.query(ViewerDocument, {}).toPromise();
    expect(viaUrql.error).toBeUndefined();
    expect(viaUrql.data?.viewer?.emailVerified).toBe(true);
    client.close();
  });

  it('accepts the hash as `documentId` (GraphQL over HTTP) and in a GET request', async () => {
    const byId = await post({ documentId: hashOf(ViewerDocument) });
    expect(byId).toEqual({ data: { __typename: 'Query', viewer: null } });

    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hashOf(ViewerDocument).replace('sha256:', '') } });
    const res = await fetch(`${stack.url}?extensions=${encodeURIComponent(extensions)}`, { headers: { accept: 'application/json' } });
    expect(await res.json()).toEqual({ data: { __typename: 'Query', viewer: null } });
    const byIdGet = await fetch(`${stack.url}?documentId=${encodeURIComponent(hashOf(ViewerDocument))}`, { headers: { accept: 'application/json' } });
    expect(await byIdGet.json()).toEqual({ data: { __typename: 'Query', viewer: null } });
  });

  it('refuses a raw query with PERSISTED_QUERY_ONLY, also next to a known hash', async () => {
    const raw = await stack.gql('{ viewer { id } }');
    expect(raw.data).toBeUndefined();
    expect(raw.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/trusted documents only/), extensions: { code: 'PERSISTED_QUERY_ONLY', requestId: expect.any(String) } })]);

    const both = await post({ query: '{ viewer { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(ViewerDocument).slice(7) } } });
    expect(both.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);

    const nothing = await post({ variables: {} });
    expect(nothing.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);

    const client = typedClient(stack.url);
    const refused = await client.execute(ViewerDocument).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRequestError);
    expect((refused as GatewayRequestError).codes).toEqual(['PERSISTED_QUERY_ONLY']);
  });

  it('still serves GraphiQL, whose raw queries (introspection first) are refused', async () => {
    const page = await fetch(stack.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const introspection = await stack.gql('{ __schema { queryType { name } } }');
    expect(introspection.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);
  });

  it('refuses an unknown or malformed hash with PERSISTED_QUERY_NOT_FOUND', async () => {
    for (const sha256Hash of ['0'.repeat(64), 'not-a-hash', '']) {
      const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
      expect(unknown.data).toBeUndefined();
      expect(unknown.errors, sha256Hash).toEqual([expect.objectContaining({ message: expect.stringMatching(/Unknown document/), extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', requestId: expect.any(String) } })]);
    }
    const byId = await post({ documentId: `sha256:${'f'.repeat(64)}` });
    expect(byId.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});
