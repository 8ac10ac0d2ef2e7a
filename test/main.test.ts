import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defer } from './support/harness.js';
import { startNodeProcess } from './support/node-process.js';

/** `npm start`'s entry, as a user runs it: the embedded default, config errors, ports in use, SIGTERM. */

function start(env: Record<string, string>) {
  return startNodeProcess('src/main.ts', { METRICS_PORT: '0', EMULATOR_STATE_FILE: 'off', ...env });
}

/** A port someone else (another gateway) already listens on, at 127.0.0.1. */
async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

describe('npm start', () => {
  it('with no upstream configured starts both emulators, says so, serves GraphiQL and stops on SIGTERM', async () => {
    const app = start({ PORT: '0', HOST: '127.0.0.1', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0' });
    const ready = await app.waitFor(/GraphiQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    const stdout = app.stdout();
    expect(stdout).toMatch(/ACCOUNT_API_URL is not set: started the bundled Account API emulator/);
    expect(stdout).toMatch(/DATING_SITES is not set: started the bundled Dating API emulator/);
    expect(stdout).not.toMatch(/demo-\w+-key/);

    // Codes go to the emulator's log on stderr, never to the gateway's log on stdout.
    const registered = await fetch(ready[1]!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { register(input: { email: "main@example.com", password: "main test 123" }) { __typename } }' }),
    });
    expect(await registered.json()).toEqual({ data: { register: { __typename: 'RegisterSuccess' } } });
    await app.waitFor(/"msg":"code delivered"/, 'stderr');
    const delivered = app.stderr().split('\n').filter((line) => line.includes('"msg":"code delivered"')).map((line) => JSON.parse(line) as Record<string, string>)[0];
    // The code once, in the emulated message (no redacted `code` field beside it).
    expect(delivered, app.stderr()).toMatchObject({ text: expect.stringMatching(/code is \d{6}$/) });
    expect(delivered).not.toHaveProperty('code');
    expect(app.stdout()).not.toContain(/code is (\d{6})/.exec(delivered!.text!)![1]!);

    const url = ready[1]!;
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<title>Account & Dating gateway</title>');
    const sites = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ datingSites { id } }' }) });
    expect(await sites.json()).toEqual({ data: { datingSites: [{ id: 'wellhello' }, { id: 'lovecrush' }] } });

    expect(await app.stop()).toBe(0);
  });

  it('stops at once on bad configuration, naming every bad variable and nothing else', async () => {
    const app = start({ PORT: 'abc', UPSTREAM_TIMEOUT_MS: '5', DATING_SITES: '[{"id":"x","apiKey":"sekrit-key-123"' });
    expect(await app.exited).toBe(1);
    const [stderr, stdout] = [app.stderr(), app.stdout()];
    expect(stderr).toMatch(/PORT/);
    expect(stderr).toMatch(/UPSTREAM_TIMEOUT_MS/);
    expect(stderr).toMatch(/DATING_SITES/);
    expect(stderr + stdout).not.toContain('sekrit-key-123');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('with a port already taken (a second `npm start`) names its variable in one line and exits 1', async () => {
    const free = { PORT: '0', METRICS_PORT: '0', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0' };
    const variables = Object.keys(free) as (keyof typeof free)[];
    await Promise.all(
      variables.map(async (variable) => {
        const port = await takenPort();
        const app = start({ HOST: '127.0.0.1', ...free, [variable]: String(port) });
        expect(await app.exited, app.stderr()).toBe(1);
        const lines = app.stderr().trim().split('\n');
        expect(lines.at(-1)).toBe(`${variable}=${port}: 127.0.0.1:${port} is already in use (is another gateway running?); set ${variable} to a free port (0 picks any)`);
        expect(app.stderr()).not.toMatch(/\n\s+at /);
        expect(app.stdout()).not.toMatch(/ready at/);
      }),
    );
  });

  it('with GRAPHIQL=false says the GraphQL endpoint is ready and that GraphiQL is off, never that GraphiQL is ready', async () => {
    const app = start({ PORT: '0', HOST: '127.0.0.1', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', GRAPHIQL: 'false' });
    const ready = await app.waitFor(/GraphQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql) \(GraphiQL is off/);
    expect(app.stdout()).not.toMatch(/GraphiQL ready/);
    const page = await fetch(ready[1]!, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<title>Account & Dating gateway</title>');
    expect(await app.stop()).toBe(0);
  });
});
