import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatingSiteEmulation } from '../src/emulator/dating/sites.js';
import type { Gateway } from '../src/gateway.js';
import { redisForTests } from './support/redis.js';
import { gatewayLogLines } from './support/harness.js';
import { gql, startGateway, type Stack, startStack } from './support/gateway.js';
import { type SignedUpUser, signUp, uniqueEmail } from './support/users.js';
import { startStubSite, type StubSite } from './support/stub-site.js';

/* joinDating across both APIs: activation, the site's answer, undo, idempotency (memory and Redis). */

const SITES: DatingSiteEmulation[] = [
  { id: 'open', apiKey: 'open-site-secret-key', ipWhitelist: ['127.0.0.1', '::1'], perMinuteLimit: 500, paymentLinks: true },
  { id: 'down', apiKey: 'down-site-secret-key', ipWhitelist: ['127.0.0.1', '::1'], perMinuteLimit: 500 },
];
/** Sites on a stub (test/support/stub-site.ts): a slow 201, one past a 300 ms timeout, a 400 echoing the key and the password. */
const STUB_SITES = ['slow300', 'slow600', 'echo400'];
const stubKey = (id: string) => `${id}-stub-secret-key-${process.pid}`;

const JOIN = `mutation($input: JoinDatingInput!) { joinDating(input: $input) {
  __typename
  ... on JoinDatingSuccess { productActivated replayed datingUser { site { id } userEmail autoLoginUrl paymentLinks { product } } }
  ... on DatingRefused { message productDeactivated replayed site { id } reason { __typename ... on Error { message } ... on ValidationError { fieldErrors { path message } } } }
  ... on ValidationError { fieldErrors { path message } }
  ... on JoinDatingInProgress { retryAfterSeconds }
  ... on JoinDatingOutcomeUnknown { message productActivated replayed site { id } }
  ... on ProductNotFound { message }
} }`;

let stack: Stack;
let stub: StubSite;

const join = (url: string, who: SignedUpUser, input: Record<string, unknown>) =>
  gql(url, JOIN, { input: { site: 'open', password: 'dating-pass-1', idempotencyKey: randomUUID(), ...input } }, { token: who.token });

async function activeProducts(who: SignedUpUser): Promise<string[]> {
  const res = await stack.gql('{ viewer { activeProductIds } }', {}, { token: who.token });
  return res.data.viewer.activeProductIds;
}

/** A verified account with these settings. */
async function account(settings: Record<string, unknown> = { sex: 'CISGENDER_WOMAN', birthday: '1990-04-17' }): Promise<SignedUpUser> {
  const who = await signUp(stack);
  if (Object.keys(settings).length > 0) {
    const res = await stack.gql(
      'mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { __typename } }',
      { input: settings },
      { token: who.token },
    );
    expect(res.data.updateSettings.__typename).toBe('UpdateSettingsSuccess');
  }
  return who;
}

const datingUsersWith = async (email: string) =>
  (await stack.dating!.users('open')).filter((u) => u.email.toLowerCase() === email.toLowerCase());

/** Create-user requests the emulator's site `open` received so far. */
const openRequests = async () => (await stack.dating!.requests()).open ?? 0;

beforeAll(async () => {
  stub = await startStubSite();
  stack = await startStack({}, {
    dating: SITES,
    datingSites: (url) => [
      ...SITES.map((s) => ({ id: s.id, name: s.id, baseUrl: `${url}/${s.id}`, apiKey: s.apiKey })),
      ...STUB_SITES.map((id) => ({ id, name: id, baseUrl: `${stub.url}/${id}`, apiKey: stubKey(id) })),
    ],
  });
});

