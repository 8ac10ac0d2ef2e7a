import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressBlock, cleanUserAgent, clientAddress, TrustedProxies } from '../src/infra/client-address.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { Gateway } from '../src/gateway.js';
import type { DatingSiteEmulation } from '../src/emulator/dating/sites.js';
import { DatingAnswerOffContract, DatingSiteFailed, UpstreamAnswerNotJson, UpstreamCircuitOpen, UpstreamDeadlinePassed, UpstreamQueueFull, UpstreamTimeout, UpstreamUnreachable } from '../src/domain/errors.js';
import { mayHaveCreatedUser, scrub } from '../src/upstream/dating/client.js';
import { siteRefusal } from '../src/domain/dating.js';
import { INPUT_FIELD_OF_WIRE, inputFieldsOfWire, retryAfterSeconds } from '../src/upstream/dating/wire.js';
import { gatewayLogLines, rememberSecret } from './support/harness.js';
import { gql, type GqlOptions, startGateway, type Stack, startStack } from './support/gateway.js';
import { type SignedUpUser, signUp, uniqueEmail } from './support/users.js';
import { startStubSite, type StubSite } from './support/stub-site.js';

/* createDatingUser and datingSites against the real Dating emulator: every status of shared/UPSTREAM.md §2. */

const LOOPBACK = ['127.0.0.1', '::1'];
const site = (id: string, more: Partial<DatingSiteEmulation> = {}): DatingSiteEmulation => ({
  id,
  apiKey: `${id}-secret-api-key`,
  ipWhitelist: LOOPBACK,
  perMinuteLimit: 100,
  ...more,
});
const SITES = [
  site('open', { paymentLinks: true }),
  site('member', { memberAreaLink: true, affiseAffiliateId: '2002' }),
  site('tiny', { perMinuteLimit: 1 }),
  site('walled', { ipWhitelist: ['10.9.9.9'] }),
  site('wrongkey'),
  site('affise', { affiseAffiliateId: '3003' }),
  site('down'),
];
const WRONG_KEY = 'not-the-key-of-wrongkey';
/** Sites on a stub that echoes the key and the password in its error texts (the emulator never does). */
const STUB_MODES = ['echo400', 'echo401', 'echo500', 'status405'];
const stubKey = (mode: string) => `${mode}-STUB-KEY-${process.pid}`;
const ALL_KEYS = [...SITES.map((s) => s.apiKey), WRONG_KEY, ...STUB_MODES.map(stubKey)];

let stack: Stack;
let stub: StubSite;
let user: SignedUpUser;
/** Every response body of this file, checked for API keys at the end. */
const bodies: string[] = [];

const CREATE = `mutation($input: CreateDatingUserInput!) { createDatingUser(input: $input) {
  __typename
  ... on DatingUserCreated { site { id name } userEmail autoLoginUrl memberAreaUrl emailValidation { email status corrected receptionEnabled } paymentLinks { product trial month year } }
  ... on ValidationError { message fieldErrors { path message } }
  ... on EmailRejected { message site { id } }
  ... on AlreadyRegistered { message site { id } }
  ... on SiteRateLimited { message retryAfterSeconds site { id } }
} }`;

const validInput = (siteId: string, overrides: Record<string, unknown> = {}) => ({
  site: siteId,
  email: uniqueEmail('dating'),
  gender: 'FEMALE',
  password: 'dating-pass-123',
  birthDate: '1990-04-17',
  ...overrides,
});

async function call(url: string, input: Record<string, unknown>, options: GqlOptions = {}) {
  const result = await gql(url, CREATE, { input }, options);
  bodies.push(JSON.stringify(result));
  return result;
}
const create = (input: Record<string, unknown>, options: GqlOptions = { token: user.token }) => call(stack.url, input, options);


beforeAll(async () => {
  ALL_KEYS.forEach(rememberSecret);
  stub = await startStubSite();
  stack = await startStack({}, {
    dating: SITES,
    datingSites: (url) => [
      ...SITES.map((s) => ({
        id: s.id,
        name: `Site ${s.id}`,
        baseUrl: `${url}/${s.id}`,
        apiKey: s.id === 'wrongkey' ? WRONG_KEY : s.apiKey,
        ...(s.id === 'member' && { affiseAffiliateId: '2002' }),
      })),
      ...STUB_MODES.map((mode) => ({ id: mode, name: `Site ${mode}`, baseUrl: `${stub.url}/${mode}`, apiKey: stubKey(mode) })),
    ],
  });
  user = await signUp(stack);
});

