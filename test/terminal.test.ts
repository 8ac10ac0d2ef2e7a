import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defer, waitUntil } from './support/harness.js';

/**
 * `npm start` on a terminal, as a developer sees it: util-linux `script`
 * runs the gateway on a pseudo-terminal (its stdout and stderr both), with
 * the embedded emulators.
 */

const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function startOnTerminal(env: Record<string, string>) {
  const command = `${process.execPath} --import ${TSX} ${resolve('src/main.ts')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: stopping it stops the gateway under `script` too.
    detached: true,
  });
  defer(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  const text = () => output.replace(ANSI, '').replace(/\r/g, '');
  return {
    text,
    waitFor: async (pattern: RegExp) => {
      await waitUntil(() => pattern.test(text()), `the terminal to show ${pattern}:\n${text()}`);
      return pattern.exec(text())!;
    },
  };
}

describe('npm start on a terminal', () => {
  it('shows the gateway and its emulators in one pretty format, each code once, and no access line for introspection', async () => {
    const app = startOnTerminal({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', EMULATOR_STATE_FILE: 'off' });
    const url = (await app.waitFor(/GraphiQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/))[1]!;
    const emulator = /started the bundled Account API emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(app.text())![1]!;
    const post = (query: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

    // GraphiQL's introspection, then an operation of the developer's.
    await post('query IntrospectionQuery { __schema { queryType { name } } }');
    const registered = await post('mutation Signup { register(input: { email: "tty@example.com", password: "tty test 123" }) { __typename } }');
    expect(await registered.json()).toEqual({ data: { register: { __typename: 'RegisterSuccess' } } });
    await app.waitFor(/graphql operation.*"Signup"/);
    const [message] = (await (await fetch(`${emulator}/_emulator/messages?to=tty%40example.com`)).json()) as { code: string }[];
    await app.waitFor(/code delivered/);

    const lines = app.text().split('\n').filter((line) => line.trim() !== '');
    // pino-pretty's `[time] LEVEL: message {fields}`, one line each, for the emulators too.
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(lines.some((line) => /^\[[\d:.]+\] INFO: account emulator listening .*"component":"account-emulator"/.test(line)), app.text()).toBe(true);
    const delivered = lines.filter((line) => line.includes('code delivered'));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatch(/^\[[\d:.]+\] INFO: code delivered .*"to":"tty@example.com"/);
    expect(delivered[0]!.split(message!.code)).toHaveLength(2);
    expect(delivered[0]).not.toContain('[redacted]');
    // The code is on the emulator's line only.
    expect(lines.filter((line) => line.includes(message!.code))).toEqual(delivered);
    expect(app.text()).not.toContain('tty test 123');
    expect(lines.filter((line) => line.includes('graphql operation'))).toEqual([expect.stringContaining('"Signup"')]);
  });
});
