import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { isAdult, parseCalendarDate } from '../src/emulator/dating/birth-date.js';
import { parseForm } from '../src/emulator/dating/body.js';
import { startDatingEmulator, type DatingEmulator } from '../src/emulator/dating/server.js';
import { DEMO_DATING_SITES, DatingEmulatorConfigError } from '../src/emulator/dating/sites.js';
import { defer } from './support/harness.js';

const WELLHELLO_KEY = 'demo-wellhello-key';
const LOVECRUSH_KEY = 'demo-lovecrush-key';
const PASSWORD = 'sup3r-secret-pw';

const logLines: string[] = [];
let emulator: DatingEmulator;

beforeAll(async () => {
  emulator = await startDatingEmulator({
    logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    sites: [
      ...DEMO_DATING_SITES,
      { id: 'private', apiKey: 'private-key', ipWhitelist: ['10.1.2.3'], perMinuteLimit: 10 },
      { id: 'tiny', apiKey: 'tiny-key', ipWhitelist: ['*'], perMinuteLimit: 2 },
    ],
  });
  defer(() => emulator.close());
});

beforeEach(async () => {
  const res = await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' });
  expect(res.status).toBe(204);
});

interface Sent {
  key?: string;
  headers?: Record<string, string>;
  method?: string;
}

const userUrl = (site: string) => `${emulator.url}/${site}/v2/api/user`;

async function call(site: string, body: string | URLSearchParams | undefined, sent: Sent = {}) {
  const headers: Record<string, string> = { ...sent.headers };
  if (sent.key !== undefined) headers['authorization'] = sent.key;
  const res = await fetch(userUrl(site), { method: sent.method ?? 'POST', headers, body });
  const json = (await res.json()) as { success: boolean; data: Record<string, any>; status_code: number };
  expect(json.status_code).toBe(res.status);
  return { res, json };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);

function postJson(site: string, fields: Record<string, unknown>, key: string) {
  return call(site, JSON.stringify(fields), { key, headers: { 'content-type': 'application/json' } });
}

const valid = (email = 'john@mail.com') => ({
  email,
  gender: 'male',
  password: PASSWORD,
  birth_date: '1985-06-27',
  client_ip: '192.168.0.1',
});

const getJson = async (path: string): Promise<any> => (await fetch(`${emulator.url}${path}`)).json();

describe('POST /{site}/v2/api/user: 201', () => {
  it('creates a user from a form body, with tracking[...] keys and payment links', async () => {
    const body = form({ ...valid(), 'tracking[clickid]': '1234-4567', 'tracking[ad_id]': 'x', sub_id: 'fb' });
    const { res, json } = await call('wellhello', body, { key: WELLHELLO_KEY });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(json.success).toBe(true);
    expect(json.data).toMatchObject({
      user_email: 'john@mail.com',
      email_validation: { email: 'john@mail.com', status: 'valid', corrected: null, emailReceptionEnabled: true },
    });
    expect(json.data['auto_login']).toMatch(
      new RegExp(`^${emulator.url}/wellhello/site/user/fastlogin/tour/[0-9a-f]{32}/1$`),
    );
    expect(Object.keys(json.data['payment_links'].premium)).toEqual(['trial', 'month', 'year']);
    expect(json.data).not.toHaveProperty('member_area_link');

    const users = await getJson('/_emulator/users');
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({
      site: 'wellhello',
      email: 'john@mail.com',
      gender: 'male',
      birth_date: '1985-06-27',
      client_ip: '192.168.0.1',
      client_user_agent: null,
      tracking: { clickid: '1234-4567', ad_id: 'x' },
      sub_id: 'fb',
    });
    expect(users[0].nickname).toMatch(/^[A-Za-z0-9]{1,16}$/);
    expect(JSON.stringify(users)).not.toContain(PASSWORD);
    expect(users[0]).not.toHaveProperty('password');
  });

  it('creates a user from a JSON body with a tracking object, affise id and member area link', async () => {
    const { res, json } = await postJson(
      'lovecrush',
      { ...valid('ann@example.com'), tracking: { click_id: 'helloclick' }, affise_affiliate_id: '1001', nickname: 'Ann77', client_user_agent: 'UA/1' },
      LOVECRUSH_KEY,
    );
    expect(res.status).toBe(201);
    expect(json.data['member_area_link']).toBe(`${json.data['auto_login']}?r=${emulator.url}/lovecrush/site/user/home`);
    expect(json.data).not.toHaveProperty('payment_links');
    const users = await getJson('/_emulator/users?site=lovecrush');
    expect(users).toEqual([
      expect.objectContaining({ nickname: 'Ann77', tracking: { click_id: 'helloclick' }, client_user_agent: 'UA/1', sub_id: null }),
    ]);
  });
});

