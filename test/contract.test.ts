import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeAccount } from '../src/contract/account.js';
import { probeDating } from '../src/contract/dating.js';
import type { CheckResult } from '../src/contract/report.js';
import { startDatingEmulator, type DatingEmulator } from '../src/emulator/dating/server.js';
import { useAccountEmulator } from './support/emulators.js';
import { defer, silentLogger } from './support/harness.js';
import { signUp } from './support/users.js';

/**
 * The contract probe (`npm run contract`) against the bundled emulators: they
 * follow shared/UPSTREAM.md, so every check holds; the probe changes no data
 * unless allowed to, never creates a dating user, never prints a secret, and
 * reports a deviation when the emulator is made to answer off contract.
 */

const account = useAccountEmulator();
let dating: DatingEmulator;
beforeAll(async () => {
  dating = await startDatingEmulator({ logger: silentLogger });
  defer(() => dating.close());
});

const PASSWORD = 'contract probe pw 7';
const DATING_KEY = 'demo-wellhello-key';

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r]));
const failing = (results: CheckResult[]) => results.filter((r) => r.verdict === 'fails');

/** A verified test account with the `dating` product active. */
async function testAccount() {
  const { token, email } = await signUp(account.client, { password: PASSWORD });
  expect((await account.call('user/products/activate', { product_id: 'dating' }, token)).state).toBe(200);
  return email;
}

/** Everything the emulators hold that a probe could change. */
async function emulatorData() {
  return {
    users: await account.dev('GET', 'users'),
    messages: await account.dev('GET', 'messages'),
    dating: await (await fetch(`${dating.url}/_emulator/users`)).json(),
  };
}

describe('the Account API probe against the emulator', () => {
  it('read-only: every check holds, the write checks are skipped, and no data changes', async () => {
    const login = await testAccount();
    const before = await emulatorData();
    const results = await probeAccount({ url: account.emulator.url, login, password: PASSWORD });
    expect(failing(results)).toEqual([]);
    const skippedIds = results.filter((r) => r.verdict === 'skipped').map((r) => r.id);
    expect(skippedIds.sort()).toEqual(['activate-idempotent', 'archive-short-404', 'block-unknown-404', 'product-unknown-404', 'register-format-401-402', 'settings-echo', 'settings-email-401', 'tracking-empty-404'].sort());
    expect(results.filter((r) => r.verdict === 'holds')).toHaveLength(15);
    expect(await emulatorData()).toEqual(before);
  });

  it('with writes allowed: every check holds, none is skipped, and the data is as it was', async () => {
    const login = await testAccount();
    const before = await emulatorData();
    const results = await probeAccount({ url: account.emulator.url, login, password: PASSWORD, allowWrites: true });
    expect(results.filter((r) => r.verdict !== 'holds')).toEqual([]);
    expect(results).toHaveLength(23);
    expect(await emulatorData()).toEqual(before);
  });

  it('without a login: the session checks are skipped, the others hold', async () => {
    const results = byId(await probeAccount({ url: account.emulator.url }));
    expect(results['session-403']!.verdict).toBe('holds');
    expect(results['login-unknown-404']!.verdict).toBe('holds');
    expect(results['user-shape']).toMatchObject({ verdict: 'skipped', detail: 'needs --login of a test account (and ACCOUNT_PROBE_PASSWORD)' });
  });

  it('reports each deviation with the path, the state and what the client would make of it', async () => {
    const login = await testAccount();
    // The first login call of the probe is its missing-fields one.
    await account.dev('POST', 'force', { path: 'user/auth/login', state: 401 });
    await account.dev('POST', 'fault', { path: 'user/auth/recovery', kind: 'not_envelope' });
    // user/settings/get: twice 403 (the no-session calls), then a Settings object off contract.
    await account.dev('POST', 'force', { path: 'user/settings/get', state: 403 });
    await account.dev('POST', 'force', { path: 'user/settings/get', state: 403 });
    await account.dev('POST', 'force', { path: 'user/settings/get', state: 200, data: { sex: 'woman', news: 'yes' } });
    const results = byId(await probeAccount({ url: account.emulator.url, login, password: PASSWORD }));
    expect(results['missing-400']).toMatchObject({ verdict: 'fails', detail: 'user/auth/login answered state 401, expected 400 (the client would make it VerificationRequired)' });
    expect(results['transport']).toMatchObject({ verdict: 'fails', detail: 'user/auth/recovery: JSON that is not { state, data }' });
    expect(results['recovery-unknown-404']!.verdict).toBe('fails');
    expect(results['settings-shape']!.verdict).toBe('fails');
    expect(results['settings-shape']!.detail).toMatch(/^sex: .+; news: .+$/);
    expect(results['user-shape']!.verdict).toBe('holds');
  });

  it('says so when nothing answers', async () => {
    const results = byId(await probeAccount({ url: 'http://127.0.0.1:9', timeoutMs: 2000 }));
    expect(results['paths']).toMatchObject({ verdict: 'fails', detail: 'no call got an HTTP answer' });
    expect(results['transport']!.detail).toContain('not reachable');
  });
});

