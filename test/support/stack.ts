import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { INBOX_PATH } from '../../src/emulator/account/inbox.js';
import { startAccountEmulator, type AccountEmulator, type AccountEmulatorOptions } from '../../src/emulator/account/server.js';
import { startDatingEmulator, type DatingEmulator } from '../../src/emulator/dating/server.js';
import type { DatingSiteEmulation } from '../../src/emulator/dating/sites.js';
import type { EmulatedDatingUser } from '../../src/emulator/dating/store.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';

/**
 * Real servers on free ports for the tests: the Account API emulator and a
 * gateway in front of it. Every gateway log line of a test file is kept,
 * and every secret a test handles (passwords and codes it sends, session
 * tokens it receives) is remembered; when the file ends, no line may hold
 * any of them. The emulators' own logs are their simulated SMS and e-mail
 * outbox and are not part of the gateway's logs.
 */

const logLines: string[] = [];
const secrets = new Set<string>();

/** Remembers a secret that must never reach a gateway log line. */
export function rememberSecret(value: string | null | undefined) {
  if (value && value.length >= 6) secrets.add(value);
}

// Registered when a test file imports this module (at collection), so it
// runs after the file's last test whatever the file does.
afterAll(() => {
  for (const secret of secrets) {
    const leaking = logLines.find((line) => line.includes(secret));
    expect(leaking, `a gateway log line holds a secret`).toBeUndefined();
  }
});

/** Every gateway log line of this test file so far (JSON texts). */
export function gatewayLogLines(): readonly string[] {
  return logLines;
}

/** A logger whose lines are kept for the leak check (debug level: everything). */
export function captureLogger(bindings: Record<string, unknown> = {}): Logger {
  return createLogger({ level: 'debug', write: (line) => logLines.push(line), bindings });
}

export const silentLogger = createLogger({ level: 'silent' });

export interface GraphQLResult<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface GqlOptions {
  token?: string | null;
  headers?: Record<string, string>;
}

const SECRET_FIELDS = /^(password|newPassword|code|emailCode|phoneCode|token|recoveryToken|deletionToken|ticket|apiKey)$/;

/** Remembers every secret-looking string (passwords, codes, tokens) inside `value`. */
export function rememberSecretsIn(value: unknown) {
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && SECRET_FIELDS.test(key)) rememberSecret(v);
    else rememberSecretsIn(v);
  }
}

/** POSTs one GraphQL operation; remembers the secrets it carries either way. */
export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, options: GqlOptions = {}): Promise<GraphQLResult<T> & { status: number }> {
  rememberSecretsIn(variables);
  rememberSecret(options.token);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as GraphQLResult<T>;
  rememberSecretsIn(body.data);
  return { ...body, status: res.status };
}

export interface OutboxMessage {
  to: string;
  channel: 'email' | 'phone';
  purpose: 'registration' | 'contact_change' | 'recovery' | 'deletion';
  code: string;
  at: string;
}

export class AccountEmulatorClient {
  constructor(readonly url: string) {}

  async messages(): Promise<OutboxMessage[]> {
    const res = await fetch(`${this.url}/_emulator/messages`);
    return (await res.json()) as OutboxMessage[];
  }

  /** The newest code sent to `to` for `purpose`. */
  async code(to: string, purpose: OutboxMessage['purpose']): Promise<string> {
    const found = (await this.messages()).filter((m) => m.to === to && m.purpose === purpose).at(-1);
    if (!found) throw new Error(`no ${purpose} code was sent to ${to}`);
    rememberSecret(found.code);
    return found.code;
  }

  async post(path: string, body: unknown = {}): Promise<unknown> {
    const res = await fetch(`${this.url}/_emulator/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`/_emulator/${path} answered ${res.status}`);
    return res.status === 204 ? undefined : res.json();
  }

  async calls(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.url}/_emulator/calls`)).json()) as Record<string, number>;
  }

  async resetCalls() {
    await fetch(`${this.url}/_emulator/calls`, { method: 'DELETE' });
  }
}

/** The Dating emulator's dev endpoints (shared/UPSTREAM.md §4). */
export class DatingEmulatorClient {
  constructor(readonly emulator: DatingEmulator) {}

  async users(site?: string): Promise<EmulatedDatingUser[]> {
    const query = site === undefined ? '' : `?site=${encodeURIComponent(site)}`;
    return (await (await fetch(`${this.emulator.url}/_emulator/users${query}`)).json()) as EmulatedDatingUser[];
  }

  /** Requests received per site. */
  async requests(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.emulator.url}/_emulator/requests`)).json()) as Record<string, number>;
  }

  async outage(site: string, status: 500 | 503 | null): Promise<void> {
    const res = await fetch(`${this.emulator.url}/_emulator/outage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ site, status }) });
    if (!res.ok) throw new Error(`/_emulator/outage answered ${res.status}`);
  }

  async reset(): Promise<void> {
    await fetch(`${this.emulator.url}/_emulator/reset`, { method: 'POST' });
  }
}

