import { randomUUID } from 'node:crypto';
import { INPUT_FIELD_OF_WIRE, badRequestWire, envelopeWire, errorTextWire } from '../upstream/dating/wire.js';
import { send } from './http.js';
import { type CheckResult, verdictOf } from './report.js';

/**
 * The Dating API v2 contract probe (`DATING_API_KEY=… npm run contract --
 * --dating-url URL`): checks one site against shared/UPSTREAM.md §2 with
 * requests the site must refuse, so it never creates a user: each lacks
 * `email`, a required field. Answers are read with the gateway's own parsers
 * (src/upstream/dating/wire.ts). The key is sent only as `Authorization` and
 * never printed; the site's texts are never printed either (they may quote
 * what was sent).
 */

export interface DatingProbeOptions {
  /** The site's base URL, as `baseUrl` in `DATING_SITES`; `v2/api/user` is appended. */
  url: string;
  key: string;
  /** Limit of one call. Default 10000 ms. */
  timeoutMs?: number;
}

/** The fields shared/UPSTREAM.md §2 requires. */
const REQUIRED = ['email', 'gender', 'password', 'birth_date', 'client_ip'] as const;
/** Fields the gateway fills itself; a 400 may name them too. */
const GATEWAY_FIELDS = new Set(['client_ip', 'client_user_agent', 'affise_affiliate_id']);
/** The two 401 texts of the seed, told apart without printing them. */
const WHITELIST_TEXT = /white\s*list/i;

interface Answer {
  http: number | null;
  headers: Headers | null;
  json: unknown;
  problem: string | null;
}

