import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { api, envelope } from '../upstream/account/client.js';
import { send } from './http.js';
import { type CheckResult, fails, holds, skipped, verdictOf } from './report.js';

/**
 * The Account API contract probe (`npm run contract -- --account-url URL`):
 * calls a real Account API, or the bundled emulator in `npm test`, and
 * checks the (chosen) assumptions of shared/UPSTREAM.md §1 and §3 that the
 * gateway's client relies on. Paths, session flags, the `data` parsers and
 * the state tables come from the client's own table (src/upstream/account/client.ts,
 * whose comment names which check covers which row), so the probe and the
 * client cannot drift apart.
 *
 * What it sends:
 * - always: calls without a session to session paths, calls with missing
 *   fields, and logins, recoveries and verifications of users that do not
 *   exist. A contract-following API changes nothing for any of them.
 * - with `login` and `password`: a login (a new session of that account, ended
 *   by `user/auth/logout` at the end), the read calls (`user/get`,
 *   `user/settings/get`, `user/products/get`, `user/auth/websocket`) and one
 *   login with a wrong password.
 * - only with `allowWrites`: calls to endpoints that write, each one the API
 *   must refuse or that leaves the data as it was (the settings it read are
 *   sent back, an active product is activated again). Against an API that
 *   does not follow the contract these may change data, hence the flag.
 */

export interface AccountProbeOptions {
  /** Base URL, as `ACCOUNT_API_URL`. */
  url: string;
  /** A test account's login and password: enables the checks that need a session. */
  login?: string;
  password?: string;
  allowWrites?: boolean;
  /** Limit of one call. Default 10000 ms. */
  timeoutMs?: number;
}

interface Answer {
  path: string;
  /** HTTP status, or null when the call failed before one. */
  http: number | null;
  state: number | null;
  data: unknown;
  /** Why this is no envelope answer, if it is not. */
  problem: string | null;
}

const probeId = () => `contract-probe-${randomUUID()}`;
/** A login that exists nowhere: the domain is reserved (RFC 2606). */
const unknownLogin = () => `${probeId()}@example.invalid`;

/** Every distinct path of the table, and whether all its rows need a session. */
function pathsOfTable(): Map<string, boolean> {
  const paths = new Map<string, boolean>();
  for (const endpoint of Object.values(api)) {
    paths.set(endpoint.path, (paths.get(endpoint.path) ?? true) && endpoint.session);
  }
  return paths;
}

/** The outcome the client's table makes of a state, for the report. */
function outcomeName(row: { states: Record<number, () => unknown> }, state: number): string {
  const make = row.states[state];
  if (!make) return state === 403 ? 'Unauthenticated' : state === 400 ? 'BadUserInput' : 'off contract';
  try {
    return (make() as { constructor: { name: string } }).constructor.name;
  } catch (error) {
    return (error as Error).constructor.name;
  }
}

