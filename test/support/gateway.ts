import type { ChildProcess } from 'node:child_process';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { beforeAll, expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AccountEmulatorOptions, AccountEmulator } from '../../src/emulator/account/server.js';
import type { DatingSiteEmulation } from '../../src/emulator/dating/sites.js';
import { INBOX_PATH } from '../../src/emulator/account/inbox.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { AccountEmulatorClient, DatingEmulatorClient, startAccountEmulatorForTests, startDatingEmulatorForTests } from './emulators.js';
import { captureLogger, defer, keepLogLines, rememberSecret, rememberSecretsIn } from './harness.js';
import { startNodeProcess } from './node-process.js';
import { signUp, type SignedUpUser } from './users.js';

/**
 * Gateways on free ports, in this process or as processes of their own, and
 * GraphQL over HTTP to them. Everything started is stopped with the
 * harness's leftovers; every secret sent or received is remembered for its
 * leak check.
 */

export interface GraphQLResult<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface GqlOptions {
  token?: string | null;
  headers?: Record<string, string>;
}

/** One GraphQL operation against a gateway: a typed document (schema/operations/), or a query text. */
export interface Gql {
  <TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables, options?: GqlOptions): Promise<GraphQLResult<TResult> & { status: number }>;
  <T = any>(query: string, variables?: Record<string, unknown>, options?: GqlOptions): Promise<GraphQLResult<T> & { status: number }>;
}

/** POSTs one GraphQL operation to `url`; remembers the secrets it carries either way. */
export async function gql<TResult, TVariables>(url: string, document: TypedDocumentNode<TResult, TVariables>, variables: TVariables, options?: GqlOptions): Promise<GraphQLResult<TResult> & { status: number }>;
export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>, options?: GqlOptions): Promise<GraphQLResult<T> & { status: number }>;
export async function gql(url: string, document: string | TypedDocumentNode<unknown, unknown>, variables: unknown = {}, options: GqlOptions = {}) {
  rememberSecretsIn(variables);
  rememberSecret(options.token);
  const query = typeof document === 'string' ? document : print(document);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as GraphQLResult;
  rememberSecretsIn(body.data);
  return { ...body, status: res.status };
}

/** Asserts that a union answer is the member `typename`, narrowing its type. */
export function expectMember<P extends { __typename: string }, T extends P['__typename']>(payload: P | null | undefined, typename: T): asserts payload is Extract<P, { __typename: T }> {
  expect(payload, JSON.stringify(payload)).toMatchObject({ __typename: typename });
}

/** `gql` bound to one gateway's URL. */
export function gqlAt(url: string): Gql {
  return ((document: string, variables?: Record<string, unknown>, options?: GqlOptions) => gql(url, document, variables, options)) as Gql;
}

/**
 * Tests sign up many users from one address, try many codes on one account
 * and move the emulator's clock past its 90 s resend cooldown, which the
 * gateway's own interval cannot follow: those limits are off or high here,
 * and test/auth-attempts.test.ts and test/account-limits.test.ts check the real ones.
 */
const TEST_LIMITS = {
  AUTH_ATTEMPTS_PER_MINUTE: '100000',
  CODE_SEND_INTERVAL_SECONDS: '0',
  CODE_SENDS_PER_DAY: '10000',
  CODE_SENDS_PER_DAY_PER_DESTINATION: '10000',
  CODE_ATTEMPTS_PER_TARGET: '1000',
  PASSWORD_ATTEMPTS_PER_LOGIN: '1000',
};

export interface TestGateway {
  url: string;
  /** The operations server: /metrics, /health, /readiness. */
  opsUrl: string;
  gateway: Gateway;
  /** The environment its config was loaded from, to start more gateways like it. */
  env: Record<string, string>;
  gql: Gql;
  /** Stops it now (it is stopped with the leftovers anyway; stopping twice is harmless). */
  stop(): Promise<void>;
}

/**
 * Starts a gateway in this process on a free loopback port, its config loaded
 * from `env` (which needs ACCOUNT_API_URL), its log lines kept for the leak
 * check with `name` bound as `gateway`. Stopped with the leftovers.
 */
