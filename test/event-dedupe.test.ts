import { describe, expect, it } from 'vitest';
import { AccountEvents } from '../src/events/account-events.js';
import { type BusMessage, decodeMessage, encodeMessage, endsSession } from '../src/events/bus.js';
import { MemoryEventBus } from '../src/events/memory-bus.js';
import type { AccountEvent } from '../src/domain/account-events.js';
import { decodeEventId, encodeEventId } from '../src/events/event-id.js';
import { AdmissionQueue } from '../src/events/admission.js';
import { BoundedQueue } from '../src/events/queue.js';
import { createLogger } from '../src/infra/logger.js';
import { SESSION_EXPIRED_CLOSE } from '../src/emulator/account/push.js';
import { closedForEndedSession, parsePushFrame, pushSocketUrl, SESSION_EXPIRED_CLOSE_CODE } from '../src/upstream/account/push.js';
import { ticketWire } from '../src/upstream/account/wire.js';

/**
 * The pieces of `accountEvents` that need no server: each upstream event
 * appended to the user's log once, however often it is relayed or replayed
 * (the one dedupe, by upstream id), and delivered in the log's order; the
 * bounded buffer, push frame parsing, bus messages.
 */

const settings = (firstName: string) => ({
  firstName, lastName: null, avatar: null, sex: 'NOT_SET' as const, news: false,
  consents: { socioDemographic: false, webActivity: false, socialProfiles: false, personalityProfiling: false, biometrics: false },
  language: null, birthday: null, datingModel: null, email: null, phone: null,
});
let n = 0;
const up = (firstName: string): [AccountEvent] => [{ type: 'SettingsUpdated', settings: settings(firstName), id: String(++n).padStart(12, '0'), at: new Date() }];
const upstream = (event: AccountEvent): BusMessage => ({ origin: 'upstream', event });

const relayOptions = {
  // The relay never gets a ticket here: only the bus matters.
  account: { websocketTicket: () => new Promise<never>(() => undefined), getUser: () => new Promise<never>(() => undefined) },
  heartbeatMs: 60_000, reconnectMinMs: 1000, reconnectMaxMs: 1000, maxFrameBytes: 1 << 20, sessionCheckMs: 0,
};

function accountEvents(bus: MemoryEventBus, bufferSize = 100, logger = createLogger({ level: 'silent' })): AccountEvents {
  return new AccountEvents({
    bus, logger, bufferSize, sessionFreshMs: 0, pushOpensPerSecond: 100, relay: relayOptions,
    admission: { concurrency: 1, maxWaiting: 10, deadlineMs: 1000 },
  });
}

describe('one source, one dedupe: the upstream id, when appended', () => {
  it('an upstream event relayed by several instances, or replayed after a reconnect, is appended once; a subscriber gets each once, in the upstream\'s order', async () => {
    const bus = new MemoryEventBus({ retentionMs: 60_000, maxEntries: 100, seenMs: 60_000 });
    const events = accountEvents(bus);
    const subscription = await events.subscribe('a-session', 'user-1');
    const [a] = up('A');
    const [b] = up('B');
    const [c] = up('C');
    // Instance 1 relays A, B; instance 2's socket replays A, B (resume_after older), then both relay C.
    const appended = [];
    for (const event of [a, b, a, b, c, c]) appended.push(await bus.append('user-1', upstream(event)));
    expect(appended.map((entry) => entry !== null)).toEqual([true, true, false, false, true, false]);
    const names: string[] = [];
    for (let i = 0; i < 3; i += 1) names.push(((await subscription.next()).value as { settings: { firstName: string } }).settings.firstName);
    expect(names).toEqual(['A', 'B', 'C']);
    expect(await bus.lastUpstreamId('user-1')).toBe(c.id);
    await subscription.return!();
    await events.close();
  });

  it('a resumed subscription gets what came after its cursor, once, even when a copy of an earlier event is relayed again meanwhile', async () => {
    const bus = new MemoryEventBus({ retentionMs: 60_000, maxEntries: 100, seenMs: 60_000 });
    const events = accountEvents(bus);
    const [a] = up('A');
    const [b] = up('B');
    const first = (await bus.append('user-1', upstream(a)))!;
    await bus.append('user-1', upstream(b));
    expect(await bus.append('user-1', upstream(a))).toBeNull();
    const subscription = await events.subscribe('a-session', 'user-1', encodeEventId('user-1', first));
    const next = (await subscription.next()).value as AccountEvent & { settings: { firstName: string } };
    expect(next.settings.firstName).toBe('B');
    expect(decodeEventId(next.id, 'user-1')).not.toBeNull();
    await subscription.return!();
    await events.close();
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
    const bus = new MemoryEventBus({ retentionMs: 60_000, maxEntries: 100, seenMs: 60_000 });
    const events = accountEvents(bus, 3, createLogger({ level: 'debug', write: (line) => lines.push(line) }));
    const subscription = await events.subscribe('session-token-of-a-slow-client', 'user-1');
    for (let i = 1; i <= 10; i += 1) {
      await bus.append('user-1', upstream({ type: 'Notification', notificationId: `n${i}`, kind: 'k', title: `t${i}`, body: 'b', id: `n${i}`, at: new Date() }));
    }
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

describe('the admission line', () => {
  it('a waiter past its deadline leaves the line at once; the others start in their order', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxWaiting: 20_000, deadlineMs: 60_000 });
    let unblock: () => void = () => undefined;
    const running = queue.run(() => new Promise<void>((resolve) => (unblock = resolve)));
    const started: number[] = [];
    const waiters = Array.from({ length: 20_000 }, (_, i) =>
      // Every other waiter gives up almost at once.
      queue.run(async () => void started.push(i), i % 2 === 0 ? 5 : 60_000).then(() => 'ran', (error: Error) => error.constructor.name),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 10_000, timedOut: 10_000 });
    unblock();
    await running;
    const outcomes = await Promise.all(waiters);
    expect(outcomes.filter((o) => o === 'AdmissionTimeout')).toHaveLength(10_000);
    expect(started).toEqual(Array.from({ length: 10_000 }, (_, i) => 2 * i + 1));
    expect(queue.stats()).toMatchObject({ running: 0, waiting: 0 });
  });
});