describe('the Dating API probe against the emulator', () => {
  it('every check holds and no user is created', async () => {
    const results = await probeDating({ url: `${dating.url}/wellhello`, key: DATING_KEY });
    expect(results.filter((r) => r.verdict !== 'holds')).toEqual([]);
    expect(results.map((r) => r.id)).toEqual(['envelope', 'missing-400', 'form-400', 'all-errors-at-once', 'wrong-key-401', 'method-405', 'cors']);
    expect(await (await fetch(`${dating.url}/_emulator/users`)).json()).toEqual([]);
  });

  it('a wrong key: the refusals it expected come back as 401 and it says why', async () => {
    const results = byId(await probeDating({ url: `${dating.url}/wellhello`, key: 'not-the-key-4711' }));
    expect(results['missing-400']).toMatchObject({ verdict: 'fails', detail: 'HTTP 401, expected 400 (the site does not know this key)' });
    expect(results['wrong-key-401']!.verdict).toBe('holds');
  });
});

describe('npm run contract', () => {
  function runCli(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/contract/cli.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    return new Promise<{ code: number | null; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, out })));
  }

  it('takes the secrets from the environment, prints what holds for both backends, exits 0, and never prints the password or the key', async () => {
    const login = await testAccount();
    const { code, out } = await runCli(
      ['--account-url', account.emulator.url, '--login', login, '--allow-writes', '--dating-url', `${dating.url}/wellhello`],
      { ACCOUNT_PROBE_PASSWORD: PASSWORD, DATING_API_KEY: DATING_KEY },
    );
    expect(code, out).toBe(0);
    expect(out).not.toContain('warning');
    expect(out).toContain(`Account API contract probe of ${account.emulator.url} (writes allowed)`);
    expect(out).toMatch(/HOLDS {2}settings-shape +user\/settings\/get answers the Settings object/);
    expect(out).toContain('23 hold, 0 fail, 0 skipped');
    expect(out).toContain(`Dating API v2 contract probe of ${dating.url}/wellhello (only requests the site must refuse)`);
    expect(out).toContain('7 hold, 0 fail, 0 skipped');
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(DATING_KEY);
  });

  it('still takes --password and --dating-key, with a warning that names the variable and not the value', async () => {
    const login = await testAccount();
    const { code, out } = await runCli([
      '--account-url', account.emulator.url, '--login', login, '--password', PASSWORD,
      '--dating-url', `${dating.url}/wellhello`, '--dating-key', DATING_KEY,
    ]);
    expect(code, out).toBe(0);
    expect(out).toContain('warning: --password puts a secret on the command line (ps, shell history); set ACCOUNT_PROBE_PASSWORD instead');
    expect(out).toContain('warning: --dating-key puts a secret on the command line (ps, shell history); set DATING_API_KEY instead');
    expect(out).toContain('7 hold, 0 fail, 0 skipped');
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(DATING_KEY);
  });

  it('exits 1 when a check fails (without printing the key it was given) and 2 on a usage error', async () => {
    const wrong = await runCli(['--dating-url', `${dating.url}/wellhello`], { DATING_API_KEY: 'wrong-key-0815' });
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/FAILS {2}missing-400/);
    expect(wrong.out).not.toContain('wrong-key-0815');
    const usage = await runCli(['--login', 'a@example.com']);
    expect(usage.code).toBe(2);
    expect(usage.out).toContain('usage: [ACCOUNT_PROBE_PASSWORD=…] [DATING_API_KEY=…] npm run contract');
    const noPassword = await runCli(['--account-url', account.emulator.url, '--login', 'a@example.com']);
    expect(noPassword.code).toBe(2);
    expect(noPassword.out).toContain('--login needs its password in ACCOUNT_PROBE_PASSWORD');
  });
});
