import { beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/gateway.js';
import { signUp, uniqueEmail, uniquePhone } from './support/users.js';

/** The Account API's states reached the natural way, through GraphQL flows. */
describe('account flows', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });

  const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on RegisterSuccess { userId codeSentTo } ... on Error { message } } }`;
  const VERIFY = `mutation($input: VerifyRegistrationInput!) { verifyRegistration(input: $input) { __typename
    ... on AuthSuccess { session { token } } ... on VerificationRequired { channels } ... on Error { message } } }`;
  const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { __typename
    ... on AuthSuccess { session { token } user { id } } ... on VerificationRequired { channels } ... on Error { message } } }`;
  const RESEND = `mutation($input: ResendCodeInput!) { resendCode(input: $input) { __typename
    ... on ResendCodeSuccess { retryAfterSeconds } ... on CodeCooldown { retryAfterSeconds } ... on AlreadyVerified { channel } } }`;
  const VIEWER = `{ viewer { id } }`;

  it('registration with email and phone: one channel per call, the session comes with the last', async () => {
    const email = uniqueEmail('both');
    const phone = uniquePhone();
    const password = 'both channels 1';
    const { data } = await stack.gql(REGISTER, { input: { email, phone, password } });
    expect(data.register.codeSentTo).toEqual(['EMAIL', 'PHONE']);
    const { userId } = data.register;

    const early = await stack.gql(LOGIN, { input: { login: email, password } });
    expect(early.data.login).toMatchObject({ __typename: 'VerificationRequired', channels: ['EMAIL', 'PHONE'] });

    const wrong = await stack.gql(VERIFY, { input: { userId, emailCode: '000000' } });
    expect(wrong.data.verifyRegistration).toMatchObject({ __typename: 'VerificationRequired', channels: ['EMAIL'] });

    const phoneOnly = await stack.gql(VERIFY, { input: { userId, phoneCode: await stack.account.code(phone, 'registration') } });
    expect(phoneOnly.data.verifyRegistration).toMatchObject({ __typename: 'VerificationRequired', channels: ['EMAIL'] });

    const loginHalf = await stack.gql(LOGIN, { input: { login: phone, password } });
    expect(loginHalf.data.login).toMatchObject({ __typename: 'VerificationRequired', channels: ['EMAIL'] });

    const done = await stack.gql(VERIFY, { input: { userId, emailCode: await stack.account.code(email, 'registration') } });
    expect(done.data.verifyRegistration.__typename).toBe('AuthSuccess');

    const login = await stack.gql(LOGIN, { input: { login: phone, password } });
    expect(login.data.login).toMatchObject({ __typename: 'AuthSuccess', user: { id: userId } });
  });

  it('resending a code: 90-second cooldown, then a new code; a verified channel needs none', async () => {
    const email = uniqueEmail('resend');
    const { data } = await stack.gql(REGISTER, { input: { email, password: 'resend code 1' } });
    const { userId } = data.register;
    const first = await stack.account.code(email, 'registration');
    const stale = () => stack.gql(VERIFY, { input: { userId, emailCode: first } });

    const tooSoon = await stack.gql(RESEND, { input: { purpose: 'REGISTRATION', userId, channel: 'EMAIL' } });
    expect(tooSoon.data.resendCode).toEqual({ __typename: 'CodeCooldown', retryAfterSeconds: 90 });

    await stack.account.post('clock', { advance_seconds: 91 });
    const sent = await stack.gql(RESEND, { input: { purpose: 'REGISTRATION', userId, channel: 'EMAIL' } });
    expect(sent.data.resendCode).toEqual({ __typename: 'ResendCodeSuccess', retryAfterSeconds: 90 });
    const second = await stack.account.code(email, 'registration');
    if (second !== first) expect((await stale()).data.verifyRegistration.__typename).toBe('VerificationRequired');

    const verified = await stack.gql(VERIFY, { input: { userId, emailCode: second } });
    expect(verified.data.verifyRegistration.__typename).toBe('AuthSuccess');

    const again = await stack.gql(RESEND, { input: { purpose: 'REGISTRATION', userId, channel: 'EMAIL' } });
    expect(again.data.resendCode).toEqual({ __typename: 'AlreadyVerified', channel: 'EMAIL' });
  });

  it('an existing account cannot register again', async () => {
    const user = await signUp(stack);
    const { data } = await stack.gql(REGISTER, { input: { email: user.email, password: 'another one 1' } });
    expect(data.register.__typename).toBe('UserAlreadyExists');
  });

  it('login: wrong password, deactivated account, expired session, logout', async () => {
    const user = await signUp(stack);
    const wrong = await stack.gql(LOGIN, { input: { login: user.email, password: 'not the password' } });
    expect(wrong.data.login.__typename).toBe('InvalidCredentials');

    const second = await stack.gql(LOGIN, { input: { login: user.email, password: user.password } });
    const token2 = second.data.login.session.token;
    const out = await stack.gql(`mutation { logout { __typename ... on LogoutSuccess { loggedOut } } }`, {}, { token: token2 });
    expect(out.data.logout).toEqual({ __typename: 'LogoutSuccess', loggedOut: true });
    const afterLogout = await stack.gql(VIEWER, {}, { token: token2 });
    expect(afterLogout.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await stack.gql(VIEWER, {}, { token: user.token })).data.viewer.id).toBe(user.userId);

    await stack.account.post('expire', { user_id: user.userId });
    const expired = await stack.gql(VIEWER, {}, { token: user.token });
    expect(expired.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    await stack.account.post('deactivate', { user_id: user.userId });
    const deactivated = await stack.gql(LOGIN, { input: { login: user.email, password: user.password } });
    expect(deactivated.data.login.__typename).toBe('UserDeactivated');
  });

  it('password recovery: wrong code, then a new password that ends every other session', async () => {
    const user = await signUp(stack);
    const started = await stack.gql(
      `mutation($input: StartPasswordRecoveryInput!) { startPasswordRecovery(input: $input) { __typename
        ... on StartPasswordRecoverySuccess { recoveryToken codeSentTo } } }`,
      { input: { login: user.email } },
    );
    expect(started.data.startPasswordRecovery).toMatchObject({ __typename: 'StartPasswordRecoverySuccess', codeSentTo: 'EMAIL' });
    const { recoveryToken } = started.data.startPasswordRecovery;
    const COMPLETE = `mutation($input: CompletePasswordRecoveryInput!) { completePasswordRecovery(input: $input) { __typename
      ... on AuthSuccess { session { token } } } }`;

    const wrong = await stack.gql(COMPLETE, { input: { recoveryToken, code: '000000', newPassword: 'brand new pw 1' } });
    expect(wrong.data.completePasswordRecovery.__typename).toBe('InvalidCode');

    const code = await stack.account.code(user.email, 'recovery');
    const done = await stack.gql(COMPLETE, { input: { recoveryToken, code, newPassword: 'brand new pw 1' } });
    expect(done.data.completePasswordRecovery.__typename).toBe('AuthSuccess');
    const fresh = done.data.completePasswordRecovery.session.token;

    expect((await stack.gql(VIEWER, {}, { token: user.token })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await stack.gql(VIEWER, {}, { token: fresh })).data.viewer.id).toBe(user.userId);
    expect((await stack.gql(LOGIN, { input: { login: user.email, password: user.password } })).data.login.__typename).toBe('InvalidCredentials');
    expect((await stack.gql(LOGIN, { input: { login: user.email, password: 'brand new pw 1' } })).data.login.__typename).toBe('AuthSuccess');

    // An unknown login gets the same answer as this one: test/account-limits.test.ts.
  });

  it('products: idempotent activation, a paid product\'s cancel link, disabled and unknown products', async () => {
    const user = await signUp(stack);
    const ACTIVATE = `mutation($id: ID!) { activateProduct(input: { productId: $id }) { __typename ... on ActivateProductSuccess { activeProductIds } } }`;
    const DEACTIVATE = `mutation($id: ID!) { deactivateProduct(input: { productId: $id }) { __typename
      ... on DeactivateProductSuccess { activeProductIds subscriptionCancelUrl product { state } } } }`;
    for (let i = 0; i < 2; i++) {
      const on = await stack.gql(ACTIVATE, { id: 'dating' }, { token: user.token });
      expect(on.data.activateProduct).toEqual({ __typename: 'ActivateProductSuccess', activeProductIds: ['dating'] });
    }
    const off = await stack.gql(DEACTIVATE, { id: 'dating' }, { token: user.token });
    expect(off.data.deactivateProduct).toMatchObject({ __typename: 'DeactivateProductSuccess', activeProductIds: [], product: { state: 'DEACTIVATED' } });
    expect(off.data.deactivateProduct.subscriptionCancelUrl).toMatch(/^https?:\/\//);

    const products = await stack.gql(`{ products { id state infoUrl } }`, {}, { token: user.token });
    const disabled = products.data.products.find((p: { state: string }) => p.state === 'DISABLED');
    expect(disabled).toBeDefined();
    expect((await stack.gql(ACTIVATE, { id: disabled.id }, { token: user.token })).data.activateProduct.__typename).toBe('ProductNotFound');
    expect((await stack.gql(ACTIVATE, { id: 'no-such-product' }, { token: user.token })).data.activateProduct.__typename).toBe('ProductNotFound');
  });

  it('blocking, the data archive and a pending contact change resent', async () => {
    const user = await signUp(stack);
    const other = await signUp(stack);
    const BLOCK = `mutation($input: BlockUserInput!) { blockUser(input: $input) { __typename ... on BlockUserSuccess { userId } } }`;
    expect((await stack.gql(BLOCK, { input: { userId: other.userId } }, { token: user.token })).data.blockUser).toEqual({
      __typename: 'BlockUserSuccess',
      userId: other.userId,
    });
    expect((await stack.gql(BLOCK, { input: { userId: 'nobody', reason: 'SPAM' } }, { token: user.token })).data.blockUser.__typename).toBe('UserNotFound');

    const archive = await stack.gql(`mutation { requestDataArchive(input: { password: "archive-secret" }) { __typename } }`, {}, { token: user.token });
    expect(archive.data.requestDataArchive.__typename).toBe('RequestDataArchiveSuccess');

    const phone = uniquePhone();
    await stack.gql(`mutation($p: String!) { updateSettings(input: { phone: $p }) { __typename } }`, { p: phone }, { token: user.token });
    const soon = await stack.gql(RESEND, { input: { purpose: 'CONTACT_CHANGE' } }, { token: user.token });
    expect(soon.data.resendCode.__typename).toBe('CodeCooldown');
    await stack.account.post('clock', { advance_seconds: 91 });
    const resent = await stack.gql(RESEND, { input: { purpose: 'CONTACT_CHANGE' } }, { token: user.token });
    expect(resent.data.resendCode.__typename).toBe('ResendCodeSuccess');
    const confirmed = await stack.gql(
      `mutation($c: String!) { confirmContactChange(input: { code: $c }) { __typename ... on ConfirmContactChangeSuccess { user { phone phoneVerified } } } }`,
      { c: await stack.account.code(phone, 'contact_change') },
      { token: user.token },
    );
    expect(confirmed.data.confirmContactChange).toEqual({ __typename: 'ConfirmContactChangeSuccess', user: { phone, phoneVerified: true } });
  });

  it('account deletion: wrong code, resend by token, then gone', async () => {
    const user = await signUp(stack);
    const requested = await stack.gql(
      `mutation { requestAccountDeletion { __typename ... on RequestAccountDeletionSuccess { deletionToken codeSentTo } } }`,
      {},
      { token: user.token },
    );
    expect(requested.data.requestAccountDeletion).toMatchObject({ __typename: 'RequestAccountDeletionSuccess', codeSentTo: 'EMAIL' });
    const { deletionToken } = requested.data.requestAccountDeletion;
    const CONFIRM = `mutation($c: String!) { confirmAccountDeletion(input: { code: $c }) { __typename ... on ConfirmAccountDeletionSuccess { deleted } } }`;

    expect((await stack.gql(CONFIRM, { c: '000000' }, { token: user.token })).data.confirmAccountDeletion.__typename).toBe('InvalidCode');
    const soon = await stack.gql(RESEND, { input: { purpose: 'ACCOUNT_DELETION', deletionToken } });
    expect(soon.data.resendCode.__typename).toBe('CodeCooldown');

    const code = await stack.account.code(user.email, 'deletion');
    expect((await stack.gql(CONFIRM, { c: code }, { token: user.token })).data.confirmAccountDeletion).toEqual({
      __typename: 'ConfirmAccountDeletionSuccess',
      deleted: true,
    });
    expect((await stack.gql(VIEWER, {}, { token: user.token })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await stack.gql(LOGIN, { input: { login: user.email, password: user.password } })).data.login.__typename).toBe('InvalidCredentials');
  });

  it('without a session, session-only fields are UNAUTHENTICATED and viewer is null', async () => {
    const result = await stack.gql(`{ viewer { id } }`);
    expect(result).toMatchObject({ data: { viewer: null } });
    expect(result.errors).toBeUndefined();
    const products = await stack.gql(`{ products { id } }`);
    expect(products.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const malformed = await stack.gql(VIEWER, {}, { headers: { authorization: 'Basic abc' } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
