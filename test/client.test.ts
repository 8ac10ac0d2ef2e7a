import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AccountEventsDocument,
  ActivateProductDocument,
  BlockUserDocument,
  CompletePasswordRecoveryDocument,
  ConfirmAccountDeletionDocument,
  ConfirmContactChangeDocument,
  CreateDatingUserDocument,
  DatingSitesDocument,
  DeactivateProductDocument,
  JoinDatingDocument,
  LoginDocument,
  LogoutDocument,
  ProductsScreenDocument,
  RegisterDocument,
  RequestAccountDeletionDocument,
  RequestDataArchiveDocument,
  ResendCodeDocument,
  SetTrackingDocument,
  SettingsScreenDocument,
  StartPasswordRecoveryDocument,
  UpdateSettingsDocument,
  VerifyRegistrationDocument,
  ViewerDocument,
} from '../src/client/generated/graphql.js';
import { GatewayRequestError } from '../src/client/request-error.js';
import { type Stack, startStack, expectMember } from './support/gateway.js';
import { pushSockets, pushSocketsAbove } from './support/emulators.js';
import { signUp, uniqueEmail, uniquePhone } from './support/users.js';
import { typedClient } from './support/typed-client.js';
import { startBalancer } from './support/balancer.js';
import { waitUntil } from './support/harness.js';
import { freePort } from './support/private-redis.js';

/**
 * The example operations of schema/operations, through the typed client of
 * src/client: the flows a web or mobile app walks. The payload unions are
 * narrowed on `__typename`, so `tsc` fails here when the schema, the
 * operations and the generated documents drift apart.
 */

