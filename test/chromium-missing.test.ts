import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * `npm test` on a machine without Chromium: the browser tests skip with one
 * line saying how to install it, and the run is green; under CI they fail.
 * Runs vitest on test/graphiql.browser.test.ts with a Chromium that is not there.
 */
function runBrowserTests(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'CI' && !name.startsWith('VITEST'))) as Record<string, string>;
  const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/graphiql.browser.test.ts'], {
    env: { ...clean, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

const SKIP_LINE = /^graphiql\.browser: skipping the browser tests, Chromium at \/nonexistent\/chromium does not start \(.+\); install it with `apt-get install chromium` or set CHROMIUM_PATH; under CI they fail instead$/m;

describe('the browser tests without Chromium', () => {
  it('skip with one printed line saying how to install it, and the run passes, when CI is unset', async () => {
    const { code, output } = await runBrowserTests({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(output).toMatch(SKIP_LINE);
    expect(output.match(/skipping the browser tests/g)).toHaveLength(1);
    expect(output, "every browser test skipped, none failed").toMatch(/Tests\s+(\d+) skipped \(\1\)/);
    expect(code, output).toBe(0);
  }, 60_000);

  it('fail under CI, naming the missing Chromium', async () => {
    const { code, output } = await runBrowserTests({ CHROMIUM_PATH: '/nonexistent/chromium', CI: 'true' });
    expect(output).not.toMatch(/skipping the browser tests/);
    expect(output).toMatch(/Chromium at \/nonexistent\/chromium does not start .*CI is set, so this fails instead of skipping/);
    expect(code).toBe(1);
  }, 60_000);
});
