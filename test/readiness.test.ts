import { describe, expect, it } from 'vitest';
import { startGateway, useStack } from './support/gateway.js';
import { closedPort } from './support/tcp-proxy.js';

/** `/readiness` on the public and the operations port; `/health` stays liveness. */
async function readiness(base: string) {
  const res = await fetch(new URL('/readiness', base));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('/readiness', () => {
  const t = useStack();

  it('is 200 on both ports while the Account API answers and no Redis is configured', async () => {
    for (const base of [t.stack.url, t.stack.opsUrl]) {
      expect(await readiness(base)).toEqual({ status: 200, body: { status: 'ready', draining: false, account: 'ok', redis: 'not configured' } });
    }
    expect((await fetch(new URL('/health', t.stack.url))).status).toBe(200);
    expect((await fetch(new URL('/health', t.stack.opsUrl))).status).toBe(200);
  });

  it('is 503 with the reason when the Account API cannot be reached, while /health stays 200', async () => {
    const { url, opsUrl } = await startGateway({ ...t.stack.env, ACCOUNT_API_URL: `http://127.0.0.1:${await closedPort()}` }, 'no-account-api');
    expect(await readiness(opsUrl)).toEqual({ status: 503, body: { status: 'not ready', draining: false, account: 'unreachable (UPSTREAM_UNAVAILABLE)', redis: 'not configured' } });
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
});