describe('POST /{site}/v2/api/user: failures', () => {
  it('400 lists every bad field at once', async () => {
    const young = `${new Date().getUTCFullYear() - 10}-01-01`;
    const body = form({
      email: 'not-an-email',
      password: 'pw',
      birth_date: young,
      client_ip: '300.1.1.1',
      nickname: 'bad nick!',
      'tracking[bad key]': '1',
    });
    const { res, json } = await call('wellhello', body, { key: WELLHELLO_KEY });
    expect(res.status).toBe(400);
    expect(json.success).toBe(false);
    expect(json.data['error']).toBe('Bad Request');
    expect(Object.keys(json.data['errors']).sort()).toEqual(
      ['birth_date', 'client_ip', 'email', 'gender', 'nickname', 'password', 'tracking'].sort(),
    );
    expect(json.data['errors'].gender).toBe('Required Field');
    expect(json.data['errors'].birth_date).toBe("The 'birth_date' must be at least 18 years ago");
  });

  it('400 for a date that does not exist, a taken nickname and an unsupported body', async () => {
    await postJson('wellhello', { ...valid('a@mail.com'), nickname: 'Taken1' }, WELLHELLO_KEY);
    const { json } = await postJson('wellhello', { ...valid('b@mail.com'), birth_date: '1990-02-30', nickname: 'taken1' }, WELLHELLO_KEY);
    expect(json.data['errors']).toEqual({
      birth_date: "The 'birth_date' must be a valid date in the format YYYY-MM-DD",
      nickname: "Another user with the nickname 'taken1' already exists",
    });
    const text = await call('wellhello', 'email=x', { key: WELLHELLO_KEY, headers: { 'content-type': 'text/plain' } });
    expect(text.res.status).toBe(400);
    expect(Object.keys(text.json.data['errors'])).toEqual(['body']);
    const broken = await call('wellhello', '{', { key: WELLHELLO_KEY, headers: { 'content-type': 'application/json' } });
    expect(broken.json.data['errors']).toEqual({ body: 'The body is not valid JSON' });
  });

  it('401 when the caller IP is not whitelisted, before the key is looked at', async () => {
    const { res, json } = await call('private', form(valid()), { key: 'private-key' });
    expect(res.status).toBe(401);
    expect(json.data).toEqual({
      error: 'Remote IP is not in the white list',
      exception: { message: 'Remote IP is not in the white list', code: 401 },
    });
  });

  it('401 when the key is wrong, missing or sent as Bearer', async () => {
    for (const key of ['wrong', undefined, `Bearer ${WELLHELLO_KEY}`]) {
      const { res, json } = await call('wellhello', form(valid()), key === undefined ? {} : { key });
      expect(res.status).toBe(401);
      expect(json.data).toEqual({ error: 'Token not found', exception: { message: 'Token not found', code: 401 } });
    }
  });

  it('402 when affise_affiliate_id is unneeded, missing or wrong', async () => {
    const unneeded = await postJson('wellhello', { ...valid(), affise_affiliate_id: '1001' }, WELLHELLO_KEY);
    const missing = await postJson('lovecrush', valid(), LOVECRUSH_KEY);
    const wrong = await call('lovecrush', form({ ...valid(), affise_affiliate_id: '1002' }), { key: LOVECRUSH_KEY });
    for (const { res, json } of [unneeded, missing, wrong]) {
      expect(res.status).toBe(402);
      expect(json.data).toEqual({ error: 'Affise Error: Wrong offer ID' });
    }
  });

  it('404 for an unknown site or path, 405 for another method, 204 for a CORS preflight', async () => {
    const unknown = await call('nosuchsite', form(valid()), { key: WELLHELLO_KEY });
    expect(unknown.json).toEqual({ success: false, data: { error: 'Not Found' }, status_code: 404 });
    const get = await call('wellhello', undefined, { method: 'GET', key: WELLHELLO_KEY });
    expect(get.res.status).toBe(405);
    expect(get.json).toEqual({ success: false, data: { error: 'Method Not Allowed' }, status_code: 405 });
    const res = await fetch(`${emulator.url}/wellhello/v2/api/users`, { method: 'POST' });
    expect(res.status).toBe(404);
    const preflight = await fetch(userUrl('wellhello'), { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('406 for an email on invalid.test', async () => {
    const { res, json } = await postJson('wellhello', valid('someone@Invalid.Test'), WELLHELLO_KEY);
    expect(res.status).toBe(406);
    expect(json.data).toEqual({ error: 'The email is not valid' });
  });

  it('409 for an email already used on the site, case-insensitively; other sites are separate', async () => {
    expect((await postJson('wellhello', valid('john@mail.com'), WELLHELLO_KEY)).res.status).toBe(201);
    const { res, json } = await postJson('wellhello', valid('John@Mail.com'), WELLHELLO_KEY);
    expect(res.status).toBe(409);
    const message = "Another user with the email 'John@Mail.com' already exists";
    expect(json.data).toEqual({ error: message, exception: { message, code: 409 } });
    const other = await postJson('lovecrush', { ...valid('john@mail.com'), affise_affiliate_id: 1001 }, LOVECRUSH_KEY);
    expect(other.res.status).toBe(201);
  });

  it('429 past the per-minute limit, counting only authorized requests', async () => {
    await call('tiny', form(valid()), { key: 'wrong' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await postJson('tiny', valid(`u${i}@mail.com`), 'tiny-key')).res.status);
    }
    expect(statuses).toEqual([201, 201, 429]);
    const limited = await postJson('tiny', valid('u9@mail.com'), 'tiny-key');
    expect(limited.json.data).toEqual({ error: 'Too Many Requests' });
    expect(Number(limited.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await getJson('/_emulator/requests')).toEqual({ wellhello: 0, lovecrush: 0, private: 0, tiny: 5 });
  });

  it('500 and 503 while an outage is on, normal again once it is off', async () => {
    const outage = (status: number | null) =>
      fetch(`${emulator.url}/_emulator/outage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'wellhello', status }),
      });
    for (const status of [503, 500]) {
      expect((await outage(status)).status).toBe(200);
      const { res, json } = await postJson('wellhello', valid(), WELLHELLO_KEY);
      expect(res.status).toBe(status);
      expect(json.success).toBe(false);
    }
    expect((await postJson('lovecrush', { ...valid(), affise_affiliate_id: '1001' }, LOVECRUSH_KEY)).res.status).toBe(201);
    await outage(null);
    expect((await postJson('wellhello', valid(), WELLHELLO_KEY)).res.status).toBe(201);
    expect((await outage(404)).status).toBe(400);
  });
});

describe('emulator internals', () => {
  it('parses bracket keys of a form body into a map', () => {
    expect(parseForm('tracking%5Bclickid%5D=1234-4567&tracking[b]=2&email=a%40b.c')).toEqual({
      tracking: { clickid: '1234-4567', b: '2' },
      email: 'a@b.c',
    });
  });

  it('is 18 on the 18th birthday, and a 29 February child on 1 March', () => {
    const born = parseCalendarDate('2000-06-15')!;
    expect(isAdult(born, new Date('2018-06-15T00:00:00Z'))).toBe(true);
    expect(isAdult(born, new Date('2018-06-14T23:59:59Z'))).toBe(false);
    const leap = parseCalendarDate('2004-02-29')!;
    expect(isAdult(leap, new Date('2022-02-28T12:00:00Z'))).toBe(false);
    expect(isAdult(leap, new Date('2022-03-01T00:00:00Z'))).toBe(true);
    expect(parseCalendarDate('2001-02-29')).toBeNull();
  });

  it('refuses a bad site list', async () => {
    await expect(
      startDatingEmulator({ sites: [{ id: '_emulator', apiKey: 'k', ipWhitelist: ['*'], perMinuteLimit: 1 }] }),
    ).rejects.toBeInstanceOf(DatingEmulatorConfigError);
  });

  it('never logs an API key or a password', () => {
    const all = logLines.join('\n');
    expect(all).toContain('dating user created');
    expect(all).not.toContain(WELLHELLO_KEY);
    expect(all).not.toContain(LOVECRUSH_KEY);
    expect(all).not.toContain(PASSWORD);
  });
});