describe('joinDating', () => {
  it('activates dating and creates the user from the account', async () => {
    const who = await account();
    const res = await join(stack.url, who, { tracking: [{ key: 'clickid', value: 'c-1' }] });
    expect(res.data.joinDating).toMatchObject({
      __typename: 'JoinDatingSuccess',
      productActivated: true,
      replayed: false,
      datingUser: { site: { id: 'open' }, userEmail: who.email, paymentLinks: [{ product: 'premium' }] },
    });
    expect(await activeProducts(who)).toContain('dating');
    expect(await datingUsersWith(who.email)).toMatchObject([{ gender: 'female', birth_date: '1990-04-17', client_ip: '127.0.0.1', tracking: { clickid: 'c-1' } }]);
  });

  it('deactivates dating again when the site answers 409, and says so', async () => {
    const who = await account({ sex: 'TRANSGENDER_MAN', birthday: '1985-01-02' });
    await join(stack.url, await account(), { email: who.email }); // someone took the email on the site
    const res = await join(stack.url, who, {});
    expect(res.data.joinDating).toMatchObject({
      __typename: 'DatingRefused',
      productDeactivated: true,
      site: { id: 'open' },
      reason: { __typename: 'AlreadyRegistered' },
      message: expect.stringContaining('deactivated again'),
    });
    expect(await activeProducts(who)).not.toContain('dating');
  });

  it('leaves dating active when it was active before the call', async () => {
    const who = await account();
    await stack.gql('mutation { activateProduct(input: { productId: "dating" }) { __typename } }', {}, { token: who.token });
    const res = await join(stack.url, who, { email: 'someone@invalid.test' });
    expect(res.data.joinDating).toMatchObject({ __typename: 'DatingRefused', productDeactivated: false, reason: { __typename: 'EmailRejected' } });
    expect(await activeProducts(who)).toContain('dating');
  });

  it('asks for what the account cannot supply, before any call', async () => {
    const who = await account({ sex: 'NON_BINARY' });
    const before = await stack.dating!.requests();
    const res = await join(stack.url, who, {});
    expect(res.data.joinDating.__typename).toBe('ValidationError');
    expect(res.data.joinDating.fieldErrors.map((e: { path: string[] }) => e.path[0]).sort()).toEqual(['birthDate', 'gender']);
    expect(await stack.dating!.requests()).toEqual(before);
    expect(await activeProducts(who)).not.toContain('dating');
    const given = await join(stack.url, who, { gender: 'COUPLE', birthDate: '1970-05-06' });
    expect(given.data.joinDating.__typename).toBe('JoinDatingSuccess');
    expect(await datingUsersWith(who.email)).toMatchObject([{ gender: 'couple', birth_date: '1970-05-06' }]);
  });

  it('needs a session', async () => {
    const res = await gql(stack.url, JOIN, { input: { site: 'open', password: 'dating-pass-1', idempotencyKey: 'k-1' } });
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('undoes the activation when the site fails, and frees the key for a retry', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    await stack.dating!.outage('down', 503);
    try {
      const failed = await join(stack.url, who, { site: 'down', idempotencyKey });
      expect(failed.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(await activeProducts(who)).not.toContain('dating');
    } finally {
      await stack.dating!.outage('down', null);
    }
    const retried = await join(stack.url, who, { site: 'down', idempotencyKey });
    expect(retried.data.joinDating).toMatchObject({ __typename: 'JoinDatingSuccess', replayed: false });
  });

  it('keeps dating active for a concurrent join of the same user when another join is refused', async () => {
    const who = await account();
    const [slow, refused] = await Promise.all([
      join(stack.url, who, { site: 'slow300' }),
      join(stack.url, who, { email: 'someone@invalid.test' }),
    ]);
    expect(slow.data.joinDating).toMatchObject({ __typename: 'JoinDatingSuccess', productActivated: true });
    expect(refused.data.joinDating).toMatchObject({ __typename: 'DatingRefused', reason: { __typename: 'EmailRejected' } });
    // Whichever ran first, the success found dating inactive (the refusal undid its own activation) and activated it.
    expect(await activeProducts(who)).toContain('dating');
  });

  it('passes on and keeps no text of the site: a replay with another password gives the first one back nowhere', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const first = await join(stack.url, who, { site: 'echo400', idempotencyKey, password: 'First-Pw-7781' });
    expect(first.data.joinDating).toMatchObject({
      __typename: 'DatingRefused',
      replayed: false,
      reason: { __typename: 'ValidationError', fieldErrors: [{ path: ['password'] }, { path: ['nickname'] }, { path: [] }] },
    });
    const again = await join(stack.url, who, { site: 'echo400', idempotencyKey, password: 'Second-Pw-7782' });
    expect(again.data.joinDating).toEqual({ ...first.data.joinDating, replayed: true });
    expect(stub.requests('echo400')).toBe(1);
    for (const res of [first, again]) {
      expect(JSON.stringify(res)).not.toContain('First-Pw-7781');
      expect(JSON.stringify(res)).not.toContain(stubKey('echo400'));
    }
  });
});

describe('joinDating when the site times out', () => {
  let slow: { url: string; gateway: Gateway };
  beforeAll(async () => {
    slow = await startGateway({ ...stack.env, UPSTREAM_TIMEOUT_MS: '300' }, 'timeout-300');
  });

  it('answers JoinDatingOutcomeUnknown, keeps it for the key and never posts again', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const first = await join(slow.url, who, { site: 'slow600', idempotencyKey });
    expect(first.data.joinDating).toMatchObject({
      __typename: 'JoinDatingOutcomeUnknown',
      site: { id: 'slow600' },
      productActivated: true,
      replayed: false,
      message: expect.stringContaining('contact support'),
    });
    expect(await activeProducts(who)).toContain('dating');
    const again = await join(slow.url, who, { site: 'slow600', idempotencyKey });
    expect(again.data.joinDating).toEqual({ ...first.data.joinDating, replayed: true });
    expect(stub.requests('slow600')).toBe(1);
    const alert = gatewayLogLines().map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'joinDating cannot tell whether the dating site created the user');
    expect(alert).toMatchObject({ alert: true, site: 'slow600', error: 'UpstreamTimeout' });
  });
});