export async function startGateway(env: Record<string, string>, name: string | true = true, options: Pick<GatewayOptions, 'inboxUrl'> = {}): Promise<TestGateway> {
  const gatewayEnv = { PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', ...TEST_LIMITS, ...env };
  const gateway = createGateway(loadConfig(gatewayEnv), { logger: captureLogger({ gateway: name }), ...options });
  const { url, opsUrl } = await gateway.start();
  const stop = () => gateway.stop();
  defer(stop);
  return { url, opsUrl, gateway, env: gatewayEnv, gql: gqlAt(url), stop };
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

/** A gateway in front of emulators of its own. */
export interface Stack extends TestGateway {
  emulator: AccountEmulator;
  account: AccountEmulatorClient;
  /** Present when started with `dating` sites. */
  dating?: DatingEmulatorClient;
}

/** Starts the Account emulator (and a Dating emulator) and a gateway in front, on free ports; `env` overrides the gateway's config. */
export async function startStack(env: Record<string, string> = {}, options: StackOptions = {}): Promise<Stack> {
  const emulator = await startAccountEmulatorForTests(options.emulator);
  const dating = options.dating ? await startDatingEmulatorForTests(options.dating) : undefined;
  const datingEnv: Record<string, string> = {};
  if (dating) {
    const sites = options.datingSites?.(dating.url) ??
      dating.sites.map((s) => ({ id: s.id, name: s.id, baseUrl: `${dating.url}/${s.id}`, apiKey: s.apiKey, affiseAffiliateId: s.affiseAffiliateId }));
    for (const s of [...dating.sites, ...sites]) rememberSecret(s.apiKey);
    datingEnv.DATING_SITES = JSON.stringify(sites);
  }
  // As `npm start` with the embedded emulator: GraphiQL links its inbox.
  const gateway = await startGateway({ ACCOUNT_API_URL: emulator.url, ...datingEnv, ...env }, true, { inboxUrl: `${emulator.url}${INBOX_PATH}` });
  return {
    ...gateway,
    emulator,
    account: new AccountEmulatorClient(emulator.url),
    dating: dating && new DatingEmulatorClient(dating),
  };
}

/**
 * A stack for the whole test file (or describe), with one signed-up user:
 * started before its first test, stopped with the leftovers.
 */
export function useStack(env: Record<string, string> = {}, options: StackOptions = {}): { readonly stack: Stack; readonly user: SignedUpUser } {
  const handle = {} as { stack: Stack; user: SignedUpUser };
  beforeAll(async () => {
    handle.stack = await startStack(env, options);
    handle.user = await signUp(handle.stack);
  });
  return handle;
}

/**
 * A gateway as a separate process (`node --import tsx src/main.ts`, as
 * `npm start` runs it), for what one process cannot show, such as two
 * instances sharing only Redis, or a process surviving an upstream answer.
 */
export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Still running. */
  alive(): boolean;
  /** Everything it wrote so far (its JSON log lines), stdout then stderr. */
  output(): string;
  gql: Gql;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a gateway process against `stack`'s Account emulator (and its Dating
 * emulator's sites when it has them; else the process starts its own on a free
 * port), on a free port, with `env` on top. Resolves once it serves; stopped
 * with the leftovers, its log (stdout) then joins the leak check.
 */
export async function spawnGateway(stack: Stack, env: Record<string, string> = {}, readyMs = 30_000): Promise<GatewayProcess> {
  const upstreams: Record<string, string> = { ACCOUNT_API_URL: stack.emulator.url };
  if (stack.env.DATING_SITES) upstreams.DATING_SITES = stack.env.DATING_SITES;
  else upstreams.EMULATOR_DATING_PORT = '0';
  const app = startNodeProcess('src/main.ts', { PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', EMULATOR_STATE_FILE: 'off', ...upstreams, ...env });
  const output = () => `${app.stdout()}${app.stderr()}`;
  const stop = async (graceMs = 5000) => {
    await app.stop('SIGTERM', graceMs);
  };
  // Its gateway log is stdout (embedded emulators log their outbox to stderr).
  defer(() => keepLogLines(app.stdout()));
  defer(stop);

  let url: string;
  try {
    url = (await app.waitFor(/Graph(?:iQL|QL) ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/, 'stdout', readyMs))[1]!;
  } catch (error) {
    app.child.kill('SIGKILL');
    throw new Error(`gateway process did not serve: ${(error as Error).message.split('\n')[0]}\n${output()}`);
  }

  return {
    url,
    child: app.child,
    exited: app.exited,
    alive: app.alive,
    output,
    gql: gqlAt(url),
    stop,
  };
}
