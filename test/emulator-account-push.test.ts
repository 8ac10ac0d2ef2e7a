import { describe, it, expect } from 'vitest';
import { useAccountEmulator } from './support/emulators.js';
import { signUp } from './support/users.js';

/** The bundled Account API emulator against shared/UPSTREAM.md §4: its push socket and its dev injections. */

const account = useAccountEmulator();
const { call, dev, openSocket, tryTicket } = account;

describe('websocket', () => {
  it('uses a ticket once and refuses an expired one', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const first = await call('user/auth/websocket', {}, user.token);
    expect(first.data.url).toBe(`ws://127.0.0.1:${account.emulator.port}/ws`);
    expect(await tryTicket(first.data.url, first.data.ticket)).toBe(101);
    expect(await tryTicket(first.data.url, first.data.ticket)).toBe(401);
    expect(await tryTicket(first.data.url, 'made-up')).toBe(401);
    const late = await call('user/auth/websocket', {}, user.token);
    await dev('POST', 'clock', { advance_seconds: 61 });
    expect(await tryTicket(late.data.url, late.data.ticket)).toBe(401);
  });

  it('resumes after a drop without duplicates or gaps', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const first = await openSocket(user.token);
    await call('user/settings/set', { news: true }, user.token);
    await call('user/products/activate', { product_id: 'webstat' }, user.token);
    await call('user/products/activate', { product_id: 'webstat' }, user.token); // no change, no event
    const [a, b] = [await first.next(), await first.next()];
    expect([a.event, b.event]).toEqual(['settings.updated', 'products.updated']);
    expect(b.data).toEqual({ modules: ['webstat'] });
    expect(b.id > a.id).toBe(true);
    expect(await dev('GET', 'sockets')).toMatchObject({ [user.userId]: 1 });
    expect(await dev('POST', 'drop', { user_id: user.userId })).toMatchObject({ dropped: 1 });
    expect((await dev('GET', 'sockets'))[user.userId]).toBeUndefined();

    await call('user/settings/set', { news: false }, user.token);
    await dev('POST', 'notify', { user_id: user.userId, kind: 'promo', title: 'Hi', body: 'There' });
    const second = await openSocket(user.token, { resume_after: b.id });
    await call('user/products/deactivate', { product_id: 'webstat' }, user.token);
    const got = [await second.next(), await second.next(), await second.next()];
    expect(got.map((f) => f.event)).toEqual(['settings.updated', 'notification', 'products.updated']);
    expect(got[1]!.data).toMatchObject({ kind: 'promo', title: 'Hi', body: 'There' });
    expect(got.every((f, i) => f.id > (i === 0 ? b.id : got[i - 1]!.id))).toBe(true);
    // Nothing repeats: the next frame after those three is a fresh sentinel.
    await dev('POST', 'notify', { user_id: user.userId, kind: 'sentinel', title: 'end', body: '' });
    expect((await second.next()).data).toMatchObject({ kind: 'sentinel' });
    expect(second.frames).toHaveLength(4);
    second.ws.close();
  });

  it('sends session.expired and closes with 4403 on expire and on logout', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const socket = await openSocket(user.token, {});
    await dev('POST', 'expire', { user_id: user.userId });
    const frame = await socket.next();
    expect(frame).toMatchObject({ event: 'session.expired', data: {} });
    expect(await socket.closed).toBe(4403);
    expect((await call('user/get', {}, user.token)).state).toBe(403);

    const login = await call('user/auth/login', { login: user.email, password: 'secret-1' });
    const again = await openSocket(login.data.session.token, {});
    expect(await call('user/auth/logout', {}, login.data.session.token)).toEqual({ state: 200, data: true });
    expect((await again.next()).event).toBe('session.expired');
    expect(await again.closed).toBe(4403);
  });
});

describe('dev injections', () => {
  it('forces an envelope and injects faults on the next call only', async () => {
    await dev('DELETE', 'calls');
    await dev('POST', 'force', { path: 'user/auth/login', state: 406 });
    expect(await call('user/auth/login', { login: 'x', password: 'y' })).toEqual({ state: 406, data: null });
    expect((await call('user/auth/login', { login: 'x', password: 'y' })).state).toBe(404);

    await dev('POST', 'fault', { path: 'user/get', kind: 'http_500' });
    const failed = await fetch(`${account.emulator.url}/user/get`, { method: 'POST', body: '{}' });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('content-type')).toContain('text/html');
    await failed.text();

    await dev('POST', 'fault', { path: 'user/get', kind: 'garbage' });
    const garbage = await fetch(`${account.emulator.url}/user/get`, { method: 'POST', body: '{}' });
    expect(garbage.status).toBe(200);
    await expect(garbage.json()).rejects.toThrow();

    await dev('POST', 'fault', { path: 'user/get', kind: 'delay', ms: 150 });
    const started = Date.now();
    expect((await call('user/get')).state).toBe(403);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    expect(await dev('GET', 'calls')).toEqual({ 'user/auth/login': 2, 'user/get': 3 });
    const refused = await fetch(`${account.emulator.url}/_emulator/force`, { method: 'POST', body: JSON.stringify({ path: 'user/nope', state: 1 }) });
    expect(refused.status).toBe(400);
  });

  it('ends sessions when the clock passes 30 days, and reset clears everything', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const socket = await openSocket(user.token, {});
    await dev('POST', 'clock', { advance_seconds: 30 * 24 * 3600 });
    expect((await socket.next()).event).toBe('session.expired');
    expect(await socket.closed).toBe(4403);
    expect((await call('user/get', {}, user.token)).state).toBe(403);
    await dev('POST', 'reset');
    expect(await dev('GET', 'messages')).toEqual([]);
    expect(await dev('GET', 'calls')).toEqual({});
    expect((await call('user/auth/login', { login: user.email, password: 'secret-1' })).state).toBe(404);
  });
});