/** Why `data` does not fit the parser: the paths of its issues, never the values. */
function shapeProblems(parser: z.ZodType, data: unknown): string[] {
  const parsed = parser.safeParse(data);
  if (parsed.success) return [];
  return parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

export async function probeAccount(options: AccountProbeOptions): Promise<CheckResult[]> {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const answers: Answer[] = [];

  async function call(path: string, body: Record<string, unknown>, token?: string): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const reply = await send(`${base}/${path}`, { method: 'POST', headers, body: JSON.stringify(body) }, timeoutMs);
    const parsed = reply.ok ? envelope.safeParse(reply.json) : undefined;
    const answer: Answer = !reply.ok
      ? { path, http: null, state: null, data: undefined, problem: reply.problem }
      : reply.status !== 200
        ? { path, http: reply.status, state: null, data: undefined, problem: `HTTP ${reply.status}` }
        : parsed?.success
          ? { path, http: 200, state: parsed.data.state, data: parsed.data.data, problem: null }
          : { path, http: 200, state: null, data: undefined, problem: reply.json === undefined ? 'a body that is not JSON' : 'JSON that is not { state, data }' };
    answers.push(answer);
    return answer;
  }

  /** `path answered state S, expected E` or nothing. */
  const expectState = (answer: Answer, expected: number, row?: { states: Record<number, () => unknown> }): string[] => {
    if (answer.problem !== null) return [`${answer.path}: ${answer.problem}`];
    if (answer.state === expected) return [];
    const meaning = row && answer.state !== null ? ` (the client would make it ${outcomeName(row, answer.state)})` : '';
    return [`${answer.path} answered state ${answer.state}, expected ${expected}${meaning}`];
  };

  const results: CheckResult[] = [];
  const paths = pathsOfTable();

  // Without a session: every session path answers 403, with no token and an unknown one.
  const sessionCheck = { id: 'session-403', covers: 'a session path answers state 403 without a session or with an unknown token (§1 transport, chosen)' };
  const sessionProblems: string[] = [];
  for (const [path, needsSession] of paths) {
    if (!needsSession) continue;
    sessionProblems.push(...expectState(await call(path, {}), 403));
    sessionProblems.push(...expectState(await call(path, {}, randomUUID()), 403));
  }

  const missing = { id: 'missing-400', covers: 'a call without its required fields answers state 400 (§1 #2–#5)' };
  const missingProblems: string[] = [];
  // `user/auth/code` without any parameter is the signed-in resend (403 without a session): a registration resend lacks `type`.
  const incomplete: [typeof api.login | typeof api.register | typeof api.verifyRegistration | typeof api.resendCode, Record<string, unknown>][] = [
    [api.login, {}],
    [api.register, {}],
    [api.verifyRegistration, {}],
    [api.resendCode, { user_id: randomUUID() }],
  ];
  for (const [row, body] of incomplete) missingProblems.push(...expectState(await call(row.path, body), 400, row));

  const refusals: [{ id: string; covers: string }, () => Promise<string[]>][] = [
    [{ id: 'login-unknown-404', covers: 'an unknown login answers state 404, as a wrong password does (§3, chosen)' },
      async () => expectState(await call(api.login.path, { login: unknownLogin(), password: probeId() }), 404, api.login)],
    [{ id: 'recovery-unknown-404', covers: 'recovery of an unknown login answers state 404 (§1 #6)' },
      async () => expectState(await call(api.startRecovery.path, { login: unknownLogin() }), 404, api.startRecovery)],
    [{ id: 'recovery-done-wrong-404', covers: 'recovery_done with a wrong token and code answers state 404 (§1 #7, §3)' },
      async () => expectState(await call(api.completeRecovery.path, { token: probeId(), code: '000000', password: probeId() }), 404, api.completeRecovery)],
    [{ id: 'verify-unknown-user-404', covers: 'verify of a user that does not exist answers state 404 (§1 #4)' },
      async () => expectState(await call(api.verifyRegistration.path, { user_id: randomUUID(), email_code: '000000' }), 404, api.verifyRegistration)],
  ];
  const refusalResults: CheckResult[] = [];
  for (const [check, run] of refusals) refusalResults.push(verdictOf(check, await run()));

  if (options.allowWrites) {
    const check = { id: 'register-format-401-402', covers: 'registration answers 401 to a malformed email and 402 to a malformed phone (§1 #3)' };
    refusalResults.push(verdictOf(check, [
      ...expectState(await call(api.register.path, { email: 'not-an-email', password: probeId() }), 401, api.register),
      ...expectState(await call(api.register.path, { phone: '12345', password: probeId() }), 402, api.register),
    ]));
  } else {
    refusalResults.push(skipped({ id: 'register-format-401-402', covers: 'registration answers 401 to a malformed email and 402 to a malformed phone (§1 #3)' }, 'needs --allow-writes (a lenient API would create a user)'));
  }

  const sessionResults = await probeWithSession(options, call, expectState);

  // Transport and paths are judged on every call made above.
  const offEnvelope = answers.filter((a) => a.problem !== null && a.http !== 404 && a.http !== 405);
  results.push(verdictOf(
    { id: 'transport', covers: 'every call is POST {url}/{path} answered with HTTP 200 and { state, data } (§1 transport, chosen)' },
    [...new Set(offEnvelope.map((a) => `${a.path}: ${a.problem}`))],
  ));
  const unknownPaths = answers.filter((a) => a.http === 404 || a.http === 405);
  results.push(verdictOf(
    { id: 'paths', covers: `the client's ${paths.size} paths exist (§1 endpoints; the (chosen) ones are the client's table)` },
    answers.every((a) => a.http === null) ? ['no call got an HTTP answer'] : [...new Set(unknownPaths.map((a) => `${a.path}: HTTP ${a.http}`))],
  ));
  results.push(verdictOf(sessionCheck, sessionProblems), verdictOf(missing, missingProblems), ...refusalResults, ...sessionResults);
  return results;
}