export interface StackOptions {
  /**
   * Also start a Dating emulator with these sites; `DATING_SITES` points at
   * all of them with their keys (each remembered as a secret), unless
   * `datingSites` builds the gateway's list from the emulator's URL.
   */
  dating?: DatingSiteEmulation[];
  datingSites?: (emulatorUrl: string) => { id: string; name: string; baseUrl: string; apiKey: string; affiseAffiliateId?: string }[];
  /** Options of the Account emulator, e.g. a short `pingIntervalMs`. */
  emulator?: Pick<AccountEmulatorOptions, 'pingIntervalMs' | 'resumeWindowMs'>;
}

export interface Stack {
  url: string;
  gateway: Gateway;
  emulator: AccountEmulator;
  account: AccountEmulatorClient;
  /** Present when started with `dating` sites. */
  dating?: DatingEmulatorClient;
  /** The environment the gateway's config was loaded from, to start more gateways like it. */
  env: Record<string, string>;
  gql: <T = any>(query: string, variables?: Record<string, unknown>, options?: GqlOptions) => ReturnType<typeof gql<T>>;
  /** Another gateway in front of the same emulators, `env` on top of this one's; stopped with the stack. */
  startGateway(env: Record<string, string>, name: string): Promise<{ url: string; gateway: Gateway }>;
  stop(): Promise<void>;
}

/** Starts the Account emulator and a gateway on free ports; `env` overrides the gateway's config. */
export async function startStack(env: Record<string, string> = {}, options: StackOptions = {}): Promise<Stack> {
  const emulator = await startAccountEmulator({ port: 0, logger: silentLogger, ...options.emulator });
  const dating = options.dating ? await startDatingEmulator({ port: 0, sites: options.dating, logger: silentLogger }) : undefined;
  const datingEnv: Record<string, string> = {};
  if (dating) {
    const sites = options.datingSites?.(dating.url) ??
      dating.sites.map((s) => ({ id: s.id, name: s.id, baseUrl: `${dating.url}/${s.id}`, apiKey: s.apiKey, affiseAffiliateId: s.affiseAffiliateId }));
    for (const s of [...dating.sites, ...sites]) rememberSecret(s.apiKey);
    datingEnv.DATING_SITES = JSON.stringify(sites);
  }
  const gatewayEnv = { PORT: '0', HOST: '127.0.0.1', ACCOUNT_API_URL: emulator.url, ...TEST_LIMITS, ...datingEnv, ...env };
  const config = loadConfig(gatewayEnv);
  // As `npm start` with the embedded emulator: GraphiQL links its inbox.
  const gateway = createGateway(config, { logger: captureLogger({ gateway: true }), inboxUrl: `${emulator.url}${INBOX_PATH}` });
  const { url } = await gateway.start();
  const more: Gateway[] = [];
  return {
    url,
    gateway,
    emulator,
    account: new AccountEmulatorClient(emulator.url),
    dating: dating && new DatingEmulatorClient(dating),
    env: gatewayEnv,
    gql: (query, variables, options) => gql(url, query, variables, options),
    startGateway: async (extra, name) => {
      const another = createGateway(loadConfig({ ...gatewayEnv, ...extra }), { logger: captureLogger({ gateway: name }) });
      more.push(another);
      return { gateway: another, url: (await another.start()).url };
    },
    stop: async () => {
      await Promise.all(more.map((g) => g.stop()));
      await gateway.stop();
      await emulator.close();
      await dating?.close();
    },
  };
}

/** Tests sign up many users from one address; test/auth-attempts.test.ts checks the real limit. */
const TEST_LIMITS = { AUTH_ATTEMPTS_PER_MINUTE: '100000' };

let counter = 0;
/** A unique email or phone for this test run. */
export function uniqueEmail(prefix = 'user') {
  return `${prefix}.${process.pid}.${Date.now()}.${++counter}@example.com`;
}
export function uniquePhone() {
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++counter).padStart(4, '0')}`;
}

export interface SignedUpUser {
  userId: string;
  email: string;
  password: string;
  token: string;
}

/** Registers with an email, verifies it and returns the session, all through GraphQL. */
export async function signUp(stack: Stack, overrides: { email?: string; password?: string } = {}): Promise<SignedUpUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? `pw-${Math.random().toString(36).slice(2, 12)}`;
  const registered = await stack.gql(
    `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on RegisterSuccess { userId } } }`,
    { input: { email, password, name: 'Ann', surname: 'Lee', language: 'EN' } },
  );
  const userId = registered.data?.register?.userId;
  if (!userId) throw new Error(`register failed: ${JSON.stringify(registered)}`);
  const code = await stack.account.code(email, 'registration');
  const verified = await stack.gql(
    `mutation($input: VerifyRegistrationInput!) { verifyRegistration(input: $input) { __typename ... on AuthSuccess { session { token } } } }`,
    { input: { userId, emailCode: code } },
  );
  const token = verified.data?.verifyRegistration?.session?.token;
  if (!token) throw new Error(`verify failed: ${JSON.stringify(verified)}`);
  return { userId, email, password, token };
}

/**
 * A stack for the whole test file, with one signed-up user: started before
 * the file's first test and stopped after its last.
 */
export function useStack(env: Record<string, string> = {}, options: StackOptions = {}): { readonly stack: Stack; readonly user: SignedUpUser } {
  const handle = {} as { stack: Stack; user: SignedUpUser };
  beforeAll(async () => {
    handle.stack = await startStack(env, options);
    handle.user = await signUp(handle.stack);
  });
  afterAll(() => handle.stack?.stop());
  return handle;
}
