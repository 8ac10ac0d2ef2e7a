import { describe, expect, it } from 'vitest';
import { useStack } from './support/gateway.js';

/** AUTH_ATTEMPTS_PER_MINUTE: codes and passwords cannot be guessed through the gateway at speed. */
describe('sign-in and code attempts per client address', () => {
  const t = useStack({ AUTH_ATTEMPTS_PER_MINUTE: '3', TRUSTED_PROXIES: '127.0.0.1' });
  const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { __typename } }`;
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

  it('past the limit answers RATE_LIMITED with retryAfterSeconds, before any upstream call, per address', async () => {
    const guess = (password: string, ip: string) => t.stack.gql(LOGIN, { input: { login: t.user.email, password } }, from(ip));
    for (const password of ['guess-1', 'guess-2', 'guess-3']) {
      expect((await guess(password, '203.0.113.7')).data.login.__typename).toBe('InvalidCredentials');
    }
    await t.stack.account.resetCalls();
    const limited = await guess('guess-4', '203.0.113.7');
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    const code = await t.stack.gql(`mutation { confirmAccountDeletion(input: { code: "123456" }) { __typename } }`, {}, { ...from('203.0.113.7'), token: t.user.token });
    expect(code.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await t.stack.account.calls()).toEqual({});

    // Another address, and another /64 in IPv6, has its own count.
    expect((await guess(t.user.password, '198.51.100.9')).data.login.__typename).toBe('AuthSuccess');
    for (let i = 0; i < 3; i++) await guess(`v6-${i}`, '2001:db8:1:2::1');
    expect((await guess('v6-same-64', '2001:db8:1:2::ffff')).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await guess('v6-other-64', '2001:db8:1:3::1')).data.login.__typename).toBe('InvalidCredentials');
  });
});
