import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run build` and what `npm start` runs: tsc's output plus the runtime
 * files (the trusted-documents manifest), started with plain `node`. Built
 * into .tmp/ so a developer's dist/ is left alone.
 */
const out = join('.tmp', `build-test-${process.pid}`);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(out, { recursive: true, force: true });
});

const build = (...args: string[]) => spawnSync(process.execPath, ['scripts/build.mjs', '--out', out, ...args], { encoding: 'utf8' });

describe('the compiled build', () => {
  it('compiles src/ and copies the manifest; --if-needed then does nothing; node serves a trusted document from it', { timeout: 180_000 }, async () => {
    const built = build();
    expect(built.status, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/built .* \(1 runtime file copied\)/);
    expect(readFileSync(join(out, 'client/generated/persisted-documents.json'), 'utf8')).toBe(readFileSync('src/client/generated/persisted-documents.json', 'utf8'));
    expect(existsSync(join(out, 'main.js'))).toBe(true);

    const again = build('--if-needed');
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');

    const child = spawn(process.execPath, [join(out, 'main.js')], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', EMULATOR_STATE_FILE: 'off', TRUSTED_DOCUMENTS: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && !/GraphiQL ready at/.test(stdout) && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const url = /GraphiQL ready at (http:\/\/\S+\/graphql)/.exec(stdout)?.[1];
    expect(url, stdout).toBeDefined();
    const res = await fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: '08825a8b8faf30b546e0d58a9383ee8734d87b7b7fc9075df05df71ca6481d23' } } }),
    });
    expect(await res.json()).toEqual({ data: { datingSites: [{ id: 'wellhello', name: 'WellHello' }, { id: 'lovecrush', name: 'LoveCrush' }] } });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
