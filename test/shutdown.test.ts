import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AccountEmulatorClient } from './support/emulators.js';
import { gqlAt } from './support/gateway.js';
import { waitUntil } from './support/harness.js';
import { startNodeProcess } from './support/node-process.js';
import { wsClient } from './support/subscriptions.js';
import { signUp } from './support/users.js';

/**
 * The drain on SIGTERM of `npm start`'s entry, with its embedded emulators:
 * readiness 503 at once, no new connection, the request in flight answered
 * (over HTTP or graphql-ws, within one grace), the emulators stopped last; the grace bounds the wait; a second signal
 * ends the process at once.
 */
async function startMain(env: Record<string, string>) {
  const app = startNodeProcess('src/main.ts', { PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', EMULATOR_STATE_FILE: 'off', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', ...env });
  const stdout = app.stdout;
  const url = (await app.waitFor(/GraphiQL ready at (http:\/\/\S+\/graphql)/))[1]!;
  const opsUrl = /metrics at (http:\/\/\S+)\/metrics/.exec(stdout())![1]!;
  const emulatorUrl = /bundled Account API emulator at (http:\/\/\S+?);/.exec(stdout())![1]!;
  const slowNextLogin = async (ms: number) => {
    const res = await fetch(`${emulatorUrl}/_emulator/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: 'user/auth/login', kind: 'delay', ms }) });
    expect(res.ok).toBe(true);
  };
  const loginsSeen = async () => ((await (await fetch(`${emulatorUrl}/_emulator/calls`)).json()) as Record<string, number>)['user/auth/login'] ?? 0;
  const login = () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { login(input: { login: "nobody@example.com", password: "drain test 123" }) { __typename } }' }),
    });
  const account = new AccountEmulatorClient(emulatorUrl);
  return { child: app.child, exited: app.exited, url, opsUrl, account, stdout, slowNextLogin, loginsSeen, login };
}

const refused = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

describe('SIGTERM', () => {
  it('answers the request in flight, turns readiness 503 and refuses new connections at once, stops the emulators last', async () => {
    const app = await startMain({ SHUTDOWN_GRACE_MS: '15000' });
    expect((await fetch(`${app.opsUrl}/readiness`)).status).toBe(200);
    await app.slowNextLogin(1500);
    let settled = false;
    const inFlight = app.login().finally(() => (settled = true));
    await waitUntil(async () => (await app.loginsSeen()) > 0, 'the login to reach the Account API');

    app.child.kill('SIGTERM');
    let during: Record<string, unknown> | undefined;
    await waitUntil(async () => {
      const res = await fetch(`${app.opsUrl}/readiness`);
      if (res.status === 503) during = (await res.json()) as Record<string, unknown>;
      return during !== undefined;
    }, 'readiness 503');
    expect(during).toMatchObject({ status: 'not ready', draining: true });
    await waitUntil(() => refused(app.url), 'new connections refused');
    expect(settled, 'the drain began while the request was in flight').toBe(false);

    const res = await inFlight;
    expect(res.status).toBe(200);
    // Answered by the Account API emulator: it was still up.
    expect(await res.json()).toEqual({ data: { login: { __typename: 'InvalidCredentials' } } });
    expect(await app.exited).toBe(0);
    expect(app.stdout()).toMatch(/"msg":"draining"/);
    expect(app.stdout()).not.toMatch(/requests still in flight were cut/);
  });

  it('answers a graphql-ws mutation in flight within the same grace, then closes the socket with 1012', async () => {
    const app = await startMain({ SHUTDOWN_GRACE_MS: '15000' });
    const user = await signUp({ gql: gqlAt(app.url), account: app.account });
    const ws = wsClient(app.url, user.token);
    // Longer than the second graphql-ws once had: the grace is SHUTDOWN_GRACE_MS, as over HTTP.
    await app.slowNextLogin(1500);
    let settled = false;
    const inFlight = new Promise<unknown>((resolve, reject) => {
      let result: unknown;
      ws.client.subscribe(
        { query: 'mutation { login(input: { login: "nobody@example.com", password: "drain test 123" }) { __typename } }' },
        { next: (r) => (result = r), error: reject, complete: () => resolve(result) },
      );
    }).finally(() => (settled = true));
    await waitUntil(async () => (await app.loginsSeen()) > 0, 'the login to reach the Account API');

    app.child.kill('SIGTERM');
    await waitUntil(() => /"msg":"draining"/.test(app.stdout()), 'the drain to begin');
    expect(settled, 'the drain began while the mutation was in flight').toBe(false);
    expect(await inFlight).toEqual({ data: { login: { __typename: 'InvalidCredentials' } } });
    expect(await ws.closed).toBe(1012);
    expect(await app.exited).toBe(0);
  });

  it('cuts what is still in flight when SHUTDOWN_GRACE_MS is over', async () => {
    const app = await startMain({ SHUTDOWN_GRACE_MS: '300' });
    await app.slowNextLogin(10_000);
    const inFlight = app.login().then(() => 'answered', () => 'cut');
    await waitUntil(async () => (await app.loginsSeen()) > 0, 'the login to reach the Account API');
    app.child.kill('SIGTERM');
    expect(await inFlight).toBe('cut');
    expect(await app.exited).toBe(0);
    expect(app.stdout()).toMatch(/"cut":1[,}].*requests still in flight were cut/);
  });

  it('a second signal ends the process at once', async () => {
    const app = await startMain({ SHUTDOWN_GRACE_MS: '60000' });
    await app.slowNextLogin(30_000);
    const inFlight = app.login().then(() => 'answered', () => 'cut');
    await waitUntil(async () => (await app.loginsSeen()) > 0, 'the login to reach the Account API');
    app.child.kill('SIGTERM');
    await waitUntil(() => /"msg":"draining"/.test(app.stdout()), 'the drain to begin');
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(1);
    expect(await inFlight).toBe('cut');
    expect(app.stdout()).toMatch(/second signal: exiting now/);
  });
});
