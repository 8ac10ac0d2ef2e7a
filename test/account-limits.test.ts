import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { MemoryRateLimiter } from '../src/infra/rate-limit.js';
import { MemoryRecoveryStore } from '../src/infra/recovery-store.js';
import { redisForTests } from './support/redis.js';
import { gql, startGateway, startStack, type Stack, useStack } from './support/gateway.js';
import { gatewayLogLines, waitUntil } from './support/harness.js';
import { signUp, uniqueEmail, uniquePhone } from './support/users.js';

/**
 * Per-account limits (issue 9): wrong codes per user or login and wrong
 * passwords per login from any address, codes sent per destination and
 * purpose, password recovery that answers alike for every login, text
 * without invisible characters; shared through Redis, and failing closed
 * while Redis fails.
 */

/** The default per-account limits (test/support/stack.ts lifts them for the other files), from "addresses" behind a trusted proxy. */
const REAL_LIMITS = {
  CODE_SEND_INTERVAL_SECONDS: '90',
  CODE_SENDS_PER_DAY: '10',
  CODE_ATTEMPTS_PER_TARGET: '5',
  PASSWORD_ATTEMPTS_PER_LOGIN: '10',
  TRUSTED_PROXIES: '127.0.0.1',
};
const from = (n: number) => ({ headers: { 'x-forwarded-for': `203.0.113.${n}` } });

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on RegisterSuccess { userId } ... on ValidationError { fieldErrors { path message } } } }`;
const VERIFY = `mutation($input: VerifyRegistrationInput!) { verifyRegistration(input: $input) { __typename } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { __typename } }`;
const START = `mutation($login: String!) { startPasswordRecovery(input: { login: $login }) { __typename
  ... on StartPasswordRecoverySuccess { recoveryToken codeSentTo } ... on ValidationError { fieldErrors { path } } } }`;
const COMPLETE = `mutation($input: CompletePasswordRecoveryInput!) { completePasswordRecovery(input: $input) { __typename ... on AuthSuccess { user { id } } } }`;
const RESEND = `mutation($input: ResendCodeInput!) { resendCode(input: $input) { __typename ... on CodeCooldown { retryAfterSeconds } } }`;

const rateLimited = (result: { errors?: { extensions?: Record<string, any> }[] }) =>
  result.errors?.[0]?.extensions?.code === 'RATE_LIMITED' && result.errors[0]!.extensions!.retryAfterSeconds > 0;

async function register(stack: Stack, input: Record<string, unknown> = {}) {
  const email = uniqueEmail('limits');
  const res = await stack.gql(REGISTER, { input: { email, password: 'limits pw 1', ...input } });
  return { email, userId: res.data.register.userId as string };
}

describe('per-account limits', () => {
  const t = useStack(REAL_LIMITS);

  it('wrong codes for one user, spread over five addresses: five reach the Account API, then RATE_LIMITED', async () => {
    const { email, userId } = await register(t.stack);
    await t.stack.account.resetCalls();
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await t.stack.gql(VERIFY, { input: { userId, emailCode: '000000' } }, from(i % 5)));
    expect(answers.slice(0, 5).map((a) => a.data?.verifyRegistration.__typename)).toEqual(Array(5).fill('VerificationRequired'));
    expect(answers.slice(5).every(rateLimited)).toBe(true);
    expect((await t.stack.account.calls())['user/auth/verify']).toBe(5);
    // Even the right code waits now: the account, not the address, is locked for the window.
    expect(rateLimited(await t.stack.gql(VERIFY, { input: { userId, emailCode: await t.stack.account.code(email, 'registration') } }, from(9)))).toBe(true);
  });

  it('wrong passwords for one login over five addresses: ten reach the Account API, then RATE_LIMITED', async () => {
    const user = await signUp(t.stack);
    await t.stack.account.resetCalls();
    const answers = [];
    for (let i = 0; i < 14; i++) answers.push(await t.stack.gql(LOGIN, { input: { login: i % 2 ? user.email.toUpperCase() : user.email, password: `wrong-${i}` } }, from(i % 5)));
    expect(answers.slice(0, 10).map((a) => a.data?.login.__typename)).toEqual(Array(10).fill('InvalidCredentials'));
    expect(answers.slice(10).every(rateLimited)).toBe(true);
    expect((await t.stack.account.calls())['user/auth/login']).toBe(10);
  });

  it('a right password starts the count again', async () => {
    const user = await signUp(t.stack);
    for (let i = 0; i < 9; i++) await t.stack.gql(LOGIN, { input: { login: user.email, password: `wrong-${i}` } });
    expect((await t.stack.gql(LOGIN, { input: { login: user.email, password: user.password } })).data.login.__typename).toBe('AuthSuccess');
    for (let i = 0; i < 9; i++) {
      expect((await t.stack.gql(LOGIN, { input: { login: user.email, password: `again-${i}` } })).data.login.__typename).toBe('InvalidCredentials');
    }
  });

  it('15 startPasswordRecovery for one phone at once send one code; the rest are RATE_LIMITED before any upstream call', async () => {
    const phone = uniquePhone();
    const { data } = await t.stack.gql(REGISTER, { input: { phone, password: 'limits pw 1' } });
    expect(data.register.__typename).toBe('RegisterSuccess');
    await t.stack.account.resetCalls();
    const answers = await Promise.all(Array.from({ length: 15 }, () => t.stack.gql(START, { login: phone })));
    expect(answers.filter((a) => a.data?.startPasswordRecovery.__typename === 'StartPasswordRecoverySuccess')).toHaveLength(1);
    expect(answers.filter(rateLimited)).toHaveLength(14);
    await waitUntil(async () => (await t.stack.account.calls())['user/auth/recovery'] === 1, 'one recovery call upstream');
    await waitUntil(async () => (await t.stack.account.messages()).filter((m) => m.to === phone && m.purpose === 'recovery').length === 1, 'one recovery code to the phone');
  });

  it('startPasswordRecovery answers alike for an existing and an unknown login, and completes only for the existing one', async () => {
    const user = await signUp(t.stack);
    const unknown = uniqueEmail('nobody');
    const [known, stranger] = [await t.stack.gql(START, { login: user.email }), await t.stack.gql(START, { login: unknown })];
    const shape = (r: typeof known) => ({ ...r.data.startPasswordRecovery, recoveryToken: /^[A-Za-z0-9_-]{43}$/.test(r.data.startPasswordRecovery.recoveryToken) });
    expect(shape(known)).toEqual({ __typename: 'StartPasswordRecoverySuccess', recoveryToken: true, codeSentTo: 'EMAIL' });
    expect(shape(stranger)).toEqual(shape(known));
    expect(Object.keys(stranger)).toEqual(Object.keys(known));

    // Resending is alike too: both wait out the interval.
    const resends = await Promise.all([known, stranger].map((r) => t.stack.gql(RESEND, { input: { purpose: 'PASSWORD_RECOVERY', recoveryToken: r.data.startPasswordRecovery.recoveryToken } })));
    expect(resends.map((r) => r.data.resendCode.__typename)).toEqual(['CodeCooldown', 'CodeCooldown']);

    await t.stack.account.resetCalls();
    const code = await t.stack.account.code(user.email, 'recovery');
    const strangerDone = await t.stack.gql(COMPLETE, { input: { recoveryToken: stranger.data.startPasswordRecovery.recoveryToken, code, newPassword: 'new password 1' } });
    expect(strangerDone.data.completePasswordRecovery.__typename).toBe('InvalidCode');
    // Like a wrong code for a real login, it took an Account API round trip.
    expect((await t.stack.account.calls())['user/auth/recovery_done']).toBe(1);

    const done = await t.stack.gql(COMPLETE, { input: { recoveryToken: known.data.startPasswordRecovery.recoveryToken, code, newPassword: 'new password 1' } });
    expect(done.data.completePasswordRecovery).toEqual({ __typename: 'AuthSuccess', user: { id: user.userId } });
    const again = await t.stack.gql(COMPLETE, { input: { recoveryToken: known.data.startPasswordRecovery.recoveryToken, code, newPassword: 'new password 2' } });
    expect(again.data.completePasswordRecovery.__typename).toBe('InvalidCode');
  });

  it('startPasswordRecovery answers before the Account API does: the answer cannot depend on it', async () => {
    const user = await signUp(t.stack);
    await t.stack.account.post('fault', { path: 'user/auth/recovery', kind: 'delay', ms: 1500 });
    const started = await t.stack.gql(START, { login: user.email });
    expect(started.data.startPasswordRecovery.__typename).toBe('StartPasswordRecoverySuccess');
    // Answered while the upstream call was still held: no code yet.
    expect((await t.stack.account.messages()).filter((m) => m.to === user.email && m.purpose === 'recovery')).toEqual([]);
    // completePasswordRecovery waits for that call and then works.
    const pending = t.stack.gql(COMPLETE, { input: { recoveryToken: started.data.startPasswordRecovery.recoveryToken, code: '000000', newPassword: 'new password 1' } });
    expect((await pending).data.completePasswordRecovery.__typename).toBe('InvalidCode');
    const code = await t.stack.account.code(user.email, 'recovery');
    const done = await t.stack.gql(COMPLETE, { input: { recoveryToken: started.data.startPasswordRecovery.recoveryToken, code, newPassword: 'new password 1' } });
    expect(done.data.completePasswordRecovery.__typename).toBe('AuthSuccess');
  });

  it('startPasswordRecovery refuses what is neither an email nor a phone, and an unknown recoveryToken', async () => {
    await t.stack.account.resetCalls();
    expect((await t.stack.gql(START, { login: 'not-a-login' })).data.startPasswordRecovery).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['login'] }] });
    const bogus = await t.stack.gql(COMPLETE, { input: { recoveryToken: 'x'.repeat(43), code: '123456', newPassword: 'new password 1' } });
    expect(bogus.data.completePasswordRecovery.__typename).toBe('InvalidCode');
    expect(await t.stack.account.calls()).toEqual({});
  });

  it('codes per destination and purpose: a resend right after registration, a second deletion code, a second contact change', async () => {
    const { userId } = await register(t.stack);
    await t.stack.account.resetCalls();
    const resend = await t.stack.gql(RESEND, { input: { purpose: 'REGISTRATION', userId, channel: 'EMAIL' } }, from(1));
    expect(resend.data.resendCode).toMatchObject({ __typename: 'CodeCooldown', retryAfterSeconds: expect.any(Number) });
    expect(resend.data.resendCode.retryAfterSeconds).toBeGreaterThan(80);

    const user = await signUp(t.stack);
    await t.stack.account.resetCalls();
    const DELETE = `mutation { requestAccountDeletion { __typename } }`;
    expect((await t.stack.gql(DELETE, {}, { token: user.token })).data.requestAccountDeletion.__typename).toBe('RequestAccountDeletionSuccess');
    expect(rateLimited(await t.stack.gql(DELETE, {}, { token: user.token, ...from(2) }))).toBe(true);

    const CHANGE = `mutation($e: String!) { updateSettings(input: { email: $e }) { __typename } }`;
    expect((await t.stack.gql(CHANGE, { e: uniqueEmail('new') }, { token: user.token })).data.updateSettings.__typename).toBe('UpdateSettingsSuccess');
    expect(rateLimited(await t.stack.gql(CHANGE, { e: uniqueEmail('other') }, { token: user.token }))).toBe(true);
    // The same email again sends nothing, so it is not counted.
    const calls = await t.stack.account.calls();
    expect(calls['user/auth/delete']).toBe(1);
    expect(calls['user/settings/set']).toBe(1);
  });

  it('names and free text refuse bidi controls and zero-width characters, before any upstream call', async () => {
    const user = await signUp(t.stack);
    await t.stack.account.resetCalls();
    for (const name of ['Ann\u202Egnp.exe', 'A\u200Bnn', 'Ann\u2066', 'An\uFEFFn', 'An\u200Dn']) {
      const res = await t.stack.gql(REGISTER, { input: { email: uniqueEmail('bidi'), password: 'limits pw 1', name } });
      expect(res.data.register, JSON.stringify(name)).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['name'], message: 'Must not contain invisible or text-direction characters.' }] });
      const settings = await t.stack.gql(`mutation($n: String!) { updateSettings(input: { firstName: $n }) { __typename } }`, { n: name }, { token: user.token });
      expect(settings.data.updateSettings.__typename).toBe('ValidationError');
    }
    expect(await t.stack.account.calls()).toEqual({});
    // Other scripts and accents stay welcome.
    expect((await t.stack.gql(REGISTER, { input: { email: uniqueEmail('intl'), password: 'limits pw 1', name: 'Zoë Ōtsuka-Ďurišová' } })).data.register.__typename).toBe('RegisterSuccess');
  });
});

describe('the daily cap of codes', () => {
  const t = useStack({ ...REAL_LIMITS, CODE_SEND_INTERVAL_SECONDS: '1', CODE_SENDS_PER_DAY: '2', CODE_SENDS_PER_DAY_PER_DESTINATION: '3' });

  /** startPasswordRecovery for `login` from `address` until the daily cap refuses: the codes sent, and the refusal. */
  async function sendUntilDailyCap(login: string, address: number, atMost = 10) {
    let sent = 0;
    let refusal: { extensions?: Record<string, any> } | undefined;
    // The 1 s interval refuses in between (a short retryAfterSeconds); the daily cap answers with the rest of the day.
    const deadline = Date.now() + 20_000;
    while (!refusal && sent < atMost && Date.now() < deadline) {
      const res = await t.stack.gql(START, { login }, from(address));
      if (res.data?.startPasswordRecovery) sent++;
      else if (res.errors?.[0]?.extensions?.retryAfterSeconds > 3600) refusal = res.errors?.[0];
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { sent, refusal };
  }

  it('past CODE_SENDS_PER_DAY one address gets no code for the day, while the owner\'s address still does, up to CODE_SENDS_PER_DAY_PER_DESTINATION', async () => {
    const user = await signUp(t.stack);
    const attacker = await sendUntilDailyCap(user.email, 66);
    expect(attacker.sent).toBe(2);
    expect(attacker.refusal?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(attacker.refusal!.extensions!.retryAfterSeconds).toBeGreaterThan(80_000);

    // The owner, from another address, is not locked out: a code arrives.
    const owner = await sendUntilDailyCap(user.email, 77, 1);
    expect(owner).toEqual({ sent: 1, refusal: undefined });
    await waitUntil(async () => (await t.stack.account.messages()).filter((m) => m.to === user.email && m.purpose === 'recovery').length === 3, 'three recovery codes to the email');

    // All addresses together: no more than the destination's ceiling (3) a day.
    const third = await sendUntilDailyCap(user.email, 88);
    expect(third.sent).toBe(0);
    expect(third.refusal!.extensions!.retryAfterSeconds).toBeGreaterThan(80_000);
  });
});

const unavailable = (result: { errors?: { extensions?: Record<string, any> }[] }) =>
  result.errors?.[0]?.extensions?.code === 'LIMITS_UNAVAILABLE' && result.errors[0]!.extensions!.retryAfterSeconds > 0;
const FULL_AT_TEN = { ...REAL_LIMITS, CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_DAY: '1000', CODE_SENDS_PER_DAY_PER_DESTINATION: '1000', MEMORY_LIMITS_MAX_KEYS: '10' };

describe('code attempts in memory when full (MEMORY_LIMITS_MAX_KEYS)', () => {
  const t = useStack(FULL_AT_TEN);

  it('a flood of other targets is refused instead of resetting a victim\'s count of wrong codes', async () => {
    const { userId } = await register(t.stack);
    const victim = [];
    for (let i = 0; i < 6; i++) victim.push(await t.stack.gql(VERIFY, { input: { userId, emailCode: '000000' } }, from(i)));
    expect(rateLimited(victim[5]!)).toBe(true);
    // Nine more users fill the ten counts; from the tenth on, new targets wait for the oldest window (15 minutes).
    const flood = [];
    for (let i = 0; i < 15; i++) flood.push(await t.stack.gql(VERIFY, { input: { userId: `${userId}-other-${i}`, emailCode: '000000' } }, from(10 + i)));
    expect(flood.slice(0, 9).some(unavailable)).toBe(false);
    expect(flood.slice(9).every(unavailable)).toBe(true);
    expect(flood[9]!.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(800);
    await t.stack.account.resetCalls();
    // The victim's count is still there: no fresh guesses.
    expect(rateLimited(await t.stack.gql(VERIFY, { input: { userId, emailCode: '000000' } }, from(30)))).toBe(true);
    expect(await t.stack.account.calls()).toEqual({});
  });

});

describe('password recoveries in memory when full (MEMORY_LIMITS_MAX_KEYS)', () => {
  const t = useStack(FULL_AT_TEN);

  it('a flood of recoveries is refused instead of pushing out a pending one', async () => {
    const user = await signUp(t.stack);
    const started = await t.stack.gql(START, { login: user.email });
    expect(started.data.startPasswordRecovery.__typename).toBe('StartPasswordRecoverySuccess');
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await t.stack.gql(START, { login: 'flood@example.com' }, from(40 + i)));
    expect(answers.filter((a) => a.data?.startPasswordRecovery?.__typename === 'StartPasswordRecoverySuccess').length).toBeLessThan(10);
    expect(unavailable(answers.at(-1)!)).toBe(true);
    const code = await waitForCode(t.stack, user.email);
    const done = await t.stack.gql(COMPLETE, { input: { recoveryToken: started.data.startPasswordRecovery.recoveryToken, code, newPassword: 'new password 1' } });
    expect(done.data.completePasswordRecovery).toEqual({ __typename: 'AuthSuccess', user: { id: user.userId } });
  });
});

describe('the in-memory stores when full', () => {
  // Their clock is faked: a busy machine's pause cannot expire a window early.
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a limit that fails closed refuses a new key until the oldest window ends, then reclaims the expired ones', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const limiter = new MemoryRateLimiter({ limit: 1, windowSeconds: 60, maxKeys: 2, whenFull: 'refuse' });
    expect(await limiter.take('x')).toBe(0);
    vi.setSystemTime(Date.now() + 10_000);
    expect(await limiter.take('y')).toBe(0);
    await expect(limiter.take('z')).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: 50 });
    expect(await limiter.take('x')).toBe(50); // still counted
    vi.setSystemTime(Date.now() + 50_000); // x's window ends
    expect(await limiter.take('z')).toBe(0);
    expect(await limiter.take('y')).toBe(10);
    await expect(limiter.take('x')).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: 10 }); // full again: y and z are live
  });

  it('the recovery store refuses a new flow rather than drop a pending one, and updates known ones', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryRecoveryStore(2);
    await store.set('a', { login: 'a@example.com', state: 'pending' }, 60);
    await store.set('b', { login: 'b@example.com', state: 'pending' }, 60);
    await expect(store.set('c', { login: 'c@example.com', state: 'pending' }, 60)).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: 60 });
    await store.set('a', { login: 'a@example.com', state: 'sent', upstreamToken: 't' }, 60);
    expect(await store.get('a')).toMatchObject({ state: 'sent' });
    vi.setSystemTime(Date.now() + 61_000);
    await store.set('c', { login: 'c@example.com', state: 'pending' }, 60);
    expect(await store.get('c')).toMatchObject({ state: 'pending' });
  });
});

const redisForFile = await redisForTests('account-limits');

describe.skipIf(redisForFile.skip)('per-account limits through Redis', () => {
  let stack: Stack;
  const prefix = redisForFile.keyPrefix('limits');
  beforeAll(async () => {
    redisForFile.require();
    stack = await startStack({ ...REAL_LIMITS, REDIS_URL: redisForFile.url, REDIS_KEY_PREFIX: prefix });
  });
  afterAll(() => stack?.stop());

  it('wrong codes spread over two gateway instances count together', async () => {
    const other = await startGateway(stack.env, 'second');
    const { userId } = await register(stack);
    await stack.account.resetCalls();
    const urls = [stack.url, other.url];
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await gql(urls[i % 2]!, VERIFY, { input: { userId, emailCode: '000000' } }, from(i)));
    expect(answers.filter(rateLimited)).toHaveLength(5);
    expect((await stack.account.calls())['user/auth/verify']).toBe(5);
  });

  it('Redis holds the recovery flow sealed: neither the login nor the upstream token in clear', async () => {
    const user = await signUp(stack);
    const upstreamToken = `upstream-recovery-token-${process.pid}-${Date.now()}`;
    await stack.account.post('force', { path: 'user/auth/recovery', state: 200, data: { token: upstreamToken, type: 'email' } });
    const started = await stack.gql(START, { login: user.email });
    const recoveryToken: string = started.data.startPasswordRecovery.recoveryToken;
    // resendCode waits for the upstream answer to be stored (then the 90 s interval answers).
    const resent = await stack.gql(RESEND, { input: { purpose: 'PASSWORD_RECOVERY', recoveryToken } });
    expect(resent.data.resendCode.__typename).toBe('CodeCooldown');
    const redis = new Redis(redisForFile.url);
    try {
      const key = `${prefix}recovery:${createHash('sha256').update(recoveryToken).digest('base64url')}`;
      const raw = (await redis.get(key))!;
      expect(raw).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      for (const secret of [user.email, upstreamToken, recoveryToken, 'upstreamToken', 'login']) expect(raw).not.toContain(secret);
      const keys = await redis.keys(`${prefix}*`);
      const values = await Promise.all(keys.map(async (k) => ((await redis.type(k)) === 'string' ? redis.get(k) : '')));
      for (const text of [...keys, ...values]) {
        expect(text).not.toContain(user.email);
        expect(text).not.toContain(upstreamToken);
      }
    } finally {
      await redis.quit();
    }
  });

  it('password recovery started on one instance completes on the other', async () => {
    const other = await startGateway(stack.env, 'third');
    const user = await signUp(stack);
    const started = await stack.gql(START, { login: user.email });
    const code = await waitForCode(stack, user.email);
    const done = await gql(other.url, COMPLETE, { input: { recoveryToken: started.data.startPasswordRecovery.recoveryToken, code, newPassword: 'new password 1' } });
    expect(done.data?.completePasswordRecovery.__typename).toBe('AuthSuccess');
  });
});

describe('Redis outage', () => {
  let stack: Stack;
  let redis: FlakyRedis;
  beforeAll(async () => {
    redis = await flakyRedis(redisForFile.skip ? null : redisForFile.url);
    stack = await startStack({ ...REAL_LIMITS, REDIS_URL: redis.url, REDIS_KEY_PREFIX: redisForFile.keyPrefix('outage') });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.close();
  });

  it('code and password attempts fail closed with LIMITS_UNAVAILABLE, general limits fail open, and the outage is logged once', async () => {
    redis.down();
    await stack.account.resetCalls();
    const user = { email: uniqueEmail('outage') };
    // General limits (attempts per address) fail open: register runs.
    const registered = await stack.gql(REGISTER, { input: { email: user.email, password: 'outage pw 1' } });
    expect(registered.data.register.__typename).toBe('RegisterSuccess');
    for (let i = 0; i < 3; i++) {
      for (const res of [
        await stack.gql(LOGIN, { input: { login: user.email, password: 'outage pw 1' } }),
        await stack.gql(VERIFY, { input: { userId: registered.data.register.userId, emailCode: '000000' } }),
        await stack.gql(START, { login: user.email }),
      ]) {
        expect(res.errors?.[0]?.extensions).toEqual({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: 5, requestId: expect.any(String) });
      }
    }
    expect(await stack.account.calls()).toEqual({ 'user/auth/registration': 1 });
    const outages = () => gatewayLogLines().filter((l) => l.includes('"redis unavailable"') && l.includes('"connection":"gateway"'));
    expect(outages()).toHaveLength(1);

    if (!redis.canRecover) return;
    redis.up();
    await waitUntil(async () => (await stack.gql(LOGIN, { input: { login: user.email, password: 'outage pw 1' } })).data?.login !== undefined, 'a login answered again');

    // A Redis that takes commands but never answers: each fails after REDIS_COMMAND_TIMEOUT_MS (500 ms).
    redis.stall();
    const stalled = await stack.gql(LOGIN, { input: { login: user.email, password: 'outage pw 1' } });
    expect(stalled.errors?.[0]?.extensions).toEqual({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: 5, requestId: expect.any(String) });
    redis.up();
    await waitUntil(async () => (await stack.gql(LOGIN, { input: { login: user.email, password: 'outage pw 1' } })).data?.login !== undefined, 'a login answered again');
    const recoveries = () => gatewayLogLines().filter((l) => l.includes('"redis available again"') && l.includes('"connection":"gateway"'));
    // Down, up, stalled, up: two outages, each logged once, and two recoveries.
    expect(outages()).toHaveLength(2);
    expect(recoveries()).toHaveLength(2);
  });
});

/**
 * A TCP proxy in front of the tests' Redis that can be taken down (every
 * connection dropped, new ones refused) and brought back; without a Redis,
 * a closed port that stays down.
 */
interface FlakyRedis {
  url: string;
  canRecover: boolean;
  down(): void;
  /** Connections stay open but nothing passes until `up()` (a stalled link: TCP delays, it does not lose). */
  stall(): void;
  up(): void;
  close(): Promise<void>;
}

async function flakyRedis(targetUrl: string | null): Promise<FlakyRedis> {
  const target = targetUrl ? new URL(targetUrl) : null;
  let open = target !== null;
  let stalled = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open || !target) return client.destroy();
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
    if (stalled) for (const s of [client, upstream]) s.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    canRecover: target !== null,
    down: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    stall: () => {
      stalled = true;
      for (const s of sockets) s.pause();
    },
    up: () => {
      open = target !== null;
      stalled = false;
      for (const s of sockets) s.resume();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function waitForCode(stack: Stack, to: string): Promise<string> {
  await waitUntil(async () => (await stack.account.messages()).some((m) => m.to === to && m.purpose === 'recovery'), `a recovery code to ${to}`);
  return stack.account.code(to, 'recovery');
}
