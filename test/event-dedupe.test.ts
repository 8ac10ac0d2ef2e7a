import { describe, expect, it } from 'vitest';
import { AccountEvents } from '../src/events/account-events.js';
import { decodeMessage, encodeMessage, endsSession } from '../src/events/bus.js';
import { MemoryEventBus } from '../src/events/memory-bus.js';
import { EventDedupe } from '../src/events/dedupe.js';
import type { AccountEvent, EventOrigin } from '../src/domain/account-events.js';
import { BoundedQueue } from '../src/events/queue.js';
import { createLogger } from '../src/infra/logger.js';
import { SESSION_EXPIRED_CLOSE } from '../src/emulator/account/push.js';
import { closedForEndedSession, parsePushFrame, pushSocketUrl, SESSION_EXPIRED_CLOSE_CODE } from '../src/upstream/account/push.js';
import { ticketWire } from '../src/upstream/account/wire.js';

/**
 * The pieces of `accountEvents` that need no server: the dedupe rules in
 * every interleaving of a mutation's event and its upstream echo, the
 * bounded buffer, push frame parsing, bus messages.
 */

const settings = (firstName: string) => ({
  firstName, lastName: null, avatar: null, sex: 'NOT_SET' as const, news: false,
  consents: { socioDemographic: false, webActivity: false, socialProfiles: false, personalityProfiling: false, biometrics: false },
  language: null, birthday: null, datingModel: null, email: null, phone: null,
});
let n = 0;
const up = (firstName: string): [AccountEvent, EventOrigin] => [{ type: 'SettingsUpdated', settings: settings(firstName), id: String(++n).padStart(12, '0'), at: new Date() }, 'upstream'];
const gw = (firstName: string): [AccountEvent, EventOrigin] => [{ type: 'SettingsUpdated', settings: settings(firstName), id: `gw-${++n}`, at: new Date() }, 'gateway'];

/** Feeds the events in order; answers the first names delivered. */
function deliver(events: Array<[AccountEvent, EventOrigin]>, now = () => 0): string[] {
  const dedupe = new EventDedupe({ windowMs: 1000, maxEntries: 100, now });
  return events.filter(([event, origin]) => dedupe.admit(event, origin)).map(([event]) => (event as { settings: { firstName: string } }).settings.firstName);
}

describe('EventDedupe', () => {
  it('a mutation\'s event, then its upstream echo: once', () => {
    expect(deliver([gw('B'), up('B')])).toEqual(['B']);
  });

  it('the echo first (the relay beat the mutation\'s answer), then the mutation\'s event: once', () => {
    expect(deliver([up('B'), gw('B')])).toEqual(['B']);
  });

  it('the same upstream event relayed by several instances: once', () => {
    const event = up('B');
    expect(deliver([event, event, event])).toEqual(['B']);
  });

  it('a no-op mutation (no echo ever comes) does not hide a later real change back to the same state', () => {
    expect(deliver([gw('B'), up('A'), up('B')])).toEqual(['B', 'A', 'B']);
  });

  it('a mutation equal to what the client last saw is dropped', () => {
    expect(deliver([up('B'), up('A'), up('B'), gw('B')])).toEqual(['B', 'A', 'B']);
  });

  it('a late copy of an old change never rolls the client back', () => {
    // Upstream: #1 B (a mutation), #2 A (elsewhere); the mutation's own event arrives last.
    expect(deliver([up('B'), up('A'), gw('B')])).toEqual(['B', 'A']);
  });

  it('two racing mutations whose events arrive in the other order: the upstream order wins at the end', () => {
    // Upstream applied C then B; the gateway events arrived B then C.
    const seen = deliver([gw('B'), gw('C'), up('C'), up('B')]);
    expect(seen.at(-1)).toBe('B');
  });

  it('echoes that come late, after later mutations were shown (the relay was down): nothing repeats', () => {
    expect(deliver([gw('A'), gw('B'), gw('C'), up('A'), up('B'), up('C')])).toEqual(['A', 'B', 'C']);
    // A change made elsewhere between them upstream still shows, in the upstream's order.
    expect(deliver([gw('A'), gw('B'), up('A'), up('X'), up('B')]).at(-1)).toBe('B');
  });

  it('ContactVerified is an occurrence: two verifications of one channel are two events', () => {
    const dedupe = new EventDedupe({ windowMs: 1000, maxEntries: 100 });
    const verified = (id: string): AccountEvent => ({ type: 'ContactVerified', channel: 'EMAIL', id, at: new Date() });
    expect([
      dedupe.admit(verified('gw-1'), 'gateway'),
      dedupe.admit(verified('000000000001'), 'upstream'),
      dedupe.admit(verified('000000000002'), 'upstream'),
    ]).toEqual([true, false, true]);
  });

  it('a snapshot equal to the one shown is not repeated, even after the window', () => {
    let now = 0;
    expect(deliver([gw('Late'), up('Late')], () => (now += 5000))).toEqual(['Late']);
  });

  it('forgets occurrences after the window: an echo later than that is delivered again', () => {
    let now = 0;
    const dedupe = new EventDedupe({ windowMs: 1000, maxEntries: 100, now: () => now });
    const verified = (id: string): AccountEvent => ({ type: 'ContactVerified', channel: 'PHONE', id, at: new Date() });
    expect(dedupe.admit(verified('gw-9'), 'gateway')).toBe(true);
    now = 5000;
    expect(dedupe.admit(verified('000000000009'), 'upstream')).toBe(true);
  });

  it('keeps at most maxEntries ids', () => {
    const dedupe = new EventDedupe({ windowMs: 60_000, maxEntries: 2 });
    const note = (id: string): AccountEvent => ({ type: 'Notification', notificationId: id, kind: 'k', title: id, body: '', id, at: new Date() });
    expect(['1', '2', '3', '1'].map((id) => dedupe.admit(note(id), 'upstream'))).toEqual([true, true, true, true]);
  });
});

