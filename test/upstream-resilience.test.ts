import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DatingSiteEmulation } from '../src/emulator/dating/sites.js';
import type { Gateway } from '../src/gateway.js';
import { Deadline } from '../src/infra/deadline.js';
import { mayHaveCreatedUser } from '../src/upstream/dating/client.js';
import { upstreamInTrouble } from '../src/upstream/failures.js';
import { UpstreamHttp } from '../src/upstream/http.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { Scrape } from './support/prometheus.js';
import { gql, type GraphQLResult, type Stack, startGateway, startStack } from './support/gateway.js';
import { defer, gatewayLogLines, silentLogger, waitUntil } from './support/harness.js';
import { wsClient } from './support/subscriptions.js';
import { signUp, type SignedUpUser, uniqueEmail } from './support/users.js';

/*
 * The Account API behind a loopback fault proxy (refusing, answering 500 in
 * bursts, never sending headers), through the gateway's public GraphQL
 * surface: the circuit breaker opens and closes, reads are retried and
 * counted, calls that change something never repeat, the operation's
 * deadline aborts its calls, and a full queue answers at once.
 */

const VIEWER = `{ viewer { id } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename } }`;
const UPDATE_SETTINGS = `mutation { updateSettings(input: { firstName: "Retry" }) { __typename } }`;

let stack: Stack;
let proxy: FaultProxy;
let user: SignedUpUser;

beforeAll(async () => {
  stack = await startStack();
  user = await signUp(stack);
  proxy = await startFaultProxy(stack.emulator.url);
});
afterEach(() => {
  proxy.heal();
  proxy.resetCounts();
});

/** A gateway in front of the fault proxy for one test; `env` on top of the stack's. */
async function gatewayBehindProxy(env: Record<string, string>, name: string) {
  const started = await startGateway({ ...stack.env, ACCOUNT_API_URL: proxy.url, ...env }, name);
  return {
    ...started,
    query: (query: string, variables?: Record<string, unknown>) => gql(started.url, query, variables, { token: user.token }),
    circuit: () => accountUpstream(started.gateway).circuit,
  };
}

const accountUpstream = (gateway: Gateway) => gateway.services.account.upstreams[0]!;

/**
 * The least `retryAfterSeconds` an answer given by `answeredAt` may carry
 * when the circuit opened no earlier than `openedNoEarlierThan`, with
 * UPSTREAM_BREAKER_HALF_OPEN_MS `halfOpenMs`: the wait left, in whole seconds
 * rounded up. Computed from when the circuit opened, however slow the machine.
 */
function leastRetryAfter(openedNoEarlierThan: number, halfOpenMs: number, answeredAt: number): number {
  return Math.max(1, Math.ceil((openedNoEarlierThan + halfOpenMs - answeredAt) / 1000));
}

/** The gateway's count of Account API `user/get` attempts that ended with `outcome`, from its /metrics. */
async function userGetAttempts(opsUrl: string, outcome: string): Promise<number> {
  return (await Scrape.of(opsUrl)).histogramCount('gateway_upstream_request_duration_seconds', { upstream: 'Account API', endpoint: 'user/get', outcome });
}

function codes(result: GraphQLResult) {
  return result.errors?.map((e) => e.extensions?.code);
}