describe('joinDating idempotency', () => {
  it('returns the first outcome to a repeat, creating one dating user', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const before = await openRequests();
    const first = await join(stack.url, who, { idempotencyKey });
    const again = await join(stack.url, who, { idempotencyKey });
    expect(again.data.joinDating).toEqual({ ...first.data.joinDating, replayed: true });
    expect(await openRequests()).toBe(before + 1);
    expect(await datingUsersWith(who.email)).toHaveLength(1);
  });

  it('replays a refusal too, and refuses the key for a different request', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const first = await join(stack.url, who, { idempotencyKey, email: 'x@invalid.test' });
    expect(first.data.joinDating).toMatchObject({ __typename: 'DatingRefused', productDeactivated: true, replayed: false });
    const again = await join(stack.url, who, { idempotencyKey, email: 'x@invalid.test' });
    expect(again.data.joinDating).toMatchObject({ __typename: 'DatingRefused', productDeactivated: true, replayed: true, reason: { __typename: 'EmailRejected' } });
    const other = await join(stack.url, who, { idempotencyKey, email: uniqueEmail() });
    expect(other.data.joinDating).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['idempotencyKey'] }] });
  });

  it('creates one dating user for concurrent calls with one key', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const before = await openRequests();
    const results = await Promise.all(Array.from({ length: 4 }, () => join(stack.url, who, { idempotencyKey })));
    const kinds = results.map((r) => r.data.joinDating.__typename);
    expect(kinds.every((k) => k === 'JoinDatingSuccess')).toBe(true);
    expect(results.filter((r) => !r.data.joinDating.replayed)).toHaveLength(1);
    // The emulator answers a second create-user with this email 409, so the request count is what proves one call.
    expect(await openRequests()).toBe(before + 1);
    expect(await datingUsersWith(who.email)).toHaveLength(1);
  });
});

/** The tests' Redis (test/support/redis.ts): skipped with the reason printed when unreachable, failing under CI. */
const redisForFile = await redisForTests('join-dating');
const REDIS_URL = redisForFile.url;
const redisDown = redisForFile.problem;

describe.skipIf(redisForFile.skip)('joinDating idempotency across gateway instances (Redis)', () => {
  const gateways: { url: string; gateway: Gateway }[] = [];
  const prefix = redisForFile.keyPrefix('idempotency');
  beforeAll(async () => {
    expect(redisDown, `Redis at ${REDIS_URL}`).toBeNull();
    for (const name of ['a', 'b']) {
      gateways.push(await startGateway({ ...stack.env, REDIS_URL, REDIS_KEY_PREFIX: prefix, IDEMPOTENCY_TTL_SECONDS: '60' }, name));
    }
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.gateway.stop()));
  });

  it('creates one dating user for one key sent to two gateways at once, then replays it on either', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const before = await openRequests();
    const results = await Promise.all(gateways.flatMap((g) => [join(g.url, who, { idempotencyKey }), join(g.url, who, { idempotencyKey })]));
    expect(results.map((r) => r.data.joinDating.__typename)).toEqual(Array(4).fill('JoinDatingSuccess'));
    expect(results.filter((r) => !r.data.joinDating.replayed)).toHaveLength(1);
    const later = await join(gateways[1]!.url, who, { idempotencyKey });
    expect(later.data.joinDating).toMatchObject({ replayed: true, datingUser: results[0]!.data.joinDating.datingUser });
    expect(await openRequests()).toBe(before + 1);
    expect(await datingUsersWith(who.email)).toHaveLength(1);
  });

  it('serializes the joins of one user across instances: a refusal on one leaves dating active for the other', async () => {
    const who = await account();
    const [slow, refused] = await Promise.all([
      join(gateways[0]!.url, who, { site: 'slow300' }),
      join(gateways[1]!.url, who, { email: 'someone@invalid.test' }),
    ]);
    expect(slow.data.joinDating).toMatchObject({ __typename: 'JoinDatingSuccess', productActivated: true });
    expect(refused.data.joinDating).toMatchObject({ __typename: 'DatingRefused', reason: { __typename: 'EmailRejected' } });
    expect(await activeProducts(who)).toContain('dating');
  });

  it('stores no text of the site in Redis', async () => {
    const who = await account();
    const idempotencyKey = randomUUID();
    const res = await join(gateways[0]!.url, who, { site: 'echo400', idempotencyKey, password: 'Redis-Pw-5521' });
    expect(res.data.joinDating.__typename).toBe('DatingRefused');
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}idempotency:joinDating:*`);
      const values = await Promise.all(keys.map((k) => redis.get(k)));
      const kept = values.find((v) => v?.includes('echo400'));
      expect(kept).toBeDefined();
      for (const value of values) {
        expect(value).not.toContain('Redis-Pw-5521');
        expect(value).not.toContain(stubKey('echo400'));
        expect(value).not.toContain('too weak');
      }
    } finally {
      await redis.quit();
    }
  });
});