type Call = (path: string, body: Record<string, unknown>, token?: string) => Promise<Answer>;
type ExpectState = (answer: Answer, expected: number, row?: { states: Record<number, () => unknown> }) => string[];

/** The checks that need the test account, and with `allowWrites` the write endpoints. */
async function probeWithSession(options: AccountProbeOptions, call: Call, expectState: ExpectState): Promise<CheckResult[]> {
  const checks = {
    loginSession: { id: 'login-session', covers: 'login answers the User object with a session (§1 objects, chosen)' },
    user: { id: 'user-shape', covers: 'user/get answers the User object (§1 objects, chosen)' },
    settings: { id: 'settings-shape', covers: 'user/settings/get answers the Settings object (§1 objects)' },
    products: { id: 'products-shape', covers: 'user/products/get answers [Product] (§1 objects)' },
    ticket: { id: 'websocket-ticket', covers: 'user/auth/websocket answers { url, ticket } (§1 #18, chosen)' },
    wrongPassword: { id: 'wrong-password-404', covers: 'a wrong password answers state 404 (§3, chosen)' },
    logout: { id: 'logout', covers: 'user/auth/logout answers true and ends the session: user/get then answers 403 (§1 #19, chosen)' },
  };
  const writes = {
    settingsEcho: { id: 'settings-echo', covers: 'user/settings/set answers the Settings object; the settings read are sent back unchanged (§1 #12)' },
    settingsEmail: { id: 'settings-email-401', covers: 'user/settings/set answers 401 to a malformed email (§1 #12)' },
    productUnknown: { id: 'product-unknown-404', covers: 'activating an unknown product answers state 404 (§1 #14)' },
    activateAgain: { id: 'activate-idempotent', covers: 'activating an active product succeeds again with { modules } (§3, chosen)' },
    trackingEmpty: { id: 'tracking-empty-404', covers: 'user/tracking/set without any attribute answers state 404 (§1 #16)' },
    archiveShort: { id: 'archive-short-404', covers: 'user/archive with a password under 6 characters answers state 404 (§1 #17)' },
    blockUnknown: { id: 'block-unknown-404', covers: 'blocking a user that does not exist answers state 404 (§1 #8)' },
  };
  const all = [...Object.values(checks), ...Object.values(writes)];
  if (options.login === undefined || options.password === undefined) {
    return all.map((check) => skipped(check, 'needs --login of a test account (and ACCOUNT_PROBE_PASSWORD)'));
  }

  const login = await call(api.login.path, { login: options.login, password: options.password });
  const loginProblems = [...expectState(login, 200, api.login), ...(login.state === 200 ? shapeProblems(api.login.data, login.data) : [])];
  const token = loginProblems.length === 0 ? (api.login.data.parse(login.data) as { session: { token: string } }).session.token : undefined;
  if (token === undefined) {
    return [fails(checks.loginSession, loginProblems.join('; ')), ...all.slice(1).map((check) => skipped(check, 'the login did not give a session'))];
  }
  const results: CheckResult[] = [holds(checks.loginSession)];

  const read = async (check: { id: string; covers: string }, row: { path: string; data: z.ZodType; states: Record<number, () => unknown> }) => {
    const answer = await call(row.path, {}, token);
    const problems = expectState(answer, 200, row);
    results.push(verdictOf(check, problems.length > 0 ? problems : shapeProblems(row.data, answer.data)));
    return problems.length === 0 ? answer.data : undefined;
  };
  await read(checks.user, api.getUser);
  const settings = await read(checks.settings, api.getSettings);
  const products = await read(checks.products, api.getProducts);
  await read(checks.ticket, api.websocketTicket);
  results.push(verdictOf(checks.wrongPassword, expectState(await call(api.login.path, { login: options.login, password: `${options.password}-wrong-${probeId()}` }), 404, api.login)));

  if (!options.allowWrites) {
    results.push(...Object.values(writes).map((check) => skipped(check, 'needs --allow-writes')));
  } else {
    results.push(...await probeWrites(writes, token, settings, products, call, expectState));
  }

  const logout = await call(api.logout.path, {}, token);
  const after = await call(api.getUser.path, {}, token);
  results.push(verdictOf(checks.logout, [
    ...expectState(logout, 200, api.logout),
    ...(logout.state === 200 ? shapeProblems(api.logout.data, logout.data) : []),
    ...expectState(after, 403, api.getUser),
  ]));
  return results;
}

