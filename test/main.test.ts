import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defer } from './support/harness.js';

/** `npm start`'s entry, as a user runs it: the embedded default, config errors, SIGTERM. */

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: '0', EMULATOR_STATE_FILE: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const output = () => ({ stdout, stderr });
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 300 && !pattern.test(stdout); i++) {
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return pattern.exec(stdout);
  };
  const waitForErr = async (pattern: RegExp) => {
    for (let i = 0; i < 100 && !pattern.test(stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    return pattern.exec(stderr);
  };
  return { child, exited, output, waitFor, waitForErr };
}

describe('npm start', () => {
  it('with no upstream configured starts both emulators, says so, serves GraphiQL and stops on SIGTERM', async () => {
    const app = start({ PORT: '0', HOST: '127.0.0.1', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0' });
    const ready = await app.waitFor(/GraphiQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    expect(ready, JSON.stringify(app.output())).not.toBeNull();
    const { stdout } = app.output();
    expect(stdout).toMatch(/ACCOUNT_API_URL is not set: started the bundled Account API emulator/);
    expect(stdout).toMatch(/DATING_SITES is not set: started the bundled Dating API emulator/);
    expect(stdout).not.toMatch(/demo-\w+-key/);

    // Codes go to the emulator's log on stderr, never to the gateway's log on stdout.
    const registered = await fetch(ready![1]!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { register(input: { email: "main@example.com", password: "main test 123" }) { __typename } }' }),
    });
    expect(await registered.json()).toEqual({ data: { register: { __typename: 'RegisterSuccess' } } });
    await app.waitForErr(/"msg":"code delivered"/);
    const delivered = app.output().stderr.split('\n').filter((line) => line.includes('"msg":"code delivered"')).map((line) => JSON.parse(line) as Record<string, string>)[0];
    expect(delivered, JSON.stringify(app.output())).toMatchObject({ code: '[redacted]', text: expect.stringMatching(/code is \d{6}$/) });
    expect(app.output().stdout).not.toContain(/code is (\d{6})/.exec(delivered!.text!)![1]!);

    const url = ready![1]!;
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<title>Account & Dating gateway</title>');
    const sites = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ datingSites { id } }' }) });
    expect(await sites.json()).toEqual({ data: { datingSites: [{ id: 'wellhello' }, { id: 'lovecrush' }] } });

    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('stops at once on bad configuration, naming every bad variable and nothing else', async () => {
    const app = start({ PORT: 'abc', UPSTREAM_TIMEOUT_MS: '5', DATING_SITES: '[{"id":"x","apiKey":"sekrit-key-123"' });
    expect(await app.exited).toBe(1);
    const { stderr, stdout } = app.output();
    expect(stderr).toMatch(/PORT/);
    expect(stderr).toMatch(/UPSTREAM_TIMEOUT_MS/);
    expect(stderr).toMatch(/DATING_SITES/);
    expect(stderr + stdout).not.toContain('sekrit-key-123');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
