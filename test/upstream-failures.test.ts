import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createGateway } from '../src/gateway.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { captureLogger, gatewayLogLines, waitUntil } from './support/harness.js';
import { gql, startGateway, useStack } from './support/gateway.js';
import { closedPort } from './support/tcp-proxy.js';

const TIMEOUT_MS = 400;

function expectOnlyError(result: { errors?: { message: string; extensions?: Record<string, unknown> }[] }, code: string) {
  expect(result.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  const text = JSON.stringify(result);
  expect(text).not.toMatch(/<html|stack|at [A-Za-z]+ \(|ECONNREFUSED|garbage|Internal Server Error/i);
}

describe('upstream failures', () => {
  // How one failed call is answered: no retries (test/upstream-resilience.test.ts has those).
  const t = useStack({ UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), UPSTREAM_MAX_BODY_BYTES: '4096', UPSTREAM_READ_RETRIES: '0' });

  it('an unreachable Account API is UPSTREAM_UNAVAILABLE', async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', ACCOUNT_API_URL: `http://127.0.0.1:${await closedPort()}` });
    const gateway = createGateway(config, { logger: captureLogger({ gateway: 'unreachable' }) });
    const { url } = await gateway.start();
    try {
      const result = await gql(url, `mutation { login(input: { login: "a@example.com", password: "secret-pw" }) { __typename } }`);
      expectOnlyError(result, 'UPSTREAM_UNAVAILABLE');
    } finally {
      await gateway.stop();
    }
    await expect(gateway.stop(), 'stopping twice is harmless').resolves.toBeUndefined();
  });

  it('a silent Account API is UPSTREAM_TIMEOUT: the call is cut at UPSTREAM_TIMEOUT_MS (not left to undici\'s 300 s) while a gateway with a longer one still waits', async () => {
    // Two gateways behind a proxy that holds every request without answering; one with UPSTREAM_TIMEOUT_MS=400, a peer with 120 s.
    const proxy = await startFaultProxy(t.stack.emulator.url);
    const short = await startGateway({ ...t.stack.env, ACCOUNT_API_URL: proxy.url }, 'timeout-short');
    const long = await startGateway({ ...t.stack.env, ACCOUNT_API_URL: proxy.url, UPSTREAM_TIMEOUT_MS: '120000', REQUEST_TIMEOUT_MS: '120000' }, 'timeout-long');
    proxy.hang();
    const waiting = gql(long.url, `{ viewer { id } }`, {}, { token: t.user.token });
    await waitUntil(() => proxy.held === 1, "the long gateway's call to be held");

    expectOnlyError(await gql(short.url, `{ viewer { id } }`, {}, { token: t.user.token }), 'UPSTREAM_TIMEOUT');
    await waitUntil(() => proxy.abandoned === 1, 'the short gateway to close its call');
    expect(proxy.held, 'the gateway with the longer timeout still waits for its answer').toBe(1);
    proxy.heal();
    expect((await waiting).data?.viewer?.id).toBe(t.user.userId);
  });

  it('HTTP 500 with an HTML body is UPSTREAM_UNAVAILABLE and nothing of the body leaks', async () => {
    await t.stack.account.post('fault', { path: 'user/products/get', kind: 'http_500' });
    expectOnlyError(await t.stack.gql(`{ products { id } }`, {}, { token: t.user.token }), 'UPSTREAM_UNAVAILABLE');
  });

  it('a body that is not JSON is UPSTREAM_UNAVAILABLE', async () => {
    await t.stack.account.post('fault', { path: 'user/settings/get', kind: 'garbage' });
    expectOnlyError(await t.stack.gql(`{ viewer { settings { sex } } }`, {}, { token: t.user.token }), 'UPSTREAM_UNAVAILABLE');
  });

  it('JSON that is not the { state, data } envelope is UPSTREAM_UNAVAILABLE', async () => {
    await t.stack.account.post('fault', { path: 'user/get', kind: 'not_envelope' });
    expectOnlyError(await t.stack.gql(`{ viewer { id } }`, {}, { token: t.user.token }), 'UPSTREAM_UNAVAILABLE');
  });

  it('state 200 whose data breaks the contract is UPSTREAM_UNAVAILABLE, never forwarded', async () => {
    await t.stack.account.post('force', { path: 'user/get', state: 200, data: { id: 42, email: '<script>leak</script>' } });
    const result = await t.stack.gql(`{ viewer { id email } }`, {}, { token: t.user.token });
    expectOnlyError(result, 'UPSTREAM_UNAVAILABLE');
    expect(JSON.stringify(result)).not.toContain('leak');
  });

  it('an answer larger than UPSTREAM_MAX_BODY_BYTES is UPSTREAM_UNAVAILABLE', async () => {
    const valid = { id: 'big', title: 'Big', description: 'x'.repeat(10_000), policy: 'p', icon: 'i', info: null, state: 'activated' };
    await t.stack.account.post('force', { path: 'user/products/get', state: 200, data: [valid] });
    expectOnlyError(await t.stack.gql(`{ products { id } }`, {}, { token: t.user.token }), 'UPSTREAM_UNAVAILABLE');
    expect(gatewayLogLines().some((line) => line.includes('body too large')), 'the size cap refused it, not the contract').toBe(true);
  });

  it('after the faults the same gateway answers normally', async () => {
    const result = await t.stack.gql(`{ viewer { id } products { id } }`, {}, { token: t.user.token });
    expect(result.errors).toBeUndefined();
    expect(result.data.viewer.id).toBe(t.user.userId);
  });
});