describe('BoundedQueue', () => {
  it('drops the oldest item beyond its capacity, and drains before it ends', async () => {
    const dropped: number[] = [];
    let closed = 0;
    const queue = new BoundedQueue<number>({ capacity: 3, onDrop: (item) => dropped.push(item), onClose: () => (closed += 1) });
    for (let i = 1; i <= 5; i += 1) queue.push(i);
    queue.end();
    queue.push(6);
    const taken: number[] = [];
    for await (const item of queue) taken.push(item);
    expect(taken).toEqual([3, 4, 5]);
    expect(dropped).toEqual([1, 2]);
    expect(closed).toBe(1);
  });

  it('return() ends a waiting consumer at once', async () => {
    const queue = new BoundedQueue<number>({ capacity: 3 });
    const waiting = queue.next();
    await queue.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});

describe('a slow subscriber', () => {
  it('keeps the newest SUBSCRIPTIONS_BUFFER_SIZE events and logs the drop', async () => {
    const lines: string[] = [];
    const events = new AccountEvents({
      bus: new MemoryEventBus({ retentionMs: 60_000, maxEntries: 100, seenMs: 60_000 }),
      logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
      bufferSize: 3,
      dedupeWindowMs: 60_000,
      sessionFreshMs: 0,
      admission: { concurrency: 1, maxWaiting: 10, deadlineMs: 1000 },
      pushOpensPerSecond: 100,
      // The relay never gets a ticket here: only the bus matters.
      relay: { account: { websocketTicket: () => new Promise(() => undefined), getUser: () => new Promise(() => undefined) }, heartbeatMs: 60_000, reconnectMinMs: 1000, reconnectMaxMs: 1000, maxFrameBytes: 1 << 20, sessionCheckMs: 0 },
    });
    const subscription = await events.subscribe('session-token-of-a-slow-client', 'user-1');
    for (let i = 1; i <= 10; i += 1) await events.publish('user-1', { type: 'Notification', notificationId: `n${i}`, kind: 'k', title: `t${i}`, body: 'b' });
    const first = await subscription.next();
    expect(first.value).toMatchObject({ title: 't8' });
    expect(lines.filter((l) => l.includes('slow subscriber'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('session-token-of-a-slow-client');
    await subscription.return!();
    expect(events.stats()).toEqual({ subscriptions: 0, users: 0, relays: 0 });
    await events.close();
  });
});

describe('push frames and bus messages', () => {
  it('parse upstream frames into events, without upstream names', () => {
    const frame = parsePushFrame(JSON.stringify({ id: '000000000007', event: 'products.updated', at: '2026-01-02T03:04:05Z', data: { modules: ['dating'] } }));
    expect(frame).toEqual({ kind: 'event', event: { type: 'ProductsUpdated', activeProductIds: ['dating'], id: '000000000007', at: new Date('2026-01-02T03:04:05Z') } });
    expect(parsePushFrame(JSON.stringify({ id: '8', event: 'user.verified', at: '2026-01-02T03:04:05Z', data: { channel: 'phone' } }))).toMatchObject({ event: { type: 'ContactVerified', channel: 'PHONE' } });
    expect(parsePushFrame(JSON.stringify({ id: '9', event: 'toString', at: '2026-01-02T03:04:05Z', data: {} }))).toEqual({ kind: 'unknown', id: '9', name: 'toString' });
    expect(parsePushFrame('{"id":1}').kind).toBe('invalid');
    expect(parsePushFrame('not json').kind).toBe('invalid');
  });

  it('the push socket: a ticket\'s URL only if ws(s) or http(s), opened as ws(s); the close code of an ended session', () => {
    for (const url of ['not a url', 'ftp://127.0.0.1/ws', 'javascript:alert(1)', '']) expect(ticketWire.safeParse({ url, ticket: 'x' }).success, url).toBe(false);
    for (const url of ['ws://127.0.0.1:1/ws', 'wss://push.example.com/ws', 'http://127.0.0.1:1/ws', 'https://push.example.com/ws']) expect(ticketWire.safeParse({ url, ticket: 'x' }).success, url).toBe(true);
    expect(pushSocketUrl({ url: 'https://push.example.com/ws?v=2', ticket: 't 1' })).toBe('wss://push.example.com/ws?v=2&ticket=t+1');
    expect(pushSocketUrl({ url: 'http://127.0.0.1:1/ws', ticket: 't' })).toBe('ws://127.0.0.1:1/ws?ticket=t');
    expect(() => pushSocketUrl({ url: 'ftp://127.0.0.1/ws', ticket: 't' })).toThrow();
    // The gateway's knowledge of the upstream close code is the emulator's (the contract, shared/UPSTREAM.md §1).
    expect(SESSION_EXPIRED_CLOSE_CODE).toBe(SESSION_EXPIRED_CLOSE);
    expect(closedForEndedSession(SESSION_EXPIRED_CLOSE)).toBe(true);
    expect(closedForEndedSession(1006)).toBe(false);
  });

  it('SessionExpired on the bus ends the sessions it names: one, or all of the user\'s but one, or all', () => {
    const event = { type: 'SessionExpired' as const, id: 'gw-1', at: new Date('2026-01-02T03:04:05Z') };
    const one = { origin: 'gateway' as const, event, sessionKey: 'k1' };
    const allBut = { origin: 'gateway' as const, event, allSessions: { except: 'k2' } };
    const all = { origin: 'gateway' as const, event, allSessions: { except: null } };
    for (const message of [one, allBut, all]) expect(decodeMessage(encodeMessage(message))).toEqual(message);
    expect(['k1', 'k2', 'k3'].map((key) => [endsSession(one, key), endsSession(allBut, key), endsSession(all, key)])).toEqual([
      [true, true, true],
      [false, false, true],
      [false, true, true],
    ]);
    expect(endsSession({ origin: 'gateway', event }, 'k1')).toBe(false);
    expect(endsSession({ origin: 'gateway', event: up('x')[0], allSessions: { except: null } }, 'k1')).toBe(false);
  });

  it('bus messages survive the trip and refuse anything else', () => {
    const message = { origin: 'upstream' as const, event: up('Bus')[0], sessionKey: 'k' };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
    expect(decodeMessage('{"origin":"upstream","event":{"id":"1","at":"x","type":"SettingsUpdated"}}')).toBeNull();
    expect(decodeMessage('{"origin":"elsewhere"}')).toBeNull();
  });
});
