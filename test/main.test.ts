import { createServer, type Server } from 'node:net';
import madge from 'madge';
import { describe, expect, it } from 'vitest';
import { defer } from './support/harness.js';
import { startNodeProcess } from './support/node-process.js';

/** `npm start`'s entry, as a user runs it: the embedded default, production without upstreams, config errors, ports in use, SIGTERM. */

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

  it('in production without upstreams refuses at once, in one line naming what is missing, before binding any port', async () => {
    // Every port it could bind is taken: had it tried one, its last line would name that port instead.
    const held = { PORT: await takenPort(), METRICS_PORT: await takenPort(), EMULATOR_ACCOUNT_PORT: await takenPort(), EMULATOR_DATING_PORT: await takenPort() };
    const ports = Object.fromEntries(Object.entries(held).map(([name, port]) => [name, String(port)]));
    const cases: { env: Record<string, string>; line: string }[] = [
      { env: { NODE_ENV: 'production' }, line: 'ACCOUNT_API_URL and DATING_SITES must be set: the bundled emulators never start with NODE_ENV=production (EMULATORS=on starts them anyway, for a demo on fake backends)' },
      { env: { NODE_ENV: 'production', ACCOUNT_API_URL: 'http://127.0.0.1:9/' }, line: 'DATING_SITES must be set: the bundled emulators never start with NODE_ENV=production (EMULATORS=on starts them anyway, for a demo on fake backends)' },
      { env: { EMULATORS: 'off' }, line: 'ACCOUNT_API_URL and DATING_SITES must be set: EMULATORS is off (EMULATORS=on starts them anyway, for a demo on fake backends)' },
    ];
    await Promise.all(
      cases.map(async ({ env, line }) => {
        const app = start({ HOST: '127.0.0.1', ...ports, ...env });
        expect(await app.exited, app.stderr()).toBe(1);
        expect(app.stderr()).toBe(`${line}\n`);
        expect(app.stdout()).toBe('');
      }),
    );
  });

  it('in production with EMULATORS=on starts the emulators with a warning, and warns of each retired variable set', async () => {
    const app = start({ NODE_ENV: 'production', EMULATORS: 'on', PORT: '0', HOST: '127.0.0.1', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', SUBSCRIPTIONS_ADMISSION_QUEUE: '5' });
    const ready = await app.waitFor(/GraphQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    const warnings = app
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"level":"warn"'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(warnings).toContain('EMULATORS=on in production: ACCOUNT_API_URL and DATING_SITES served by the bundled emulators, fake backends for a staging demo only (passwords kept in clear in memory)');
    expect(warnings).toContain('SUBSCRIPTIONS_ADMISSION_QUEUE is no longer read: fixed at 20000 waiting session checks (SUBSCRIPTIONS_ADMISSION_DEADLINE_MS still bounds the wait)');
    const sites = await fetch(ready[1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ datingSites { id } }' }) });
    expect(await sites.json()).toEqual({ data: { datingSites: [{ id: 'wellhello' }, { id: 'lovecrush' }] } });
    expect(await app.stop()).toBe(0);
  });
});

describe("the entry's imports", () => {
  const graphOf = async (skipAsyncImports: boolean) =>
    (await madge('src/main.ts', { fileExtensions: ['ts'], tsConfig: 'tsconfig.json', excludeRegExp: [/\.json$/], detectiveOptions: { ts: { skipTypeImports: true, skipAsyncImports } } })).obj();

  it('load no emulator module until the emulators start (a dynamic import)', async () => {
    const [staticGraph, withDynamic] = await Promise.all([graphOf(true), graphOf(false)]);
    expect(Object.keys(staticGraph)).toContain('gateway.ts');
    expect(Object.keys(staticGraph).filter((file) => file.startsWith('emulator/'))).toEqual([]);
    expect(withDynamic['main.ts']).toContain('emulator/embedded.ts');
  });
});
