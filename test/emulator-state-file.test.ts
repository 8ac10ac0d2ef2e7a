import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defer, waitUntil } from './support/harness.js';
import { type NodeProcess, startNodeProcess } from './support/node-process.js';

/** The JSON log lines of a process's output. */
const logLines = (text: string) => text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * Emulators that remember (EMULATOR_STATE_FILE): `npm run emulator` and
 * `npm start` as a developer runs them, stopped and started again on the
 * same file; a corrupt file; the reset endpoint; loopback by default.
 */

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'emulator-state-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** This machine's first address that is not loopback, if it has one. */
const outsideAddress = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;

/** `src/emulator/main.ts` or `src/main.ts` as a user runs it, the emulators on free ports. */
function run(entry: string, env: Record<string, string>, cwd?: string): NodeProcess {
  return startNodeProcess(entry, { EMULATOR_ACCOUNT_PORT: '0', EMULATOR_DATING_PORT: '0', ...env }, cwd);
}

/** `npm run emulator` on `file` (`undefined`: the default, in `cwd`); resolves with both URLs once it serves. */
async function startEmulators(file: string | undefined, env: Record<string, string> = {}, cwd?: string) {
  const app = run('src/emulator/main.ts', { ...(file === undefined ? {} : { EMULATOR_STATE_FILE: file }), ...env }, cwd);
  const ready = await app.waitFor(/Account API emulator at (http:\/\/[^\s]+) \(codes at [^)]+\); Dating API emulator at (http:\/\/[^\s]+) /);
  return { app, account: ready[1]!, dating: ready[2]! };
}

async function call(base: string, path: string, body: Record<string, unknown> = {}, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { state: number; data: any };
}

async function lastCode(base: string, to: string): Promise<string> {
  const messages = (await (await fetch(`${base}/_emulator/messages?to=${encodeURIComponent(to)}`)).json()) as { code: string }[];
  return messages.at(-1)!.code;
}

let counter = 0;
async function signUp(base: string) {
  const email = `remember-${process.pid}-${++counter}@example.com`;
  const reg = await call(base, 'user/auth/registration', { email, password: 'remember me 1' });
  expect(reg.state).toBe(200);
  const verified = await call(base, 'user/auth/verify', { user_id: reg.data, email_code: await lastCode(base, email) });
  expect(verified.state).toBe(200);
  return { userId: reg.data as string, email, token: verified.data.session.token as string };
}