export async function probeDating(options: DatingProbeOptions): Promise<CheckResult[]> {
  const endpoint = `${options.url.replace(/\/+$/, '')}/v2/api/user`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const envelopeProblems: string[] = [];

  async function call(label: string, init: RequestInit): Promise<Answer> {
    const reply = await send(endpoint, init, timeoutMs);
    if (!reply.ok) return { http: null, headers: null, json: undefined, problem: reply.problem };
    const answer = { http: reply.status, headers: reply.headers, json: reply.json, problem: null };
    if (init.method === 'OPTIONS') return answer;
    const envelope = envelopeWire.safeParse(reply.json);
    if (!envelope.success) envelopeProblems.push(`${label}: HTTP ${reply.status} without the { success, data, status_code } envelope`);
    else if (envelope.data.status_code !== reply.status) envelopeProblems.push(`${label}: HTTP ${reply.status} but status_code ${envelope.data.status_code}`);
    else if (envelope.data.success) envelopeProblems.push(`${label}: success true for a request that must be refused`);
    return answer;
  }

  const post = (label: string, body: string, contentType: string, key = options.key) =>
    call(label, { method: 'POST', headers: { 'content-type': contentType, authorization: key }, body });

  /** Problems of an answer expected to be a 400 naming exactly `fields` (in any order). */
  const expectRefusal = (answer: Answer, fields: readonly string[]): string[] => {
    if (answer.problem !== null) return [answer.problem];
    if (answer.http !== 400) return [`HTTP ${answer.http}, expected 400${refusalHint(answer)}`];
    const data = badRequestWire.safeParse((answer.json as { data?: unknown } | undefined)?.data);
    if (!data.success) return ['a 400 without data.errors { field: message }'];
    const named = Object.keys(data.data.errors);
    const problems: string[] = [];
    const missing = fields.filter((f) => !named.includes(f));
    if (missing.length > 0) problems.push(`data.errors does not name ${missing.join(', ')}`);
    const unknown = named.filter((f) => !Object.hasOwn(INPUT_FIELD_OF_WIRE, f) && !GATEWAY_FIELDS.has(f));
    if (unknown.length > 0) problems.push(`data.errors names fields the gateway does not know: ${unknown.join(', ')}`);
    return problems;
  };

  const results: CheckResult[] = [];

  const json = await post('JSON {}', '{}', 'application/json');
  results.push(verdictOf(
    { id: 'missing-400', covers: 'a JSON body without the required fields answers 400, data.errors naming each of them (§2)' },
    expectRefusal(json, REQUIRED),
  ));

  const form = await post('form without email', new URLSearchParams({ gender: 'male', 'tracking[clickid]': 'contract-probe' }).toString(), 'application/x-www-form-urlencoded');
  results.push(verdictOf(
    { id: 'form-400', covers: 'a form-encoded body is read too: without email it answers 400 naming email, password, birth_date, client_ip but not gender (§2)' },
    [...expectRefusal(form, ['email', 'password', 'birth_date', 'client_ip']), ...namesGender(form)],
  ));

  const tooYoung = new Date(Date.now() - 10 * 365.25 * 86_400_000).toISOString().slice(0, 10);
  const many = await post('JSON with every field bad', JSON.stringify({ gender: 'robot', password: 'ab', birth_date: tooYoung, client_ip: 'not-an-ip' }), 'application/json');
  results.push(verdictOf(
    { id: 'all-errors-at-once', covers: 'every bad field is reported at once: a missing email, a bad gender, a short password, an under-18 birth_date, a bad client_ip (§2)' },
    expectRefusal(many, REQUIRED),
  ));

  const wrongKey = await post('wrong key', '{}', 'application/json', `contract-probe-${randomUUID()}`);
  const wrongKeyProblems = wrongKey.problem !== null ? [wrongKey.problem] : wrongKey.http !== 401 ? [`HTTP ${wrongKey.http}, expected 401`] : [];
  if (wrongKeyProblems.length === 0 && !errorTextWire.safeParse((wrongKey.json as { data?: unknown } | undefined)?.data).success) wrongKeyProblems.push('a 401 without data.error');
  results.push(verdictOf({ id: 'wrong-key-401', covers: 'a wrong API key answers 401 with data.error (§2)' }, wrongKeyProblems));

  const get = await call('GET', { method: 'GET', headers: { authorization: options.key } });
  results.push(verdictOf(
    { id: 'method-405', covers: 'a GET answers 405 method not allowed (§2)' },
    get.problem !== null ? [get.problem] : get.http === 405 ? [] : [`HTTP ${get.http}, expected 405`],
  ));

  const preflight = await call('OPTIONS', {
    method: 'OPTIONS',
    headers: { origin: 'https://contract-probe.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  const corsProblems: string[] = [];
  if (preflight.problem !== null) corsProblems.push(`preflight: ${preflight.problem}`);
  else if (preflight.http === null || preflight.http >= 300 || !preflight.headers?.get('access-control-allow-origin')) corsProblems.push(`preflight answered HTTP ${preflight.http} without access-control-allow-origin`);
  if (json.headers !== null && !json.headers.get('access-control-allow-origin')) corsProblems.push('the 400 answer has no access-control-allow-origin');
  results.push(verdictOf({ id: 'cors', covers: 'the user endpoint allows CORS: a preflight and its answers carry access-control-allow-origin (§2)' }, corsProblems));

  results.unshift(verdictOf({ id: 'envelope', covers: 'every answer is { success, data, status_code } with the HTTP status equal to status_code (§2)' }, envelopeProblems));
  return results;
}

/** A 401 where a 400 was expected: say which of the seed's two it is. */
function refusalHint(answer: Answer): string {
  if (answer.http !== 401) return '';
  const text = errorTextWire.safeParse((answer.json as { data?: unknown } | undefined)?.data);
  if (text.success && WHITELIST_TEXT.test(text.data.error)) return " (the site does not whitelist this machine's IP: run the probe from a whitelisted server)";
  return ' (the site does not know this key)';
}

function namesGender(answer: Answer): string[] {
  const errors = badRequestWire.safeParse((answer.json as { data?: unknown } | undefined)?.data);
  return errors.success && Object.hasOwn(errors.data.errors, 'gender') ? ['data.errors names gender, which was sent and valid'] : [];
}
