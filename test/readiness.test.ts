import { describe, expect, it } from 'vitest';
import { gql, startGateway, useStack } from './support/gateway.js';
import { closedPort } from './support/tcp-proxy.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { Scrape } from './support/prometheus.js';
import { waitUntil } from './support/harness.js';
import { Readiness } from '../src/infra/readiness.js';

/** `/readiness` on the public and the operations port; `/health` stays liveness. */
async function readiness(base: string) {
  const res = await fetch(new URL('/readiness', base));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('/readiness', () => {
  const t = useStack();

  it('is 200 on both ports while the Account API answers and no Redis is configured', async () => {
    for (const base of [t.stack.url, t.stack.opsUrl]) {
      expect(await readiness(base)).toEqual({ status: 200, body: { status: 'ready', draining: false, account: 'ok', redis: 'not configured', circuits: { 'Account API': 'closed' } } });
    }
    expect((await fetch(new URL('/health', t.stack.url))).status).toBe(200);
    expect((await fetch(new URL('/health', t.stack.opsUrl))).status).toBe(200);
  });

  it('is 503 with the reason when the Account API cannot be reached, while /health stays 200', async () => {
    const { url, opsUrl } = await startGateway({ ...t.stack.env, ACCOUNT_API_URL: `http://127.0.0.1:${await closedPort()}` }, 'no-account-api');
    expect(await readiness(opsUrl)).toEqual({ status: 503, body: { status: 'not ready', draining: false, account: 'unreachable (UPSTREAM_UNAVAILABLE)', redis: 'not configured', circuits: { 'Account API': 'closed' } } });
    expect((await fetch(new URL('/health', url))).status).toBe(200);
  });

  it('is 503 when the configured Redis does not answer PING', async () => {
    const { opsUrl } = await startGateway({ ...t.stack.env, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, 'no-redis');
    const { status, body } = await readiness(opsUrl);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'not ready', account: 'ok', redis: expect.stringMatching(/^unreachable/) });
  });

  it('is 503 from the first moment of a drain', async () => {
    const { gateway, opsUrl } = await startGateway({ ...t.stack.env, SHUTDOWN_GRACE_MS: '5000' }, 'draining');
    expect((await readiness(opsUrl)).status).toBe(200);
    const stopped = gateway.stop();
    expect(gateway.services.readiness.draining).toBe(true);
    expect(await gateway.services.readiness.check()).toMatchObject({ ready: false, checks: { draining: true } });
    await stopped;
  });

  it("turns 503 while the Account API's circuit is open (the gauge says 2), and 200 again once a trial call closes it; a dating site's circuit is listed", async () => {
    const proxy = await startFaultProxy(t.stack.emulator.url);
    const site = { id: 'nowhere', name: 'Nowhere', baseUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: 'readiness-test-key-0123456789', affiseAffiliateId: '1' };
    const { url, opsUrl } = await startGateway(
      { ...t.stack.env, ACCOUNT_API_URL: proxy.url, DATING_SITES: JSON.stringify([site]), UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_HALF_OPEN_MS: '1000', UPSTREAM_READ_RETRIES: '0' },
      'circuit-readiness',
    );
    const gauge = async () => (await Scrape.of(opsUrl)).value('gateway_upstream_circuit_state', { upstream: 'Account API' });
    expect(await readiness(opsUrl)).toMatchObject({ status: 200, body: { circuits: { 'Account API': 'closed', 'dating site nowhere': 'closed' } } });
    expect(await gauge()).toBe(0);

    proxy.failAll();
    for (let i = 0; i < 3; i++) await gql(url, '{ viewer { id } }', {}, { token: t.user.token });
    expect(await gauge()).toBe(2);
    expect(await readiness(opsUrl)).toEqual({
      status: 503,
      body: { status: 'not ready', draining: false, account: 'circuit open', redis: 'not configured', circuits: { 'Account API': 'open', 'dating site nowhere': 'closed' } },
    });

    // No traffic needed: after the half-open wait, readiness's own probe is the trial call.
    proxy.heal();
    await waitUntil(async () => (await readiness(opsUrl)).status === 200, 'readiness back once the circuit closes');
    expect(await gauge()).toBe(0);
    expect((await readiness(opsUrl)).body.circuits).toEqual({ 'Account API': 'closed', 'dating site nowhere': 'closed' });
  });

  it("stays ready with a dating site's circuit open: that site's joins fail, every other operation works", async () => {
    const readiness = new Readiness({
      probeAccount: async () => undefined,
      redis: null,
      circuits: () => ({ account: [{ name: 'Account API', circuit: 'closed' }], others: [{ name: 'dating site down', circuit: 'open' }] }),
    });
    expect(await readiness.check()).toEqual({ ready: true, checks: { draining: false, account: 'ok', redis: 'not configured', circuits: { 'Account API': 'closed', 'dating site down': 'open' } } });
  });
});