describe('circuit breaker', () => {
  it('opens after a run of 500s: of 50 queries only the first failures reach the API, the rest fail at once with retryAfterSeconds', async () => {
    const g = await gatewayBehindProxy({ UPSTREAM_BREAKER_FAILURES: '5', UPSTREAM_BREAKER_HALF_OPEN_MS: '60000' }, 'breaker-50');
    proxy.failAll();
    const results = [];
    const answeredAt: number[] = [];
    let openedNoEarlierThan: number | undefined;
    for (let i = 0; i < 50; i++) {
      const sentAt = Date.now();
      results.push(await g.query(VIEWER));
      answeredAt.push(Date.now());
      if (openedNoEarlierThan === undefined && g.circuit() === 'open') openedNoEarlierThan = sentAt;
    }
    expect(results.every((r) => codes(r)?.join() === 'UPSTREAM_UNAVAILABLE')).toBe(true);
    // Query 1: the call and 2 retries; query 2: 2 calls, then the circuit opens; queries 3-50: none.
    expect(proxy.count('user/get')).toBe(5);
    const refused = results.slice(2).map((r, i) => ({ retryAfterSeconds: r.errors?.[0]?.extensions?.retryAfterSeconds, least: leastRetryAfter(openedNoEarlierThan!, 60_000, answeredAt[i + 2]!) }));
    expect(refused.filter((r) => !(typeof r.retryAfterSeconds === 'number' && r.retryAfterSeconds >= r.least && r.retryAfterSeconds <= 60))).toEqual([]);
    expect(results[0]!.errors?.[0]?.extensions?.retryAfterSeconds, 'a failure the API answered carries no retryAfterSeconds').toBeUndefined();
    expect(g.circuit()).toBe('open');
    expect(gatewayLogLines().some((l) => l.includes('circuit opened') && l.includes('breaker-50'))).toBe(true);
    // Each attempt is observed: the 5 sent (500s with a body that is not JSON), then the one retry of query 2 and
    // queries 3-50 refused by the open circuit, none of them shed.
    expect(await userGetAttempts(g.opsUrl, 'unavailable')).toBe(5);
    expect(await userGetAttempts(g.opsUrl, 'circuit_open')).toBe(49);
    expect(await userGetAttempts(g.opsUrl, 'shed')).toBe(0);
  });

  it('half-open: one trial call after UPSTREAM_BREAKER_HALF_OPEN_MS; a failed trial opens it again, a good one closes it', async () => {
    const g = await gatewayBehindProxy({ UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_HALF_OPEN_MS: '1500', UPSTREAM_READ_RETRIES: '0' }, 'breaker-half-open');
    const changes: string[] = [];
    accountUpstream(g.gateway).onCircuitChange((state) => changes.push(state));
    proxy.failAll();
    for (let i = 0; i < 3; i++) expect(codes(await g.query(VIEWER))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(g.circuit()).toBe('open');
    expect(proxy.count('user/get')).toBe(3);

    // Still failing: the trial reaches the API once and the circuit opens again.
    await waitUntil(async () => (await g.query(VIEWER), proxy.count('user/get') === 4), 'a trial call', 10_000);
    expect(g.circuit()).toBe('open');
    const refused = await g.query(VIEWER);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: expect.any(Number) });
    expect(refused.errors?.[0]?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(2);
    expect(proxy.count('user/get')).toBe(4);

    // Healed: the next trial succeeds and closes the circuit; every query goes through again.
    proxy.heal();
    await waitUntil(async () => (await g.query(VIEWER)).data?.viewer?.id === user.userId, 'a successful trial call', 10_000);
    expect(g.circuit()).toBe('closed');
    const before = proxy.count('user/get');
    for (let i = 0; i < 5; i++) expect((await g.query(VIEWER)).data?.viewer?.id).toBe(user.userId);
    expect(proxy.count('user/get')).toBe(before + 5);
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('refused connections open it too', async () => {
    const g = await gatewayBehindProxy({ UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_HALF_OPEN_MS: '60000', UPSTREAM_READ_RETRIES: '0' }, 'breaker-refused');
    expect((await g.query(VIEWER)).data?.viewer?.id).toBe(user.userId);
    await proxy.refuse();
    try {
      let sentAt = 0;
      for (let i = 0; i < 3; i++) {
        sentAt = Date.now();
        expect(codes(await g.query(VIEWER))).toEqual(['UPSTREAM_UNAVAILABLE']);
      }
      // It opened during the third query: no earlier than it was sent.
      expect(g.circuit()).toBe('open');
      const retryAfterSeconds = (await g.query(VIEWER)).errors?.[0]?.extensions?.retryAfterSeconds;
      expect(retryAfterSeconds).toBeGreaterThanOrEqual(leastRetryAfter(sentAt, 60_000, Date.now()));
      expect(retryAfterSeconds).toBeLessThanOrEqual(60);
    } finally {
      await proxy.accept();
    }
  });

  it('a failure that says nothing about the API (an off-contract answer) does not count', async () => {
    const g = await gatewayBehindProxy({ UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_READ_RETRIES: '0' }, 'breaker-off-contract');
    for (let i = 0; i < 3; i++) await stack.account.post('fault', { path: 'user/get', kind: 'not_envelope' });
    for (let i = 0; i < 3; i++) expect(codes(await g.query(VIEWER))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(g.circuit()).toBe('closed');
    expect((await g.query(VIEWER)).data?.viewer?.id).toBe(user.userId);
  });
});

describe('retries', () => {
  const env = { UPSTREAM_BREAKER_FAILURES: '100' };

  it('a read is retried at most twice after 500s: two failures are absorbed, three are not', async () => {
    const g = await gatewayBehindProxy(env, 'retry-reads');
    proxy.fail(2, 'user/get');
    expect((await g.query(VIEWER)).data?.viewer?.id).toBe(user.userId);
    expect(proxy.count('user/get')).toBe(3);

    proxy.resetCounts();
    proxy.fail(3, 'user/settings/get');
    const failed = await g.query(`{ viewer { settings { firstName } } }`);
    expect(codes(failed)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(proxy.count('user/settings/get')).toBe(3);

    proxy.resetCounts();
    proxy.fail(1, 'user/products/get');
    expect((await g.query(`{ products { id } }`)).errors).toBeUndefined();
    expect(proxy.count('user/products/get')).toBe(2);
  });

  it('a read that times out is retried only while the operation\'s deadline leaves time', async () => {
    const roomy = await gatewayBehindProxy({ ...env, UPSTREAM_TIMEOUT_MS: '200', REQUEST_TIMEOUT_MS: '20000' }, 'retry-timeouts');
    proxy.hang();
    expect(codes(await roomy.query(VIEWER))).toEqual(['UPSTREAM_TIMEOUT']);
    expect(proxy.count('user/get'), 'the call and its 2 retries').toBe(3);

    proxy.resetCounts();
    const tight = await gatewayBehindProxy({ ...env, UPSTREAM_TIMEOUT_MS: '10000', REQUEST_TIMEOUT_MS: '1000' }, 'retry-no-time');
    expect(codes(await tight.query(VIEWER))).toEqual(['UPSTREAM_TIMEOUT']);
    expect(proxy.count('user/get'), 'cut by the deadline, no time for a retry').toBe(1);
  });

  it('calls that create or change something are sent once, whatever happens to them', async () => {
    const g = await gatewayBehindProxy(env, 'retry-never');
    proxy.fail(1, 'user/auth/registration');
    const registered = await g.query(REGISTER, { input: { email: uniqueEmail('once'), password: 'once-pw-123456', language: 'EN' } });
    expect(codes(registered)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(proxy.count('user/auth/registration')).toBe(1);

    proxy.fail(1, 'user/settings/set');
    expect(codes(await g.query(UPDATE_SETTINGS))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(proxy.count('user/settings/set')).toBe(1);
  });

  it('a change that times out is not sent again', async () => {
    const g = await gatewayBehindProxy({ ...env, UPSTREAM_TIMEOUT_MS: '300' }, 'retry-timeout');
    proxy.hang();
    expect(codes(await g.query(UPDATE_SETTINGS))).toEqual(['UPSTREAM_TIMEOUT']);
    expect(proxy.count('user/settings/set')).toBe(1);
    await waitUntil(() => proxy.abandoned >= 1, 'the timed-out call to be aborted');
  });
});

describe('deadline per operation (REQUEST_TIMEOUT_MS)', () => {
  it('is shared by all the calls of an operation: past it every one is UPSTREAM_TIMEOUT and aborted, long before UPSTREAM_TIMEOUT_MS', async () => {
    const g = await gatewayBehindProxy({ REQUEST_TIMEOUT_MS: '1000', UPSTREAM_TIMEOUT_MS: '60000' }, 'deadline');
    proxy.hang();
    const abandoned = proxy.abandoned;
    const started = performance.now();
    const result = await g.query(`{ viewer { id } products { id } }`);
    expect(performance.now() - started, 'answered at the deadline, not after the 60 s call timeout').toBeLessThan(30_000);
    // `products` is non-null: graphql-js answers with the first of the two errors when they fall in different ticks.
    expect(codes(result)?.length).toBeGreaterThanOrEqual(1);
    expect(codes(result)?.every((code) => code === 'UPSTREAM_TIMEOUT')).toBe(true);
    // Both calls were in flight and are aborted; a call cut by the deadline is not retried.
    await waitUntil(() => proxy.abandoned === abandoned + 2, 'both held calls aborted');
    expect(proxy.count('user/get')).toBe(1);
    expect(proxy.count('user/products/get')).toBe(1);
    expect(gatewayLogLines().some((l) => l.includes('upstream call timed out') && l.includes('"reason":"deadline"'))).toBe(true);
  });

  it('covers the wait for a pool connection: a queued call ends at its deadline while the connection stays taken', async () => {
    // One connection, held by a graphql-ws session check (no operation deadline: UPSTREAM_TIMEOUT_MS, 60 s).
    const g = await gatewayBehindProxy({ UPSTREAM_CONNECTIONS: '1', REQUEST_TIMEOUT_MS: '1000', UPSTREAM_TIMEOUT_MS: '60000' }, 'deadline-queued');
    proxy.hang();
    const { client, closed } = wsClient(g.url, user.token);
    let settled = false;
    void closed.then(() => (settled = true));
    const subscription = client.iterate({ query: `subscription { accountEvents { __typename } }` });
    void subscription.next().catch(() => undefined);
    await waitUntil(() => proxy.held === 1, 'the session check to hold the connection');
    const result = await g.query(VIEWER);
    expect(codes(result)).toEqual(['UPSTREAM_TIMEOUT']);
    expect(proxy.held, 'the session check still holds the only connection').toBe(1);
    expect(settled).toBe(false);
    expect(proxy.count('user/get'), 'the queued call never reached the API').toBe(1);
    client.terminate();
  });
});

describe('load shedding (UPSTREAM_MAX_QUEUE)', () => {
  it('past the bound of calls waiting for a connection, a call is UPSTREAM_UNAVAILABLE at once; the waiting ones still get through', async () => {
    const g = await gatewayBehindProxy({ UPSTREAM_CONNECTIONS: '1', UPSTREAM_MAX_QUEUE: '1', UPSTREAM_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000' }, 'shedding');
    proxy.hang();
    const first = g.query(VIEWER);
    await waitUntil(() => proxy.held === 1, 'the first call to take the connection');
    const second = g.query(VIEWER);
    await waitUntil(() => accountUpstream(g.gateway).queued === 1, 'the second call to wait for the connection');

    const shed = await g.query(VIEWER);
    expect(shed.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: 1 });
    expect(proxy.count('user/get')).toBe(1);
    expect(await userGetAttempts(g.opsUrl, 'shed'), 'observed as shed').toBe(1);
    expect(await userGetAttempts(g.opsUrl, 'circuit_open')).toBe(0);

    proxy.heal();
    expect((await first).data?.viewer?.id).toBe(user.userId);
    expect((await second).data?.viewer?.id).toBe(user.userId);
    expect(g.circuit(), 'shedding is no failure of the API').toBe('closed');
  });
});

describe('repeated warnings (LOG_REPEATED_WARNINGS_WINDOW_MS)', () => {
  it('a storm of failing calls writes its first failure and then one line with the count, not a line per call', async () => {
    // A window longer than the test: the count comes out when the gateway stops (the window itself: test/repeated-warnings.test.ts).
    const g = await gatewayBehindProxy({ UPSTREAM_BREAKER_FAILURES: '1000', UPSTREAM_READ_RETRIES: '0', LOG_REPEATED_WARNINGS_WINDOW_MS: '600000' }, 'storm-log');
    const linesOf = (msg: string) =>
      gatewayLogLines()
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.gateway === 'storm-log' && String(l.msg).startsWith(msg));
    proxy.failAll();
    const answers = await Promise.all(Array.from({ length: 30 }, () => g.query(VIEWER)));
    expect(answers.every((a) => codes(a)?.join() === 'UPSTREAM_UNAVAILABLE')).toBe(true);
    expect(proxy.count('user/get')).toBe(30);
    const first = linesOf('upstream call failed');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ level: 'warn', upstream: 'Account API', path: 'user/get', reason: 'HTTP 500 with a body that is not JSON' });
    await g.gateway.stop();
    expect(linesOf('upstream call failed')).toHaveLength(2);
    expect(linesOf('upstream call failed')[1]).toMatchObject({ msg: 'upstream call failed, 29 more times in the last 600 s', repeated: 29, path: 'user/get' });
  });
});

describe('dating sites', () => {
  const sites: DatingSiteEmulation[] = ['flaky', 'steady'].map((id) => ({ id, apiKey: `${id}-resilience-key`, ipWhitelist: ['127.0.0.1', '::1'], perMinuteLimit: 1000 }));
  let dating: Stack;
  let member: SignedUpUser;
  beforeAll(async () => {
    dating = await startStack({ UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_HALF_OPEN_MS: '60000' }, { dating: sites });
    member = await signUp(dating);
  });

  const CREATE = `mutation($input: CreateDatingUserInput!) { createDatingUser(input: $input) { __typename } }`;
  const create = (site: string) =>
    dating.gql(CREATE, { input: { site, email: uniqueEmail('site'), gender: 'FEMALE', password: 'dating-pass-123', birthDate: '1990-04-17' } }, { token: member.token });

  it('each site has its own circuit; a create-user call is never retried', async () => {
    await dating.dating!.outage('flaky', 500);
    const before = (await dating.dating!.requests()).flaky ?? 0;
    for (let i = 0; i < 3; i++) expect(codes(await create('flaky'))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect((await dating.dating!.requests()).flaky, 'one request per call, no retry').toBe(before + 3);

    const refused = await create('flaky');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstream: 'dating site flaky' });
    expect(refused.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect((await dating.dating!.requests()).flaky, 'the open circuit sent nothing').toBe(before + 3);
    expect((await create('steady')).data?.createDatingUser?.__typename, 'the other site is untouched').toBe('DatingUserCreated');
    const circuits = Object.fromEntries(dating.gateway.services.dating.upstreams.map((u) => [u.name, u.circuit]));
    expect(circuits).toEqual({ 'dating site flaky': 'open', 'dating site steady': 'closed' });
  });
});

describe('which failed calls may have reached the upstream', () => {
  const limits = { timeoutMs: 300, maxBodyBytes: 4096, connections: 1, maxQueue: 0, circuit: { failures: 1, halfOpenMs: 60_000 } };
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/reset') return req.socket.destroy();
      if (req.url === '/hang') return;
      // Past the 4096 bytes of maxBodyBytes: declared up front, or only told by the chunks themselves.
      if (req.url === '/declared-big') return res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10_000 }).end(`"${'x'.repeat(9_998)}"`);
      if (req.url === '/chunked-big') {
        res.writeHead(200, { 'content-type': 'application/json' }).write(`"${'x'.repeat(3_000)}`);
        return setTimeout(() => res.end(`${'x'.repeat(3_000)}"`), 20);
      }
      res.writeHead(req.url === '/html201' ? 201 : 502, { 'content-type': 'text/html' }).end('<html></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    defer(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });

  const failureOf = async (http: UpstreamHttp, path: string, deadline?: Deadline) => {
    const error = await http.request({ path, deadline }).then(() => new Error('answered'), (e: unknown) => e);
    return { error, kind: (error as Error).name, trouble: upstreamInTrouble(error), mayHaveCreated: mayHaveCreatedUser(error) };
  };
  const client = (baseUrl = url) => new UpstreamHttp({ ...limits, name: 'dating site probe', baseUrl, logger: silentLogger });

  it('maybe created: a reset connection, a timeout, an unreadable or too large 2xx; surely not: a refused connection, the gateway holding back, a 5xx answer', async () => {
    const reset = client();
    expect(await failureOf(reset, 'reset')).toMatchObject({ kind: 'UpstreamUnreachable', trouble: true, mayHaveCreated: true });
    expect(await failureOf(reset, 'reset'), 'the circuit is open now').toMatchObject({ kind: 'UpstreamCircuitOpen', trouble: false, mayHaveCreated: false });
    await reset.close();

    for (const [path, kind, trouble, mayHaveCreated] of [
      ['hang', 'UpstreamTimeout', true, true],
      ['html201', 'UpstreamAnswerNotJson', false, true],
      ['html502', 'UpstreamAnswerNotJson', true, false],
      ['declared-big', 'UpstreamAnswerTooLarge', false, true],
      ['chunked-big', 'UpstreamAnswerTooLarge', false, true],
    ] as const) {
      const http = client();
      expect(await failureOf(http, path), path).toMatchObject({ kind, trouble, mayHaveCreated });
      await http.close();
    }

    const refused = client(`http://127.0.0.1:${await closedPort()}`);
    expect(await failureOf(refused, 'x')).toMatchObject({ kind: 'UpstreamUnreachable', error: { errno: 'ECONNREFUSED' }, trouble: true, mayHaveCreated: false });
    await refused.close();

    const busy = client();
    const holding = failureOf(busy, 'hang');
    expect(await failureOf(busy, 'hang'), 'the queue is full').toMatchObject({ kind: 'UpstreamQueueFull', mayHaveCreated: false });
    await holding;
    expect(await failureOf(busy, 'html201', Deadline.after(0)), 'no time left').toMatchObject({ kind: 'UpstreamDeadlinePassed', error: { code: 'UPSTREAM_TIMEOUT', sent: false }, trouble: false, mayHaveCreated: false });
    await busy.close();
    const tight = client();
    expect(await failureOf(tight, 'hang', Deadline.after(200)), 'cut by the deadline').toMatchObject({ kind: 'UpstreamDeadlinePassed', error: { sent: true }, trouble: false, mayHaveCreated: true });
    expect(tight.circuit, 'a deadline says nothing about the upstream').toBe('closed');
    await tight.close();
  });
});

/** A port that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
