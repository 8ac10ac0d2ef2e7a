import { describe, expect, it } from 'vitest';
import { Scrape } from './support/prometheus.js';
import { gql, startGateway, useStack } from './support/gateway.js';
import { gatewayLogLines } from './support/harness.js';
import { uniqueEmail } from './support/users.js';
import { ACCOUNT_EVENTS, subscriptionsReady, wsClient } from './support/subscriptions.js';
import { waitUntil } from './support/harness.js';

/** Request ids, the access log and /metrics, through HTTP and the log (docs/deploy.md). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VIEWER = 'query Viewer { viewer { id } }';

type Line = Record<string, unknown>;
const linesWith = (requestId: string): Line[] => gatewayLogLines().filter((l) => l.includes(requestId)).map((l) => JSON.parse(l) as Line);
const accessLines = (): Line[] => gatewayLogLines().map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'graphql operation');

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { res, body: (await res.json()) as { data?: any; errors?: { extensions?: Record<string, unknown> }[] } };
}

describe('request ids', () => {
  const t = useStack();

  it('are generated, returned as x-request-id and in the error, and on every log line of the request', async () => {
    const { res, body } = await post(t.stack.url, { query: VIEWER }, { authorization: 'Bearer no-such-session-0123456789' });
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(UUID);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', requestId: id });
    const lines = linesWith(id);
    // The access line, and the upstream client's line, logged far from the request's code.
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['upstream call', 'graphql operation']));
    expect(lines.every((l) => l.requestId === id)).toBe(true);
  });

  it('are taken from x-request-id only when a trusted proxy sent it, and only when well-formed', async () => {
    const untrusted = await post(t.stack.url, { query: '{ __typename }' }, { 'x-request-id': 'from-anyone-1' });
    expect(untrusted.res.headers.get('x-request-id')).toMatch(UUID);

    const { url } = await startGateway({ ...t.stack.env, TRUSTED_PROXIES: '127.0.0.1' }, 'behind-proxy');
    const proxied = await post(url, { query: '{ nope }' }, { 'x-request-id': 'lb-7f3a.42' });
    expect(proxied.res.headers.get('x-request-id')).toBe('lb-7f3a.42');
    expect(proxied.body.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', requestId: 'lb-7f3a.42' });
    const forged = await post(url, { query: '{ __typename }' }, { 'x-request-id': 'a "quoted" id' });
    expect(forged.res.headers.get('x-request-id')).toMatch(UUID);
  });
});

describe('access log', () => {
  const t = useStack();

  it('has one line per operation: name, type, status, duration, error codes, upstream calls, and never variables', async () => {
    const login = uniqueEmail('access-log-variable');
    const before = accessLines().length;
    const { res } = await post(t.stack.url, {
      query: 'mutation Login($input: LoginInput!) { login(input: $input) { __typename } }',
      variables: { input: { login, password: 'access-log-password-1' } },
    });
    const viewer = await gql(t.stack.url, VIEWER, {}, { token: t.user.token });
    expect(viewer.data?.viewer?.id).toBe(t.user.userId);
    await post(t.stack.url, { query: '{ viewer { nope } }' });

    const lines = accessLines().slice(before);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ operation: 'Login', type: 'mutation', status: res.status, errors: [], upstreamCalls: 1, requestId: res.headers.get('x-request-id') });
    expect(lines[0]!.ms).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ operation: 'Viewer', type: 'query', status: 200, errors: [], upstreamCalls: 1 });
    expect(lines[2]).toMatchObject({ operation: null, type: 'query', errors: ['GRAPHQL_VALIDATION_FAILED'], upstreamCalls: 0 });
    expect(gatewayLogLines().some((l) => l.includes(login))).toBe(false);
  });

  it('writes the line of an introspection-only operation (GraphiQL loading) at debug, every other at info', async () => {
    const before = accessLines().length;
    await post(t.stack.url, { query: 'query IntrospectionQuery { __schema { queryType { name } } __typename }' });
    await post(t.stack.url, { query: '{ __type(name: "User") { name } }' });
    await post(t.stack.url, { query: 'query Ping { __typename }' });
    await gql(t.stack.url, VIEWER, {}, { token: t.user.token });
    const lines = accessLines().slice(before);
    expect(lines.map((l) => [l.operation, l.level])).toEqual([
      ['IntrospectionQuery', 'debug'],
      [null, 'debug'],
      ['Ping', 'info'],
      ['Viewer', 'info'],
    ]);
  });
});

describe('graphql-ws operations', () => {
  const t = useStack();
  const WS_ID = /^[0-9a-f]{8}-[0-9a-f-]{27}:\d+$/;

  it('each get a request id (socket id : operation number) on their errors and log lines, and an access line when they end', async () => {
    const { client } = wsClient(t.stack.url, t.user.token);
    const run = (query: string) =>
      new Promise<{ data?: any; errors?: any[] }>((resolve) => {
        let result: { data?: any; errors?: any[] } = {};
        client.subscribe({ query }, { next: (r) => (result = r as typeof result), error: (errors) => resolve({ errors: errors as any[] }), complete: () => resolve(result) });
      });
    const before = accessLines().length;

    const viewer = await run(VIEWER);
    expect(viewer.data?.viewer?.id).toBe(t.user.userId);
    const invalid = await run('query Broken { viewer { nope } }');
    const failedId = invalid.errors?.[0]?.extensions?.requestId as string;
    expect(invalid.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(failedId).toMatch(WS_ID);

    const stop = client.subscribe({ query: ACCOUNT_EVENTS }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    await subscriptionsReady(t.stack.gateway, 1);
    stop();
    await waitUntil(() => accessLines().slice(before).some((l) => l.type === 'subscription'), 'the access line of the ended subscription');

    const lines = accessLines().slice(before);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ operation: 'Viewer', type: 'query', status: null, errors: [], upstreamCalls: 1, requestId: expect.stringMatching(WS_ID) });
    expect(lines[1]).toMatchObject({ operation: 'Broken', type: 'query', errors: ['GRAPHQL_VALIDATION_FAILED'], upstreamCalls: 0, requestId: failedId });
    expect(lines[2]).toMatchObject({ operation: 'AccountEvents', type: 'subscription', errors: [], requestId: expect.stringMatching(WS_ID) });
    expect(lines[2]!.ms).toEqual(expect.any(Number));
    // One socket: one socket id, operations numbered in order.
    const ids = lines.map((l) => String(l.requestId));
    expect(new Set(ids.map((id) => id.split(':')[0])).size).toBe(1);
    expect(ids.map((id) => Number(id.split(':')[1]))).toEqual([1, 2, 3]);
    // The upstream call of the query is logged under the query's id.
    expect(linesWith(ids[0]!).map((l) => l.msg)).toContain('upstream call');
  });
});

describe('/metrics', () => {
  const t = useStack();

  it('is served on the operations port (loopback by default), never on the public one', async () => {
    expect(new URL(t.stack.opsUrl).hostname).toBe('127.0.0.1');
    const scrape = await Scrape.of(t.stack.opsUrl);
    expect(scrape.families.get('process_cpu_user_seconds_total')?.type).toBe('COUNTER');
    expect(scrape.families.get('nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');
    // Every upstream origin's circuit, closed (0) at start.
    expect(scrape.families.get('gateway_upstream_circuit_state')?.metrics).toEqual([{ labels: { upstream: 'Account API' }, value: '0' }]);
    for (const family of scrape.families.values()) expect(family.help, family.name).not.toBe('');
    const publicPort = await fetch(new URL('/metrics', t.stack.url));
    expect(await publicPort.text()).not.toContain('# TYPE');
  });

  it('count a query and its upstream calls, by bounded labels', async () => {
    const before = await Scrape.of(t.stack.opsUrl);
    const op = { operation_name: 'Viewer', operation_type: 'query' };
    const upstream = { upstream: 'Account API', endpoint: 'user/get', outcome: 'ok' };
    await gql(t.stack.url, VIEWER, {}, { token: t.user.token });
    await gql(t.stack.url, 'query MyOwnName123 { viewer { id } }', {}, { token: t.user.token });
    await gql(t.stack.url, '{ __typename }');
    await gql(t.stack.url, VIEWER, {}, { token: 'no-such-session-0123456789' });

    const after = await Scrape.of(t.stack.opsUrl);
    const op_ = 'gateway_graphql_operation_duration_seconds';
    expect(after.histogramCount(op_, op) - before.histogramCount(op_, op)).toBe(2);
    expect(after.histogramCount(op_, { operation_name: 'other', operation_type: 'query' }) - before.histogramCount(op_, { operation_name: 'other', operation_type: 'query' })).toBe(1);
    expect(after.histogramCount(op_, { operation_name: 'anonymous', operation_type: 'query' })).toBeGreaterThan(before.histogramCount(op_, { operation_name: 'anonymous', operation_type: 'query' }));
    const up = 'gateway_upstream_request_duration_seconds';
    expect(after.histogramCount(up, upstream) - before.histogramCount(up, upstream)).toBe(3);
    expect(after.value('gateway_graphql_errors_total', { code: 'UNAUTHENTICATED' }) - before.value('gateway_graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBe(1);
    expect(after.histogramLabels(op_).map((l) => l.operation_name)).not.toContain('MyOwnName123');
  });
});
