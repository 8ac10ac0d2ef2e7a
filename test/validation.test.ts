import { describe, expect, it } from 'vitest';
import { useStack } from './support/gateway.js';

/** Bad input is answered with every bad field at once, before any upstream call. */
describe('input validation', () => {
  const t = useStack();

  async function fieldErrors(mutation: string, input: unknown, token?: string) {
    const [field, type] = mutation.split(':') as [string, string];
    await t.stack.account.resetCalls();
    const result = await t.stack.gql(
      `mutation($input: ${type}!) { ${field}(input: $input) { __typename ... on ValidationError { message fieldErrors { path message } } } }`,
      { input },
      { token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data[field].__typename).toBe('ValidationError');
    expect(await t.stack.account.calls()).toEqual({});
    return (result.data[field].fieldErrors as { path: string[] }[]).map((e) => e.path.join('.')).sort();
  }

  it('register: email, phone, names, password all at once', async () => {
    expect(
      await fieldErrors('register:RegisterInput', { email: 'not-an-email', phone: '555-1234', name: '', surname: 'x'.repeat(101), password: 'short' }),
    ).toEqual(['email', 'name', 'password', 'phone', 'surname']);
  });

  it('register: at least one of email and phone', async () => {
    expect(await fieldErrors('register:RegisterInput', { password: 'long enough 1' })).toEqual(['email']);
  });

  it('updateSettings: birthday in the future, bad phone, nothing else', async () => {
    expect(await fieldErrors('updateSettings:UpdateSettingsInput', { birthday: '2999-01-01', phone: '12', email: 'a@b' }, t.user.token)).toEqual([
      'birthday',
      'email',
      'phone',
    ]);
    expect(await fieldErrors('updateSettings:UpdateSettingsInput', {}, t.user.token)).toEqual(['']);
  });

  it('setTracking: latitude/longitude ranges, MAC format, and at least one field', async () => {
    expect(
      await fieldErrors(
        'setTracking:SetTrackingInput',
        { location: { latitude: 91, longitude: -181 }, wifiMac: 'zz', batteryCharge: 101, screen: { width: 0, height: 10 } },
        t.user.token,
      ),
    ).toEqual(['batteryCharge', 'location.latitude', 'location.longitude', 'screen.width', 'wifiMac']);
    expect(await fieldErrors('setTracking:SetTrackingInput', {}, t.user.token)).toEqual(['']);
  });

  it('codes have six digits; resend names what its purpose needs', async () => {
    expect(await fieldErrors('verifyRegistration:VerifyRegistrationInput', { userId: 'u', emailCode: '12ab', phoneCode: '1234567' })).toEqual([
      'emailCode',
      'phoneCode',
    ]);
    expect(await fieldErrors('resendCode:ResendCodeInput', { purpose: 'REGISTRATION', userId: 'u' })).toEqual(['channel']);
    expect(await fieldErrors('requestDataArchive:RequestDataArchiveInput', { password: '12345' }, t.user.token)).toEqual(['password']);
  });

  it('a variable of the wrong GraphQL type is refused before any resolver with BAD_USER_INPUT', async () => {
    const result = await t.stack.gql(
      `mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { __typename } }`,
      { input: { birthday: '17.04.1990' } },
      { token: t.user.token },
    );
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toMatch(/YYYY-MM-DD/);
  });

  it.each(['2021-13-01', '2021-00-10', '2021-02-29', '2021-04-31', '2021-01-00'])('a Date that names no calendar day (%s) is BAD_USER_INPUT saying what a Date is (was: "Invalid time value" from V8)', async (birthday) => {
    const result = await t.stack.gql(
      `mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { __typename } }`,
      { input: { birthday } },
      { token: t.user.token },
    );
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toMatch(/calendar day/);
  });
});

describe('coercion errors', () => {
  const t = useStack();

  it('never echo the value of a variable (a password, a code) in the message', async () => {
    const cases: [string, Record<string, unknown>][] = [
      [`mutation($input: LoginInput!) { login(input: $input) { __typename } }`, { input: { login: 'ann@example.com', password: 'Hunter2-Secret', remember: true } }],
      [`mutation($input: CompletePasswordRecoveryInput!) { completePasswordRecovery(input: $input) { __typename } }`, { input: { recoveryToken: 'recovery-tok-42', code: '918273' } }],
      [`mutation($input: ConfirmAccountDeletionInput!) { confirmAccountDeletion(input: $input) { __typename } }`, { input: { code: 918273 } }],
      [`mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { __typename } }`, { input: { sex: 'SECRET_SEX_VALUE' } }],
    ];
    for (const [query, variables] of cases) {
      const result = await t.stack.gql(query, variables, { token: t.user.token });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      const text = JSON.stringify(result);
      for (const secret of ['Hunter2-Secret', 'recovery-tok-42', '918273', 'SECRET_SEX_VALUE']) expect(text).not.toContain(secret);
      expect(result.errors?.[0]?.message).toMatch(/^Variable "\$input" got an invalid value/);
    }
  });
});

describe('text input', () => {
  const t = useStack();

  it('refuses control characters and broken UTF-16 in names, and says which field', async () => {
    const result = await t.stack.gql(
      `mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { __typename ... on ValidationError { message fieldErrors { path } } } }`,
      { input: { firstName: 'Ann\u0000', lastName: 'Lee\ud800' } },
      { token: t.user.token },
    );
    expect(result.data.updateSettings).toEqual({
      __typename: 'ValidationError',
      message: 'Invalid input: firstName, lastName.',
      fieldErrors: [{ path: ['firstName'] }, { path: ['lastName'] }],
    });
  });

  it('names the rule when it concerns the whole input', async () => {
    const result = await t.stack.gql(`mutation { updateSettings(input: {}) { ... on ValidationError { message } } }`, {}, { token: t.user.token });
    expect(result.data.updateSettings.message).toBe('Change at least one setting.');
  });
});