afterAll(async () => {
  for (const body of bodies) for (const key of ALL_KEYS) expect(body.includes(key), 'a response holds an API key').toBe(false);
});

describe('datingSites', () => {
  it('lists id and name of every site, never a key', async () => {
    const res = await stack.gql('{ datingSites { id name } }');
    bodies.push(JSON.stringify(res));
    expect(res.data.datingSites).toEqual([...SITES.map((s) => s.id), ...STUB_MODES].map((id) => ({ id, name: `Site ${id}` })));
    const graphiql = await fetch(stack.url, { headers: { accept: 'text/html' } });
    bodies.push(await graphiql.text());
  });
});

describe('createDatingUser: answers of the site', () => {
  it('201 with payment links, from the request\'s IP and a cleaned user agent', async () => {
    const longAgent = `Mozilla/5.0\u0085\tTest ${'x'.repeat(600)}`;
    const input = validInput('open', { nickname: 'Ann1990', tracking: [{ key: 'clickid', value: '1234-4567' }], subId: 'campaign-7' });
    const res = await create(input, { token: user.token, headers: { 'user-agent': longAgent } });
    const created = res.data.createDatingUser;
    expect(created).toMatchObject({
      __typename: 'DatingUserCreated',
      site: { id: 'open', name: 'Site open' },
      userEmail: input.email,
      memberAreaUrl: null,
      emailValidation: { email: input.email, status: 'valid', corrected: null, receptionEnabled: true },
    });
    expect(created.autoLoginUrl).toContain('/open/site/user/fastlogin/tour/');
    expect(created.paymentLinks).toEqual([{ product: 'premium', trial: expect.any(String), month: expect.stringContaining('pi_code=month'), year: expect.stringContaining('pi_code=year') }]);
    const [stored] = await stack.dating!.users('open');
    expect(stored).toMatchObject({ email: input.email, gender: 'female', birth_date: '1990-04-17', nickname: 'Ann1990', client_ip: '127.0.0.1', tracking: { clickid: '1234-4567' }, sub_id: 'campaign-7' });
    expect(stored!.client_user_agent).toBe(cleanUserAgent(longAgent));
    expect(stored!.client_user_agent).toHaveLength(512);
    expect(stored!.client_user_agent).toMatch(/^Mozilla\/5\.0 Test x+$/);
  });

  it('201 with the member area link, sending the configured affise id', async () => {
    const res = await create(validInput('member', { gender: 'COUPLE' }));
    expect(res.data.createDatingUser).toMatchObject({ __typename: 'DatingUserCreated', memberAreaUrl: expect.stringContaining('/member/site/user/home'), paymentLinks: [] });
  });

  it('refuses bad input with every field path before calling any site', async () => {
    const before = await stack.dating!.requests();
    const res = await create({
      site: 'nosuch',
      email: 'not-an-email',
      gender: 'MALE',
      password: 'ab',
      birthDate: new Date(Date.now() - 10 * 365 * 86_400_000).toISOString().slice(0, 10),
      nickname: 'bad nick!',
      tracking: [{ key: 'bad key', value: 'x' }, { key: 'ok', value: 'y'.repeat(300) }],
      subId: 's'.repeat(200),
    });
    const payload = res.data.createDatingUser;
    expect(payload.__typename).toBe('ValidationError');
    expect(payload.fieldErrors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual(
      ['birthDate', 'email', 'nickname', 'password', 'site', 'subId', 'tracking.0.key', 'tracking.1.value'].sort(),
    );
    expect(await stack.dating!.requests()).toEqual(before);
  });

  it('400 of the site (a taken nickname) becomes a ValidationError on the input field, in the gateway\'s words', async () => {
    await create(validInput('open', { nickname: 'Taken42' }));
    const res = await create(validInput('open', { nickname: 'Taken42' }));
    expect(res.data.createDatingUser).toEqual({
      __typename: 'ValidationError',
      message: 'The dating site refused some of the input; see fieldErrors.',
      fieldErrors: [{ path: ['nickname'], message: 'This nickname is taken or not allowed.' }],
    });
    expect(JSON.stringify(res)).not.toMatch(/Another user/);
  });

  it('406 becomes EmailRejected', async () => {
    const res = await create(validInput('open', { email: 'someone@invalid.test' }));
    expect(res.data.createDatingUser).toMatchObject({ __typename: 'EmailRejected', site: { id: 'open' } });
  });

  it('409 becomes AlreadyRegistered', async () => {
    const input = validInput('open');
    expect((await create(input)).data.createDatingUser.__typename).toBe('DatingUserCreated');
    const res = await create({ ...input, email: input.email.toUpperCase() });
    expect(res.data.createDatingUser).toMatchObject({ __typename: 'AlreadyRegistered', site: { id: 'open' } });
  });

  it('429 becomes SiteRateLimited with the Retry-After seconds', async () => {
    expect((await create(validInput('tiny'))).data.createDatingUser.__typename).toBe('DatingUserCreated');
    const res = await create(validInput('tiny'));
    const limited = res.data.createDatingUser;
    expect(limited).toMatchObject({ __typename: 'SiteRateLimited', site: { id: 'tiny' } });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it.each([
    ['walled', '401 Remote IP is not in the white list', 401, 'Remote IP is not in the white list'],
    ['wrongkey', '401 Token not found', 401, 'Token not found'],
    ['affise', '402 wrong affise id', 402, 'Affise Error: Wrong offer ID'],
  ])('%s (%s) is UPSTREAM_UNAVAILABLE and an alert in the log', async (siteId, _what, status, upstreamError) => {
    const res = await create(validInput(siteId));
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(res.errors?.[0]?.message).not.toMatch(/white list|Token|Affise/);
    const alerts = await alertsFor(siteId);
    expect(alerts.at(-1)).toMatchObject({ alert: true, site: siteId, status, upstreamError });
  });

  it('405 of the site is UPSTREAM_UNAVAILABLE and an alert', async () => {
    const res = await create(validInput('status405'));
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect((await alertsFor('status405')).at(-1)).toMatchObject({ alert: true, status: 405, upstreamError: 'Method Not Allowed' });
    expect(stub.requests('status405')).toBe(1);
  });

  it.each([500, 503] as const)('%i (outage) is UPSTREAM_UNAVAILABLE', async (status) => {
    await stack.dating!.outage('down', status);
    try {
      const res = await create(validInput('down'));
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
      expect((await alertsFor('down')).at(-1)).toMatchObject({ status });
    } finally {
      await stack.dating!.outage('down', null);
    }
  });
});

describe('a site that echoes the API key and the password', () => {
  const password = `DatingPw-${process.pid}-999`;
  const leaks = (text: string, mode: string) => text.includes(password) || text.includes(stubKey(mode));

  it('400: fixed messages per field, the site\'s texts only in the log, scrubbed', async () => {
    const before = gatewayLogLines().length;
    const res = await create(validInput('echo400', { password }));
    expect(leaks(JSON.stringify(res), 'echo400')).toBe(false);
    expect(res.data.createDatingUser).toEqual({
      __typename: 'ValidationError',
      message: 'The dating site refused some of the input; see fieldErrors.',
      fieldErrors: [
        { path: ['password'], message: 'The dating site refused this password; choose another one.' },
        { path: ['nickname'], message: 'This nickname is taken or not allowed.' },
        { path: [], message: 'The dating site refused the request. Check the input or contact support.' },
      ],
    });
    const lines = gatewayLogLines().slice(before);
    expect(lines.filter((l) => leaks(l, 'echo400'))).toEqual([]);
    const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'dating site refused the input');
    expect(refused).toMatchObject({ site: 'echo400', status: 400, siteErrors: ["password: password '[redacted]' is too weak", 'nickname: nickname taken (key [redacted])', 'debug: key [redacted] not allowed'] });
  });

  it.each(['echo401', 'echo500'])('%s: UPSTREAM_UNAVAILABLE, the scrubbed text in the alert', async (mode) => {
    const before = gatewayLogLines().length;
    const res = await create(validInput(mode, { password }));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(leaks(JSON.stringify(res), mode)).toBe(false);
    const lines = gatewayLogLines().slice(before);
    expect(lines.filter((l) => leaks(l, mode))).toEqual([]);
    expect((await alertsFor(mode)).at(-1)?.upstreamError).toMatch(/\[redacted\].*\[redacted\]/);
  });
});

/** The gateway's alert log lines about a site. */
async function alertsFor(siteId: string): Promise<Record<string, unknown>[]> {
  return gatewayLogLines()
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((l) => l.alert === true && l.site === siteId);
}

describe('who may create dating users', () => {
  it('refuses a caller without a session, or with an ended one, by default', async () => {
    const anonymous = await create(validInput('open'), {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const ended = await create(validInput('open'), { token: 'no-such-session-token' });
    expect(ended.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const input = validInput('open');
    await create(input, { token: user.token, headers: { 'x-forwarded-for': '203.0.113.7' } });
    const stored = (await stack.dating!.users('open')).find((u) => u.email === input.email);
    expect(stored?.client_ip).toBe('127.0.0.1');
  });

  describe('behind a trusted proxy, with anonymous sign-ups on', () => {
    let second: { url: string; gateway: Gateway };
    beforeAll(async () => {
      second = await startGateway({ ...stack.env, TRUSTED_PROXIES: '127.0.0.1', DATING_ANONYMOUS_SIGNUPS: 'true', DATING_ANONYMOUS_PER_MINUTE: '2' }, 'second');
    });

    it('uses X-Forwarded-For, walking past trusted hops', async () => {
      const input = validInput('open');
      const res = await call(second.url, input, { token: user.token, headers: { 'x-forwarded-for': '192.0.2.99, 198.51.100.24, 127.0.0.1' } });
      expect(res.data.createDatingUser.__typename).toBe('DatingUserCreated');
      const stored = (await stack.dating!.users('open')).find((u) => u.email === input.email);
      expect(stored?.client_ip).toBe('198.51.100.24');
    });

    it('admits anonymous calls, rate-limited per client IP', async () => {
      const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
      const bad = { ...validInput('open'), password: 'x' }; // refused by zod: costs the site nothing
      for (let i = 0; i < 2; i++) expect((await call(second.url, bad, from('198.51.100.1'))).data.createDatingUser.__typename).toBe('ValidationError');
      const limited = await call(second.url, bad, from('198.51.100.1'));
      expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
      expect(limited.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
      const other = await call(second.url, validInput('open'), from('198.51.100.2'));
      expect(other.data.createDatingUser.__typename).toBe('DatingUserCreated');
      const signedIn = await call(second.url, bad, { token: user.token, ...from('198.51.100.1') });
      expect(signedIn.data.createDatingUser.__typename).toBe('ValidationError');
    });

    it('counts IPv6 clients by their /64, not by address', async () => {
      const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
      const bad = { ...validInput('open'), password: 'x' };
      for (const ip of ['2001:db8:7:7::1', '2001:db8:7:7::2']) expect((await call(second.url, bad, from(ip))).data.createDatingUser.__typename).toBe('ValidationError');
      const limited = await call(second.url, bad, from('2001:db8:7:7:abcd::99'));
      expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      const otherBlock = await call(second.url, bad, from('2001:db8:7:8::1'));
      expect(otherBlock.data.createDatingUser.__typename).toBe('ValidationError');
    });
  });
});

describe('pure parts', () => {
  it('maps every field a site may name to the input field, with the gateway\'s messages only', () => {
    const wireNames = [...Object.keys(INPUT_FIELD_OF_WIRE), 'client_ip', 'client_user_agent', 'affise_affiliate_id', 'body'];
    const siteTexts = Object.fromEntries(wireNames.map((n) => [n, `SITE-TEXT '${n}' is wrong`]));
    const { fieldErrors } = siteRefusal(inputFieldsOfWire(siteTexts));
    expect(fieldErrors.map((e) => e.path)).toEqual([['email'], ['gender'], ['password'], ['birthDate'], ['nickname'], ['tracking'], ['subId'], []]);
    expect(JSON.stringify(fieldErrors)).not.toContain('SITE-TEXT');
    expect(siteRefusal(['nickname', 'not a field: SITE-TEXT']).fieldErrors).toEqual([
      { path: ['nickname'], message: 'This nickname is taken or not allowed.' },
      { path: [], message: expect.not.stringContaining('SITE-TEXT') },
    ]);
    expect(siteRefusal([]).fieldErrors).toHaveLength(1);
  });

  it('scrubs the key and the password, in their escaped forms too, and cuts the text', () => {
    const text = scrub(`k=KEY-123 p=pa"ss p2=pa%22ss json=pa\\"ss\n${'x'.repeat(300)}`, ['KEY-123', 'pa"ss']);
    expect(text).toMatch(/^k=\[redacted\] p=\[redacted\] p2=\[redacted\] json=\[redacted\] x+$/);
    expect(text).toHaveLength(200);
  });

  it('tells which failed create-user calls may still have created the user', () => {
    const site = 'dating site x';
    expect(mayHaveCreatedUser(new UpstreamTimeout(site))).toBe(true);
    expect(mayHaveCreatedUser(new UpstreamUnreachable(site, 'ECONNRESET'))).toBe(true);
    expect(mayHaveCreatedUser(new UpstreamAnswerNotJson(site, 201))).toBe(true);
    expect(mayHaveCreatedUser(new DatingAnswerOffContract(site, 'data of HTTP 201 off contract', 201))).toBe(true);
    expect(mayHaveCreatedUser(new DatingAnswerOffContract(site, 'data of HTTP 409 off contract', 409))).toBe(false);
    expect(mayHaveCreatedUser(new UpstreamAnswerNotJson(site, 502))).toBe(false);
    expect(mayHaveCreatedUser(new UpstreamUnreachable(site, 'ECONNREFUSED'))).toBe(false);
    expect(mayHaveCreatedUser(new UpstreamCircuitOpen(site, 10))).toBe(false);
    expect(mayHaveCreatedUser(new UpstreamQueueFull(site))).toBe(false);
    expect(mayHaveCreatedUser(new UpstreamDeadlinePassed(site, false))).toBe(false);
    expect(mayHaveCreatedUser(new UpstreamDeadlinePassed(site, true))).toBe(true);
    expect(mayHaveCreatedUser(new DatingSiteFailed(site, 503))).toBe(false);
  });

  it('counts IPv6 clients by their /64', () => {
    expect(addressBlock('203.0.113.5')).toBe('203.0.113.5');
    expect(addressBlock('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBlock('::1')).toBe('0:0:0:0::/64');
    expect(addressBlock('2001:0db8:0001:0002::')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('reads Retry-After as seconds or a date, 60 when absent', () => {
    expect(retryAfterSeconds('17')).toBe(17);
    expect(retryAfterSeconds(undefined)).toBe(60);
    expect(retryAfterSeconds('soon')).toBe(60);
    expect(retryAfterSeconds(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(29);
  });

  it('finds the client address only through trusted proxies', () => {
    const trusted = TrustedProxies.parse('10.0.0.0/8, ::1');
    expect(clientAddress('::ffff:203.0.113.5', '1.2.3.4', trusted)).toBe('203.0.113.5');
    expect(clientAddress('10.1.1.1', '1.2.3.4, 10.2.2.2', trusted)).toBe('1.2.3.4');
    expect(clientAddress('::1', '[2001:db8::1]:443', trusted)).toBe('2001:db8::1');
    expect(clientAddress('10.1.1.1', 'garbage, 10.2.2.2', trusted)).toBe('10.2.2.2');
    expect(clientAddress('10.1.1.1', '10.3.3.3', trusted)).toBe('10.3.3.3');
  });

  it('refuses bad DATING_SITES without echoing the keys', () => {
    const text = JSON.stringify([{ id: 'a', name: 'A', baseUrl: 'http://x/a', apiKey: 'secret-one-123' }, { id: 'a', name: 'A', baseUrl: 'nope', apiKey: '' }]);
    expect(() => loadConfig({ DATING_SITES: text })).toThrow(ConfigError);
    for (const bad of [text, '{ "oops": "secret-two-456"', '[]']) {
      try {
        loadConfig({ DATING_SITES: bad });
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).toMatch(/DATING_SITES/);
        expect((error as Error).message).not.toMatch(/secret-/);
      }
    }
    expect(() => loadConfig({ TRUSTED_PROXIES: '127.0.0.1, 300.1.1.1' })).toThrow(/TRUSTED_PROXIES/);
  });
});