/** Fails the test unless `payload` is the `typename` member; narrows it. */
describe('typed client and the example operations', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, { dating: [{ id: 'open', apiKey: 'typed-client-site-key', ipWhitelist: ['127.0.0.1', '::1'], perMinuteLimit: 100, paymentLinks: true }] });
  });

  it('walks onboarding, the settings and products screens and logout; the session token is handled by the client', async () => {
    const client = typedClient(stack.url);
    const phone = uniquePhone();
    const email = uniqueEmail('typed');

    const { register } = await client.execute(RegisterDocument, { input: { phone, password: 'correct horse 1', name: 'Ann', language: 'EN' } });
    expectMember(register, 'RegisterSuccess');
    expect(register.codeSentTo).toEqual(['PHONE']);

    const { resendCode } = await client.execute(ResendCodeDocument, { input: { purpose: 'REGISTRATION', userId: register.userId, channel: 'PHONE' } });
    expectMember(resendCode, 'CodeCooldown');
    expect(resendCode.retryAfterSeconds).toBeGreaterThan(0);
    expect(resendCode.message).toBeTruthy();

    const wrong = await client.execute(VerifyRegistrationDocument, { input: { userId: register.userId, phoneCode: '000000' } });
    expectMember(wrong.verifyRegistration, 'VerificationRequired');
    expect(wrong.verifyRegistration.channels).toEqual(['PHONE']);
    expect(client.session.current).toBeNull();

    const phoneCode = await stack.account.code(phone, 'registration');
    const { verifyRegistration } = await client.execute(VerifyRegistrationDocument, { input: { userId: register.userId, phoneCode } });
    expectMember(verifyRegistration, 'AuthSuccess');
    expect(verifyRegistration.user).toMatchObject({ id: register.userId, phone, phoneVerified: true });
    expect(client.session.current).toBe(verifyRegistration.session.token);

    const { updateSettings: emailSet } = await client.execute(UpdateSettingsDocument, { input: { email } });
    expectMember(emailSet, 'UpdateSettingsSuccess');
    expect(emailSet.pendingConfirmation).toEqual(['EMAIL']);

    const code = await stack.account.code(email, 'contact_change');
    const { confirmContactChange } = await client.execute(ConfirmContactChangeDocument, { input: { code } });
    expectMember(confirmContactChange, 'ConfirmContactChangeSuccess');
    expect(confirmContactChange.user).toMatchObject({ email, emailVerified: true });

    const { updateSettings } = await client.execute(UpdateSettingsDocument, {
      input: { birthday: '1990-04-17', sex: 'CISGENDER_WOMAN', consents: { socioDemographic: true } },
    });
    expectMember(updateSettings, 'UpdateSettingsSuccess');
    expect(updateSettings.settings).toMatchObject({ birthday: '1990-04-17', sex: 'CISGENDER_WOMAN', consents: { socioDemographic: true, webActivity: false } });

    const { updateSettings: invalid } = await client.execute(UpdateSettingsDocument, { input: { email: 'not an email' } });
    expectMember(invalid, 'ValidationError');
    expect(invalid.fieldErrors.map((e) => e.path)).toContainEqual(['email']);

    const { setTracking } = await client.execute(SetTrackingDocument, { input: { deviceId: 'device-1', screen: { width: 1170, height: 2532 } } });
    expectMember(setTracking, 'SetTrackingSuccess');

    const { activateProduct } = await client.execute(ActivateProductDocument, { input: { productId: 'dating' } });
    expectMember(activateProduct, 'ActivateProductSuccess');
    expect(activateProduct.product.state).toBe('ACTIVATED');

    const { viewer } = await client.execute(SettingsScreenDocument);
    expect(viewer).toMatchObject({ email, phone, activeProductIds: ['dating'], settings: { email, phone, birthday: '1990-04-17' } });

    const { products } = await client.execute(ProductsScreenDocument);
    expect(products.find((p) => p.id === 'dating')?.state).toBe('ACTIVATED');

    const { deactivateProduct } = await client.execute(DeactivateProductDocument, { input: { productId: 'dating' } });
    expectMember(deactivateProduct, 'DeactivateProductSuccess');
    expect(deactivateProduct.activeProductIds).toEqual([]);

    const { activateProduct: missing } = await client.execute(ActivateProductDocument, { input: { productId: 'no-such-product' } });
    expectMember(missing, 'ProductNotFound');

    const { logout } = await client.execute(LogoutDocument);
    expectMember(logout, 'LogoutSuccess');
    expect(client.session.current).toBeNull();
    expect((await client.execute(ViewerDocument)).viewer).toBeNull();
    const refused = await client.execute(ProductsScreenDocument).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRequestError);
    expect((refused as GatewayRequestError).codes).toEqual(['UNAUTHENTICATED']);
  });

  it('logs in, recovers the password, and deletes the account', async () => {
    const email = uniqueEmail('typed-recovery');
    const client = typedClient(stack.url);
    const { register } = await client.execute(RegisterDocument, { input: { email, password: 'first password 1' } });
    expectMember(register, 'RegisterSuccess');
    const emailCode = await stack.account.code(email, 'registration');
    expectMember((await client.execute(VerifyRegistrationDocument, { input: { userId: register.userId, emailCode } })).verifyRegistration, 'AuthSuccess');
    await client.execute(LogoutDocument);

    const { login: refused } = await client.execute(LoginDocument, { input: { login: email, password: 'not the password' } });
    expectMember(refused, 'InvalidCredentials');
    expect(refused.message).toBeTruthy();

    const { startPasswordRecovery } = await client.execute(StartPasswordRecoveryDocument, { input: { login: email } });
    expectMember(startPasswordRecovery, 'StartPasswordRecoverySuccess');
    const code = await stack.account.code(email, 'recovery');
    const { completePasswordRecovery } = await client.execute(CompletePasswordRecoveryDocument, {
      input: { recoveryToken: startPasswordRecovery.recoveryToken, code, newPassword: 'second password 2' },
    });
    expectMember(completePasswordRecovery, 'AuthSuccess');
    expect(client.session.current).toBe(completePasswordRecovery.session.token);

    await client.execute(LogoutDocument);
    const { login } = await client.execute(LoginDocument, { input: { login: email, password: 'second password 2' } });
    expectMember(login, 'AuthSuccess');
    expect(login.user.email).toBe(email);

    const { requestDataArchive } = await client.execute(RequestDataArchiveDocument, { input: { password: 'archive pw 1' } });
    expectMember(requestDataArchive, 'RequestDataArchiveSuccess');
    const { blockUser } = await client.execute(BlockUserDocument, { input: { userId: 'someone-else', reason: 'SPAM' } });
    expect(['BlockUserSuccess', 'UserNotFound']).toContain(blockUser.__typename);

    const { requestAccountDeletion } = await client.execute(RequestAccountDeletionDocument);
    expectMember(requestAccountDeletion, 'RequestAccountDeletionSuccess');
    expect(requestAccountDeletion.codeSentTo).toBe('EMAIL');
    const deletionCode = await stack.account.code(email, 'deletion');
    const { confirmAccountDeletion } = await client.execute(ConfirmAccountDeletionDocument, { input: { code: deletionCode } });
    expectMember(confirmAccountDeletion, 'ConfirmAccountDeletionSuccess');
    expect(client.session.current).toBeNull();
    const { login: gone } = await client.execute(LoginDocument, { input: { login: email, password: 'second password 2' } });
    expect(gone.__typename).not.toBe('AuthSuccess');
  });

  it('rejects GraphQL errors with their codes, and variables the schema refuses before any upstream call', async () => {
    const client = typedClient(stack.url, { token: 'not-a-session-token' });
    const error = await client.execute(SettingsScreenDocument).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect((error as GatewayRequestError).codes).toEqual(['UNAUTHENTICATED']);
    // @ts-expect-error -- the generated variables type knows the enum
    const bad = await client.execute(ResendCodeDocument, { input: { purpose: 'NOT_A_PURPOSE' } }).catch((e: unknown) => e);
    expect((bad as GatewayRequestError).codes).toEqual(['BAD_USER_INPUT']);
  });

  it('lists the dating sites, creates a dating user and joins dating (a retry with the key replays)', async () => {
    const client = typedClient(stack.url, { token: (await signUp(stack)).token });
    const { datingSites } = await client.execute(DatingSitesDocument);
    expect(datingSites).toEqual([{ __typename: 'DatingSite', id: 'open', name: 'open' }]);

    const email = uniqueEmail('typed-dating');
    const { createDatingUser } = await client.execute(CreateDatingUserDocument, {
      input: { site: 'open', email, gender: 'FEMALE', birthDate: '1990-04-17', password: 'dating-pass-1' },
    });
    expectMember(createDatingUser, 'DatingUserCreated');
    expect(createDatingUser).toMatchObject({ userEmail: email, site: { id: 'open' }, paymentLinks: [{ product: 'premium' }] });
    const { createDatingUser: again } = await client.execute(CreateDatingUserDocument, {
      input: { site: 'open', email, gender: 'FEMALE', birthDate: '1990-04-17', password: 'dating-pass-1' },
    });
    expectMember(again, 'AlreadyRegistered');

    const { updateSettings } = await client.execute(UpdateSettingsDocument, { input: { sex: 'CISGENDER_MAN', birthday: '1988-08-08' } });
    expectMember(updateSettings, 'UpdateSettingsSuccess');
    const input = { site: 'open', password: 'dating-pass-2', idempotencyKey: randomUUID() };
    const { joinDating } = await client.execute(JoinDatingDocument, { input });
    expectMember(joinDating, 'JoinDatingSuccess');
    expect(joinDating).toMatchObject({ productActivated: true, replayed: false, datingUser: { site: { id: 'open' } } });
    const { joinDating: replay } = await client.execute(JoinDatingDocument, { input });
    expectMember(replay, 'JoinDatingSuccess');
    expect(replay.replayed).toBe(true);

    const { joinDating: refused } = await client.execute(JoinDatingDocument, { input: { ...input, idempotencyKey: randomUUID() } });
    expectMember(refused, 'DatingRefused');
    expect(refused.reason.__typename).toBe('AlreadyRegistered');
    expect(refused.productDeactivated).toBe(false);
  });

  it('subscribes to accountEvents over graphql-ws with the session the client holds', async () => {
    const user = await signUp(stack);
    const client = typedClient(stack.url, { token: user.token });
    const events = client.subscribe(AccountEventsDocument);
    try {
      const before = await pushSockets(stack.emulator.url, user.userId);
      const first = events.next();
      await pushSocketsAbove(stack.emulator.url, user.userId, before);
      const { updateSettings } = await client.execute(UpdateSettingsDocument, { input: { firstName: 'Evelyn' } });
      expectMember(updateSettings, 'UpdateSettingsSuccess');
      const { value } = await first;
      if (!value) throw new Error('the subscription ended without an event');
      expectMember(value.accountEvents, 'SettingsUpdated');
      expect(value.accountEvents.settings.firstName).toBe('Evelyn');
    } finally {
      await events.return();
      client.close();
    }
  });

  it('keeps a subscription through refused connections: it reconnects with backoff once the gateway answers', async () => {
    const user = await signUp(stack);
    // Nothing listens behind the balancer yet: every connection is refused.
    const balancer = await startBalancer(`http://127.0.0.1:${await freePort()}/graphql`);
    const client = typedClient(balancer.url, { token: user.token, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
    const events = client.subscribe(AccountEventsDocument);
    try {
      const first = events.next();
      const before = await pushSockets(stack.emulator.url, user.userId);
      await waitUntil(() => balancer.connections >= 3, 'three refused connections');
      balancer.pointAt(stack.url);
      await pushSocketsAbove(stack.emulator.url, user.userId, before);
      const { updateSettings } = await client.execute(UpdateSettingsDocument, { input: { firstName: 'Refused' } });
      expectMember(updateSettings, 'UpdateSettingsSuccess');
      const { value } = await first;
      expectMember(value!.accountEvents, 'SettingsUpdated');
      expect(value!.accountEvents.settings.firstName).toBe('Refused');
    } finally {
      await events.return();
      client.close();
      await balancer.close();
    }
  });

  it('ends a subscription without a session with the socket\'s close as a GatewayRequestError', async () => {
    const client = typedClient(stack.url);
    const error = await client.subscribe(AccountEventsDocument).next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect((error as GatewayRequestError).errors[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', closeCode: 4403 });
    client.close();
  });
});
