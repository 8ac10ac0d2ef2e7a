import { beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/gateway.js';
import { uniqueEmail, uniquePhone } from './support/users.js';

/** The onboarding flow at the end of shared/UPSTREAM.md §1, through GraphQL only. */
describe('onboarding flow', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });

  it('registers by phone, verifies, adds and confirms an email, sets birthday, tracking and dating', async () => {
    const phone = uniquePhone();
    const email = uniqueEmail('onboard');

    const registered = await stack.gql(
      `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on RegisterSuccess { userId codeSentTo } } }`,
      { input: { phone, password: 'correct horse 1', name: 'Ann', language: 'EN' } },
    );
    expect(registered.data.register).toMatchObject({ __typename: 'RegisterSuccess', codeSentTo: ['PHONE'] });
    const { userId } = registered.data.register;

    const phoneCode = await stack.account.code(phone, 'registration');
    const verified = await stack.gql(
      `mutation($input: VerifyRegistrationInput!) { verifyRegistration(input: $input) {
        __typename ... on AuthSuccess { user { id phone phoneVerified } session { token expiresAt } } } }`,
      { input: { userId, phoneCode } },
    );
    expect(verified.data.verifyRegistration).toMatchObject({ __typename: 'AuthSuccess', user: { id: userId, phone, phoneVerified: true } });
    const token: string = verified.data.verifyRegistration.session.token;
    expect(Date.parse(verified.data.verifyRegistration.session.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86400_000);

    const emailSet = await stack.gql(
      `mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) {
        __typename ... on UpdateSettingsSuccess { pendingConfirmation settings { email } } } }`,
      { input: { email } },
      { token },
    );
    expect(emailSet.data.updateSettings).toEqual({ __typename: 'UpdateSettingsSuccess', pendingConfirmation: ['EMAIL'], settings: { email: null } });

    const code = await stack.account.code(email, 'contact_change');
    const confirmed = await stack.gql(
      `mutation($input: ConfirmContactChangeInput!) { confirmContactChange(input: $input) {
        __typename ... on ConfirmContactChangeSuccess { user { email emailVerified } } } }`,
      { input: { code } },
      { token },
    );
    expect(confirmed.data.confirmContactChange).toEqual({ __typename: 'ConfirmContactChangeSuccess', user: { email, emailVerified: true } });

    const birthday = await stack.gql(
      `mutation { updateSettings(input: { birthday: "1990-04-17", sex: CISGENDER_WOMAN, consents: { socioDemographic: true } }) {
        __typename ... on UpdateSettingsSuccess { pendingConfirmation settings { birthday sex consents { socioDemographic webActivity } } } } }`,
      {},
      { token },
    );
    expect(birthday.data.updateSettings).toEqual({
      __typename: 'UpdateSettingsSuccess',
      pendingConfirmation: [],
      settings: { birthday: '1990-04-17', sex: 'CISGENDER_WOMAN', consents: { socioDemographic: true, webActivity: false } },
    });

    const tracking = await stack.gql(
      `mutation($input: SetTrackingInput!) { setTracking(input: $input) { __typename ... on SetTrackingSuccess { saved } } }`,
      { input: { webstatVisitorId: 'v-1', webstatFingerprintId: 'f-1', webstatSessionId: 's-1', webstatApiHandler: 'h-1', location: { latitude: 52.5, longitude: 13.4 }, screen: { width: 1170, height: 2532 } } },
      { token },
    );
    expect(tracking.data.setTracking).toEqual({ __typename: 'SetTrackingSuccess', saved: true });

    const activated = await stack.gql(
      `mutation { activateProduct(input: { productId: "dating" }) {
        __typename ... on ActivateProductSuccess { activeProductIds product { id state } } } }`,
      {},
      { token },
    );
    expect(activated.data.activateProduct).toEqual({ __typename: 'ActivateProductSuccess', activeProductIds: ['dating'], product: { id: 'dating', state: 'ACTIVATED' } });

    const viewer = await stack.gql(
      `{ viewer { id email phone emailVerified phoneVerified activeProductIds
          settings { email phone birthday sex }
          products { id state } } }`,
      {},
      { token },
    );
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.viewer).toMatchObject({
      id: userId,
      email,
      phone,
      emailVerified: true,
      phoneVerified: true,
      activeProductIds: ['dating'],
      settings: { email, phone, birthday: '1990-04-17', sex: 'CISGENDER_WOMAN' },
    });
    expect(viewer.data.viewer.products).toContainEqual({ id: 'dating', state: 'ACTIVATED' });
    expect(viewer.data.viewer.products).toContainEqual({ id: 'webstat', state: 'DEACTIVATED' });
  });
});
