import { describe, it, expect } from 'vitest';
import { useAccountEmulator } from './support/emulators.js';
import { signUp, uniqueEmail, uniquePhone } from './support/users.js';

/** The bundled Account API emulator against shared/UPSTREAM.md §1, §3, §4: its HTTP paths. Push: emulator-account-push.test.ts. */

const account = useAccountEmulator();
const { call, dev, lastCode, openSocket } = account;

describe('transport', () => {
  it('answers 404 for an unknown path, 405 for GET, 400 for bad JSON, 403 without a session', async () => {
    expect((await fetch(`${account.emulator.url}/user/nothing`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${account.emulator.url}/user/get`)).status).toBe(405);
    expect((await fetch(`${account.emulator.url}/user/get`, { method: 'POST', body: '{nope' })).status).toBe(400);
    expect(await call('user/get')).toEqual({ state: 403, data: null });
    expect(await call('user/settings/get', {}, 'not-a-session')).toEqual({ state: 403, data: null });
    expect((await call('user/auth/login', { login: 42, password: 'x' })).state).toBe(400);
  });

  it('answers an envelope to odd parameters on every path', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const keys = ['email', 'phone', 'password', 'login', 'user_id', 'code', 'email_code', 'phone_code', 'type', 'token',
      'recovery_token', 'deletion_token', 'id', 'reason', 'product_id', 'sex', 'lang', 'birthday', 'dating.model',
      'first_name', 'news', 'restriction_1', 'location', 'screen', 'battery_charge', 'web_event', 'constructor', '__proto__'];
    const paths = ['user/get', 'user/auth/login', 'user/auth/registration', 'user/auth/verify', 'user/auth/code',
      'user/auth/recovery', 'user/auth/recovery_done', 'user/block', 'user/settings/get', 'user/settings/set',
      'user/products/get', 'user/products/activate', 'user/products/deactivate', 'user/tracking/set', 'user/archive',
      'user/auth/websocket'];
    for (const odd of [42, [], { a: 1 }, true, -1.5, '']) {
      const body = Object.fromEntries(keys.map((k) => [k, odd]));
      for (const path of paths) {
        const answer = await call(path, body, user.token);
        expect(Number.isInteger(answer.state), path).toBe(true);
      }
    }
    expect((await call('user/get', {}, user.token)).state).toBe(200);
  });
});

describe('registration and verification', () => {
  it('registers, delivers and logs a code, and verify gives a session', async () => {
    const email = uniqueEmail();
    const reg = await call('user/auth/registration', { email, password: 'secret-1', name: 'Ann', surname: 'Lee', lang: 'de' });
    expect(reg.state).toBe(200);
    expect(typeof reg.data).toBe('string');
    const code = await lastCode(email, 'registration');
    expect(account.logLines.some((line) => line.includes('"code delivered"') && line.includes(email) && line.includes(code))).toBe(true);
    expect(await call('user/auth/verify', { user_id: reg.data, email_code: '000000x' })).toEqual({ state: 401, data: null });
    const verified = await call('user/auth/verify', { user_id: reg.data, email_code: code });
    expect(verified.state).toBe(200);
    expect(verified.data).toMatchObject({
      id: reg.data, email, phone: null, email_verified: true, phone_verified: false,
      name: 'Ann', surname: 'Lee', lang: 'de', modules: [],
    });
    expect(verified.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(verified.data.session.token).toBeTruthy();
    const me = await call('user/get', {}, verified.data.session.token);
    expect(me.state).toBe(200);
    expect(me.data.session).toBeUndefined();
    // Used code, nothing left to verify.
    expect((await call('user/auth/verify', { user_id: reg.data, email_code: code })).state).toBe(404);
  });

  it('answers 400, 401, 402 and 405 on registration', async () => {
    expect((await call('user/auth/registration', { password: 'x' })).state).toBe(400);
    expect((await call('user/auth/registration', { email: uniqueEmail() })).state).toBe(400);
    expect((await call('user/auth/registration', { email: 'no-at-sign', password: 'x' })).state).toBe(401);
    expect((await call('user/auth/registration', { phone: '5551234', password: 'x' })).state).toBe(402);
    expect((await call('user/auth/registration', { email: uniqueEmail(), password: 'x', lang: 'xx' })).state).toBe(400);
    const email = uniqueEmail();
    expect((await call('user/auth/registration', { email, password: 'x' })).state).toBe(200);
    expect((await call('user/auth/registration', { email: email.toUpperCase(), password: 'x' })).state).toBe(405);
  });

  it('needs both channels verified, one per call', async () => {
    const email = uniqueEmail();
    const phone = uniquePhone();
    const reg = await call('user/auth/registration', { email, phone, password: 'pw' });
    expect((await call('user/auth/login', { login: phone, password: 'pw' })).state).toBe(406);
    expect((await call('user/auth/verify', { user_id: reg.data, email_code: '1', phone_code: '2' })).state).toBe(401);
    const step = await call('user/auth/verify', { user_id: reg.data, email_code: await lastCode(email, 'registration') });
    expect(step).toEqual({ state: 402, data: null });
    expect((await call('user/auth/login', { login: email, password: 'pw' })).state).toBe(402);
    const done = await call('user/auth/verify', { user_id: reg.data, phone_code: await lastCode(phone, 'registration') });
    expect(done.state).toBe(200);
    expect(done.data.session.token).toBeTruthy();
    expect((await call('user/auth/login', { login: phone, password: 'pw' })).state).toBe(200);
  });
});

describe('login', () => {
  it('answers 401, 402, 404, 405 and 200', async () => {
    const email = uniqueEmail();
    await call('user/auth/registration', { email, password: 'pw' });
    expect(await call('user/auth/login', { login: email, password: 'pw' })).toEqual({ state: 401, data: null });
    const phone = uniquePhone();
    await call('user/auth/registration', { phone, password: 'pw' });
    expect((await call('user/auth/login', { login: phone, password: 'pw' })).state).toBe(402);
    expect((await call('user/auth/login', { login: 'nobody@example.com', password: 'pw' })).state).toBe(404);
    expect((await call('user/auth/login', { login: phone, password: 'wrong' })).state).toBe(404);
    expect((await call('user/auth/login', { login: phone })).state).toBe(400);

    const user = await signUp(account.client, { password: 'pw-ok' });
    const login = await call('user/auth/login', { login: user.email, password: 'pw-ok' });
    expect(login.state).toBe(200);
    expect(login.data.session.expires_at).toMatch(/Z$/);
    await dev('POST', 'deactivate', { user_id: user.userId });
    expect((await call('user/auth/login', { login: user.email, password: 'pw-ok' })).state).toBe(405);
    expect((await call('user/get', {}, user.token)).state).toBe(405);
    expect((await call('user/settings/get', {}, user.token)).state).toBe(403);
  });
});

describe('codes', () => {
  it('refuses a resend within 90 s, then sends a new code', async () => {
    const email = uniqueEmail();
    const reg = await call('user/auth/registration', { email, password: 'pw' });
    const first = await lastCode(email, 'registration');
    expect(await call('user/auth/code', { user_id: reg.data, type: 'email' })).toEqual({ state: 404, data: false });
    expect((await call('user/auth/code', { user_id: reg.data, type: 'phone' })).state).toBe(400);
    expect((await call('user/auth/code', { user_id: reg.data })).state).toBe(400);
    await dev('POST', 'clock', { advance_seconds: 91 });
    expect(await call('user/auth/code', { user_id: reg.data, type: 'email' })).toEqual({ state: 200, data: true });
    const second = await lastCode(email, 'registration');
    if (second !== first) expect((await call('user/auth/verify', { user_id: reg.data, email_code: first })).state).toBe(401);
    expect((await call('user/auth/verify', { user_id: reg.data, email_code: second })).state).toBe(200);
    await dev('POST', 'clock', { advance_seconds: 91 });
    expect((await call('user/auth/code', { user_id: reg.data, type: 'email' })).state).toBe(401);
  });

  it('expires a code after 10 minutes', async () => {
    const email = uniqueEmail();
    const reg = await call('user/auth/registration', { email, password: 'pw' });
    const code = await lastCode(email, 'registration');
    await dev('POST', 'clock', { advance_seconds: 601 });
    expect((await call('user/auth/verify', { user_id: reg.data, email_code: code })).state).toBe(401);
  });
});

describe('settings', () => {
  it('keeps a changed e-mail pending until verify confirms it', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const socket = await openSocket(user.token, {});
    const newEmail = uniqueEmail();
    const set = await call('user/settings/set', { email: newEmail, 'dating.model': 'm1', sex: 2, restriction_3: true, birthday: 631152000 }, user.token);
    expect(set.state).toBe(200);
    expect(set.data).toMatchObject({ email: user.email, dating: { model: 'm1' }, sex: 2, restriction_3: true, birthday: 631152000 });
    expect((await call('user/settings/get', {}, user.token)).data.email).toBe(user.email);
    expect((await call('user/settings/set', { email: 'bad' }, user.token)).state).toBe(401);
    expect((await call('user/settings/set', { phone: '123' }, user.token)).state).toBe(402);
    expect((await call('user/settings/set', { sex: 9 }, user.token)).state).toBe(400);
    expect((await call('user/auth/code', {}, user.token)).state).toBe(404);
    expect((await call('user/auth/verify', { code: 'nope' }, user.token)).state).toBe(404);
    const code = await lastCode(newEmail, 'contact_change');
    expect((await call('user/auth/verify', { code })).state).toBe(403);
    const confirmed = await call('user/auth/verify', { code }, user.token);
    expect(confirmed.state).toBe(200);
    expect(confirmed.data.email).toBe(newEmail);
    expect(confirmed.data.session).toBeUndefined();
    expect((await call('user/settings/get', {}, user.token)).data.email).toBe(newEmail);
    expect((await call('user/auth/code', {}, user.token)).state).toBe(400);
    const events = [await socket.next(), await socket.next(), await socket.next()];
    expect(events.map((e) => e.event)).toEqual(['settings.updated', 'settings.updated', 'user.verified']);
    expect(events[1]!.data.email).toBe(newEmail);
    expect(events[2]!.data).toEqual({ channel: 'email' });
    socket.ws.close();
  });
});

describe('recovery and deletion', () => {
  it('recovers a password and ends the other sessions', async () => {
    const user = await signUp(account.client, { password: 'old-pass' });
    const other = await call('user/auth/login', { login: user.email, password: 'old-pass' });
    const started = await call('user/auth/recovery', { login: user.email });
    expect(started.state).toBe(200);
    expect(started.data.type).toBe('email');
    expect((await call('user/auth/recovery', { login: 'nobody@example.com' })).state).toBe(404);
    expect((await call('user/auth/code', { recovery_token: started.data.token })).state).toBe(404);
    const code = await lastCode(user.email, 'recovery');
    expect((await call('user/auth/recovery_done', { token: started.data.token, code: 'bad', password: 'new-pass' })).state).toBe(404);
    const done = await call('user/auth/recovery_done', { token: started.data.token, code, password: 'new-pass' });
    expect(done.state).toBe(200);
    expect((await call('user/get', {}, user.token)).state).toBe(403);
    expect((await call('user/get', {}, other.data.session.token)).state).toBe(403);
    expect((await call('user/get', {}, done.data.session.token)).state).toBe(200);
    expect((await call('user/auth/login', { login: user.email, password: 'old-pass' })).state).toBe(404);
    expect((await call('user/auth/login', { login: user.email, password: 'new-pass' })).state).toBe(200);
  });

  it('deletes a user after the code', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const socket = await openSocket(user.token, {});
    const started = await call('user/auth/delete', {}, user.token);
    expect(started.state).toBe(200);
    expect(started.data).toMatchObject({ type: 'email' });
    expect(await call('user/auth/delete_done', { code: 'bad' }, user.token)).toEqual({ state: 404, data: false });
    const code = await lastCode(user.email, 'deletion');
    expect(await call('user/auth/delete_done', { code }, user.token)).toEqual({ state: 200, data: true });
    expect((await socket.next()).event).toBe('session.expired');
    expect(await socket.closed).toBe(4403);
    expect((await call('user/get', {}, user.token)).state).toBe(403);
    expect((await call('user/auth/login', { login: user.email, password: 'secret-1' })).state).toBe(404);
  });
});

describe('products and the rest', () => {
  it('activates and deactivates idempotently; disabled and unknown products answer 404', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const list = await call('user/products/get', {}, user.token);
    expect(list.data.map((p: any) => [p.id, p.state])).toEqual([
      ['dating', 'deactivated'], ['webstat', 'deactivated'], ['legacy-chat', 'disabled'],
    ]);
    expect(Object.keys(list.data[0]).sort()).toEqual(['description', 'icon', 'id', 'info', 'policy', 'state', 'title']);
    expect(await call('user/products/activate', { product_id: 'dating' }, user.token)).toEqual({ state: 200, data: { modules: ['dating'] } });
    expect(await call('user/products/activate', { product_id: 'dating' }, user.token)).toEqual({ state: 200, data: { modules: ['dating'] } });
    expect((await call('user/products/deactivate', { product_id: 'webstat' }, user.token)).data).toEqual({ modules: ['dating'] });
    expect((await call('user/products/activate', { product_id: 'legacy-chat' }, user.token)).state).toBe(404);
    expect((await call('user/products/deactivate', { product_id: 'legacy-chat' }, user.token)).state).toBe(404);
    expect((await call('user/products/activate', { product_id: 'nope' }, user.token)).state).toBe(404);
    expect((await call('user/get', {}, user.token)).data.modules).toEqual(['dating']);
    const off = await call('user/products/deactivate', { product_id: 'dating' }, user.token);
    expect(off.data.modules).toEqual([]);
    expect(off.data.subscription_cancel).toMatch(/^https:\/\//);
  });

  it('answers tracking, archive and block states', async () => {
    const user = await signUp(account.client, { password: 'secret-1' });
    const other = await signUp(account.client, { password: 'secret-1' });
    expect(await call('user/tracking/set', { unrelated: 1 }, user.token)).toEqual({ state: 404, data: false });
    expect((await call('user/tracking/set', { screen: 'wide' }, user.token)).state).toBe(400);
    expect((await call('user/tracking/set', { device_id: 'd1', location: [1, 2, 3], battery_charge: 50 }, user.token)).data).toBe(true);
    expect((await call('user/archive', { password: '12345' }, user.token)).state).toBe(404);
    expect((await call('user/archive', { password: '123456' }, user.token)).state).toBe(200);
    expect((await call('user/block', { id: 'nobody' }, user.token)).state).toBe(404);
    expect((await call('user/block', { id: other.userId, reason: 9 }, user.token)).state).toBe(400);
    expect((await call('user/block', { id: other.userId, reason: 2 }, user.token)).data).toBe(true);
    const users = (await dev('GET', 'users')) as any[];
    const me = users.find((u) => u.id === user.userId);
    expect(me).toMatchObject({ tracking: { device_id: 'd1' }, blocked: { [other.userId]: 2 }, archive_password_set: true });
    expect(JSON.stringify(users)).not.toContain('secret-1');
  });
});