async function createDatingUser(datingUrl: string, email: string) {
  const res = await fetch(`${datingUrl}/wellhello/v2/api/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'demo-wellhello-key' },
    body: JSON.stringify({ email, gender: 'female', password: 'dating-pw-1', birth_date: '1990-04-17', client_ip: '203.0.113.7' }),
  });
  return res.status;
}

describe('npm run emulator with EMULATOR_STATE_FILE', () => {
  it('keeps users, sessions, settings, products and dating users across a restart in .emulator/state.json, and listens on loopback by default', async () => {
    const cwd = await tempDir();
    const file = join(cwd, '.emulator', 'state.json');
    const first = await startEmulators(undefined, {}, cwd);
    expect(first.account).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.dating).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    if (outsideAddress) {
      const port = new URL(first.account).port;
      await expect(fetch(`http://${outsideAddress}:${port}/_emulator/messages`)).rejects.toThrow();
    }

    const ann = await signUp(first.account);
    expect((await call(first.account, 'user/settings/set', { news: true, birthday: 640310400 }, ann.token)).state).toBe(200);
    expect((await call(first.account, 'user/products/activate', { product_id: 'dating' }, ann.token)).state).toBe(200);
    // A pending code survives too: recovery started, its code used after the restart.
    const recovery = await call(first.account, 'user/auth/recovery', { login: ann.email });
    expect(recovery.state).toBe(200);
    expect(await createDatingUser(first.dating, ann.email)).toBe(201);
    expect(await first.app.stop()).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = await startEmulators(undefined, {}, cwd);
    expect(second.app.stdout()).toContain(`state kept in ${file}`);
    const user = await call(second.account, 'user/get', {}, ann.token);
    expect(user.state).toBe(200);
    expect(user.data).toMatchObject({ id: ann.userId, email: ann.email, email_verified: true, modules: ['dating'] });
    const settings = await call(second.account, 'user/settings/get', {}, ann.token);
    expect(settings.data).toMatchObject({ news: true, birthday: 640310400 });
    const recovered = await call(second.account, 'user/auth/recovery_done', {
      token: recovery.data.token,
      code: await lastCode(second.account, ann.email),
      password: 'new password 2',
    });
    expect(recovered.state).toBe(200);
    // The same address again on the same site: the site still knows it.
    expect(await createDatingUser(second.dating, ann.email)).toBe(409);
    const datingUsers = (await (await fetch(`${second.dating}/_emulator/users`)).json()) as { email: string }[];
    expect(datingUsers.map((u) => u.email)).toEqual([ann.email]);
    expect(await second.app.stop()).toBe(0);
  });

  it('saves a moment after each change, so even a killed process keeps it; ids of push events go on increasing', async () => {
    const file = join(await tempDir(), 'state.json');
    const first = await startEmulators(file);
    const bob = await signUp(first.account);
    const notified = await (await fetch(`${first.account}/_emulator/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: bob.userId, kind: 'info', title: 'Hi', body: 'one' }),
    })).json() as { event_id: string };
    await waitUntil(async () => {
      const text = await readFile(file, 'utf8').catch(() => '');
      return text.includes(bob.userId) && text.includes(notified.event_id);
    }, 'the state file to hold the user');
    await first.app.stop('SIGKILL');

    const second = await startEmulators(file);
    expect((await call(second.account, 'user/get', {}, bob.token)).state).toBe(200);
    const again = await (await fetch(`${second.account}/_emulator/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: bob.userId, kind: 'info', title: 'Hi', body: 'two' }),
    })).json() as { event_id: string };
    expect(again.event_id > notified.event_id).toBe(true);
    await second.app.stop();
  });

  it('POST /_emulator/reset clears the file: after a restart the user and session are gone', async () => {
    const file = join(await tempDir(), 'state.json');
    const first = await startEmulators(file);
    const cleo = await signUp(first.account);
    expect((await fetch(`${first.account}/_emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${first.dating}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    await first.app.stop();

    const second = await startEmulators(file);
    expect((await call(second.account, 'user/get', {}, cleo.token)).state).toBe(403);
    expect((await call(second.account, 'user/auth/login', { login: cleo.email, password: 'remember me 1' })).state).toBe(404);
    await second.app.stop();
  });

  it('reports a corrupt file, keeps a copy of it, starts empty and saves a good file again', async () => {
    const dir = await tempDir();
    const file = join(dir, 'state.json');
    await writeFile(file, '{"version":1,"sections":{"account":{"users":"not a list"}');
    const first = await startEmulators(file);
    expect(logLines(first.app.stdout())).toContainEqual(expect.objectContaining({ msg: 'emulator state file unreadable: the emulators start empty', reason: 'not valid JSON' }));
    const copies = (await readdir(dir)).filter((name) => name.startsWith('state.json.corrupt-'));
    expect(copies).toHaveLength(1);
    expect(await readFile(join(dir, copies[0]!), 'utf8')).toContain('not a list');

    const dana = await signUp(first.account);
    await first.app.stop();
    const saved = JSON.parse(await readFile(file, 'utf8')) as { version: number };
    expect(saved.version).toBe(1);

    // JSON of the right version but a section of the wrong shape: that emulator starts empty, the other keeps its part.
    const broken = JSON.parse(await readFile(file, 'utf8')) as { sections: { account: { users: unknown } } };
    broken.sections.account.users = [{ id: 'only an id' }];
    await writeFile(file, JSON.stringify(broken));
    const second = await startEmulators(file);
    expect(logLines(second.app.stdout())).toContainEqual(expect.objectContaining({ msg: 'emulator state of account unreadable: that emulator starts empty', reason: expect.stringMatching(/^off format at users\.0\.[a-z]+/i) }));
    expect((await call(second.account, 'user/get', {}, dana.token)).state).toBe(403);
    await second.app.stop();
  });

  it('EMULATOR_STATE_FILE=off keeps everything in memory and writes no file; EMULATOR_HOST opens other interfaces', async () => {
    const cwd = await tempDir();
    const { app, account } = await startEmulators(undefined, { EMULATOR_STATE_FILE: 'off', EMULATOR_HOST: '0.0.0.0' }, cwd);
    expect(app.stdout()).toMatch(/state in memory/);
    await signUp(account);
    if (outsideAddress) {
      const port = new URL(account).port;
      expect((await fetch(`http://${outsideAddress}:${port}/_emulator/messages`)).status).toBe(200);
    }
    expect(await app.stop()).toBe(0);
    expect(await readdir(cwd)).toEqual([]);
  });
});

describe('npm start with EMULATOR_STATE_FILE', () => {
  async function startGateway(file: string) {
    const app = run('src/main.ts', { PORT: '0', HOST: '127.0.0.1', EMULATOR_STATE_FILE: file });
    const ready = await app.waitFor(/GraphiQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/);
    const inbox = /open the inbox of delivered codes at (http:\/\/127\.0\.0\.1:\d+)\/_emulator\/inbox/.exec(app.stdout());
    expect(inbox, app.stdout()).not.toBeNull();
    expect(app.stdout()).toContain(`the bundled emulators keep their state in ${file}`);
    return { app, url: ready[1]!, account: inbox![1]! };
  }

  async function gql(url: string, query: string, token?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    return (await (await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) })).json()) as { data?: any; errors?: unknown[] };
  }

  it('a session token saved before a restart still signs in after it', async () => {
    const file = join(await tempDir(), 'state.json');
    const first = await startGateway(file);
    const email = `restart-${process.pid}@example.com`;
    const registered = await gql(first.url, `mutation { register(input: { email: "${email}", password: "restart me 1" }) { ... on RegisterSuccess { userId } } }`);
    const userId = registered.data.register.userId as string;
    const code = await lastCode(first.account, email);
    const verified = await gql(first.url, `mutation { verifyRegistration(input: { userId: "${userId}", emailCode: "${code}" }) { ... on AuthSuccess { session { token } } } }`);
    const token = verified.data.verifyRegistration.session.token as string;
    expect(first.app.stdout()).not.toContain(code);
    expect(await first.app.stop()).toBe(0);

    const second = await startGateway(file);
    expect(await gql(second.url, '{ viewer { id email } }', token)).toEqual({ data: { viewer: { id: userId, email } } });
    expect(second.app.stdout()).not.toContain(code);
    expect(await second.app.stop()).toBe(0);
  });
});