async function probeWrites(
  writes: Record<'settingsEcho' | 'settingsEmail' | 'productUnknown' | 'activateAgain' | 'trackingEmpty' | 'archiveShort' | 'blockUnknown', { id: string; covers: string }>,
  token: string,
  settings: unknown,
  products: unknown,
  call: Call,
  expectState: ExpectState,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const record = (settings ?? {}) as Record<string, unknown>;
  if (typeof record.news === 'boolean') {
    const echo = await call(api.setSettings.path, { news: record.news }, token);
    const problems = expectState(echo, 200, api.setSettings);
    const echoed = (echo.data ?? {}) as Record<string, unknown>;
    if (problems.length === 0) problems.push(...shapeProblems(api.setSettings.data, echo.data));
    if (problems.length === 0 && echoed.news !== record.news) problems.push('news came back changed');
    results.push(verdictOf(writes.settingsEcho, problems));
  } else {
    results.push(skipped(writes.settingsEcho, 'user/settings/get gave no boolean news to send back'));
  }
  results.push(verdictOf(writes.settingsEmail, expectState(await call(api.setSettings.path, { email: 'not-an-email' }, token), 401, api.setSettings)));
  results.push(verdictOf(writes.productUnknown, expectState(await call(api.activateProduct.path, { product_id: probeId() }, token), 404, api.activateProduct)));
  const active = api.getProducts.data.safeParse(products);
  const activeId = active.success ? active.data.find((p) => p.state === 'ACTIVATED')?.id : undefined;
  if (activeId === undefined) {
    results.push(skipped(writes.activateAgain, 'the test account has no active product (activating another would change data)'));
  } else {
    const again = await call(api.activateProduct.path, { product_id: activeId }, token);
    const problems = expectState(again, 200, api.activateProduct);
    if (problems.length === 0) problems.push(...shapeProblems(api.activateProduct.data, again.data));
    const modules = (again.data as { modules?: unknown } | null)?.modules;
    if (problems.length === 0 && !(Array.isArray(modules) && modules.includes(activeId))) problems.push(`modules no longer hold ${activeId}`);
    results.push(verdictOf(writes.activateAgain, problems));
  }
  results.push(verdictOf(writes.trackingEmpty, expectState(await call(api.setTracking.path, {}, token), 404, api.setTracking)));
  results.push(verdictOf(writes.archiveShort, expectState(await call(api.requestArchive.path, { password: '12345' }, token), 404, api.requestArchive)));
  results.push(verdictOf(writes.blockUnknown, expectState(await call(api.blockUser.path, { id: randomUUID(), reason: 1 }, token), 404, api.blockUser)));
  return results;
}
