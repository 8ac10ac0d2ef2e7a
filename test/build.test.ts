import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import madge from 'madge';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm start` as a user runs it: it builds dist/ first when it is missing or
 * stale (tsc plus the runtime files, such as the trusted-documents manifest),
 * then runs the compiled code with node, which gets the signals itself.
 */
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('npm start', () => {
  it('builds when needed, serves a trusted document from dist/, and drains on a SIGTERM to npm', { timeout: 240_000 }, async () => {
    const child = spawn('npm', ['start'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', EMULATOR_STATE_FILE: 'off', TRUSTED_DOCUMENTS: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 4000 && !/GraphiQL ready at/.test(stdout) && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const url = /GraphiQL ready at (http:\/\/\S+\/graphql)/.exec(stdout)?.[1];
    expect(url, `${stdout}\n${stderr}`).toBeDefined();
    expect(stdout).toMatch(/> exec node (--[\w-]+=\S+ )*dist\/main\.js/);
    expect(readFileSync('dist/client/generated/persisted-documents.json', 'utf8')).toBe(readFileSync('src/client/generated/persisted-documents.json', 'utf8'));
    // The compiled entry imports no emulator module statically: they load (import()) only when the emulators start.
    const compiled = async (skipAsyncImports: boolean) => (await madge('dist/main.js', { excludeRegExp: [/\.json$/], detectiveOptions: { es6: { skipAsyncImports } } })).obj();
    const [staticGraph, withDynamic] = await Promise.all([compiled(true), compiled(false)]);
    expect(Object.keys(staticGraph)).toContain('gateway.js');
    expect(Object.keys(staticGraph).filter((file) => file.startsWith('emulator/'))).toEqual([]);
    expect(withDynamic['main.js']).toContain('emulator/embedded.js');

    const manifest = JSON.parse(readFileSync('dist/client/generated/persisted-documents.json', 'utf8')) as Record<string, string>;
    const [key] = Object.entries(manifest).find(([, document]) => document.startsWith('query DatingSites '))!;
    const res = await fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: key.replace(/^sha256:/, '') } } }),
    });
    expect(await res.json()).toMatchObject({ data: { datingSites: [{ id: 'wellhello', name: 'WellHello' }, { id: 'lovecrush', name: 'LoveCrush' }] } });

    // What an orchestrator does: SIGTERM to the process it started (npm), which passes it to node.
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/"msg":"draining"/);
    expect(stdout).toMatch(/"msg":"stopped"/);

    // dist/ is up to date now: the next start builds nothing.
    const again = spawnSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
  });
});
