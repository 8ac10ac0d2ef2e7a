import { expect } from 'vitest';
import { LoginDocument, RegisterDocument, VerifyRegistrationDocument } from '../../src/client/generated/graphql.js';
import { AccountEmulatorClient } from './emulators.js';
import type { TestGateway } from './gateway.js';
import { rememberSecret } from './harness.js';

/** Unique contacts for this test run, and signed-up users. */

let counter = 0;
/** A unique email for this test run. */
export function uniqueEmail(prefix = 'user') {
  return `${prefix}.${process.pid}.${Date.now()}.${++counter}@example.com`;
}
/** A unique phone number for this test run. */
export function uniquePhone() {
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++counter).padStart(4, '0')}`;
}

export interface SignedUpUser {
  userId: string;
  email: string;
  password: string;
  token: string;
}

/**
 * Registers a user with an email, verifies it with the code from the Account
 * emulator's outbox and answers the session. Through a gateway's GraphQL
 * (`register`, `verifyRegistration`), or, given an emulator client, over the
 * Account API's own wire (for the emulator's tests, with no gateway).
 */
export async function signUp(
  via: Pick<TestGateway, 'gql'> & { account: AccountEmulatorClient } | AccountEmulatorClient,
  overrides: { email?: string; password?: string } = {},
): Promise<SignedUpUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? `pw-${Math.random().toString(36).slice(2, 12)}`;
  if (via instanceof AccountEmulatorClient) return signUpUpstream(via, email, password);
  const registered = await via.gql(RegisterDocument, { input: { email, password, name: 'Ann', surname: 'Lee', language: 'EN' } });
  const register = registered.data?.register;
  if (register?.__typename !== 'RegisterSuccess') throw new Error(`register failed: ${JSON.stringify(registered)}`);
  const code = await via.account.code(email, 'registration');
  const verified = await via.gql(VerifyRegistrationDocument, { input: { userId: register.userId, emailCode: code } });
  const verify = verified.data?.verifyRegistration;
  if (verify?.__typename !== 'AuthSuccess') throw new Error(`verify failed: ${JSON.stringify(verified)}`);
  return { userId: register.userId, email, password, token: verify.session.token };
}

async function signUpUpstream(account: AccountEmulatorClient, email: string, password: string): Promise<SignedUpUser> {
  const reg = await account.call('user/auth/registration', { email, password, name: 'Ann' });
  expect(reg.state).toBe(200);
  const verified = await account.call('user/auth/verify', { user_id: reg.data, email_code: await account.code(email, 'registration') });
  expect(verified.state).toBe(200);
  const token = verified.data.session.token as string;
  rememberSecret(password);
  rememberSecret(token);
  return { userId: reg.data as string, email, password, token };
}

/** Signs `user` in once more through a gateway (`login`): a second session of theirs. Answers its token. */
export async function signIn(via: Pick<TestGateway, 'gql'>, user: Pick<SignedUpUser, 'email' | 'password'>, password = user.password): Promise<string> {
  const res = await via.gql(LoginDocument, { input: { login: user.email, password } });
  const login = res.data?.login;
  if (login?.__typename !== 'AuthSuccess') throw new Error(`login failed: ${JSON.stringify(res)}`);
  return login.session.token;
}
