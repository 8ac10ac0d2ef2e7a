import { beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage } from '../src/events/bus.js';
import { MemoryEventBus } from '../src/events/memory-bus.js';
import { socketsOf } from './support/emulators.js';
import { type Stack, startStack } from './support/gateway.js';
import { waitUntil } from './support/harness.js';
import { ACCOUNT_EVENTS, FAST_ENV, idsInOrder, notify, sseSubscribe, subscribe, subscriptionsReady, wsClient } from './support/subscriptions.js';
import { type SignedUpUser, signUp } from './support/users.js';

/**
 * `accountEvents(after:)` on one gateway (the memory bus): replay of what
 * came after an id, then live; EventsMissed for an id the log cannot
 * replay; SSE ids and Last-Event-ID. The retention rules of the log itself
 * are shown on the bus with a clock of the test's own.
 */

describe('accountEvents(after:)', () => {
  let stack: Stack;
  let ann: SignedUpUser;
  let bob: SignedUpUser;
  beforeAll(async () => {
    stack = await startStack(FAST_ENV);
    [ann, bob] = await Promise.all([signUp(stack), signUp(stack)]);
  });

  /** A new socket of `token`, subscribed with `after`. */
  const subscribeAfter = (token: string, after: string) => subscribe(wsClient(stack.url, token).client, ACCOUNT_EVENTS, { after });

  it('replays every event after the given one, once and in order, then goes on live; ids are unique across users', async () => {
    const first = subscribe(wsClient(stack.url, ann.token).client);
    const other = subscribe(wsClient(stack.url, bob.token).client);
    await subscriptionsReady(stack.gateway, 2);
    await Promise.all([socketsOf(stack.emulator.url, ann.userId, 1), socketsOf(stack.emulator.url, bob.userId, 1)]);
    for (const title of ['a1', 'a2', 'a3']) await notify(stack, ann.userId, title);
    await notify(stack, bob.userId, 'b1');
    await first.untilNotification('a3');
    await other.untilNotification('b1');
    expect(new Set([...first.events, ...other.events].map((e) => e.id)).size).toBe(4);

    // Resume after a1 on a new socket: a2, a3 from the log, then a4 live.
    const resumed = subscribeAfter(ann.token, first.events[0].id);
    await resumed.untilNotification('a3');
    await notify(stack, ann.userId, 'a4');
    await resumed.untilNotification('a4');
    await first.untilNotification('a4');
    expect(resumed.events.map((e) => e.title)).toEqual(['a2', 'a3', 'a4']);
    expect(resumed.events.map((e) => e.id)).toEqual(first.events.slice(1).map((e) => e.id));
    expect(idsInOrder(resumed.events, ann.userId)).toBe(true);
  });

  it('an id it cannot replay (another user\'s, made up) gives EventsMissed first, then live events; that id resumes', async () => {
    const bobs = subscribe(wsClient(stack.url, bob.token).client);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, bob.userId, 1);
    await notify(stack, bob.userId, 'for-bob');
    await bobs.untilNotification('for-bob');

    for (const after of [bobs.events[0].id, 'not-an-id', Buffer.from(`x.1-0.${ann.userId}`).toString('base64url')]) {
      const missed = subscribeAfter(ann.token, after);
      await missed.until((e) => e.length === 1, 'EventsMissed');
      expect(missed.events[0].__typename).toBe('EventsMissed');
      expect(missed.errors).toEqual([]);
    }
    const missed = subscribeAfter(ann.token, 'not-an-id');
    await missed.until((e) => e.length === 1, 'EventsMissed');
    await socketsOf(stack.emulator.url, ann.userId, 1);
    await notify(stack, ann.userId, 'after-the-gap');
    await missed.untilNotification('after-the-gap');
    // The EventsMissed id is a valid `after`: resuming from it replays what came since.
    const resumed = subscribeAfter(ann.token, missed.events[0].id);
    await resumed.untilNotification('after-the-gap');
    expect(resumed.typenames()).toEqual(['Notification']);
  });

  // The reconnect a fetch-based SSE client makes (@microsoft/fetch-event-source resends the last `id:` as
  // Last-Event-ID, with its Authorization): a browser EventSource would send the header but no session.
  it('over SSE each event has an `id:` line, and a fetch reconnect with Authorization and Last-Event-ID resumes after it', async () => {
    const sse = await sseSubscribe(stack.url, ann.token);
    await subscriptionsReady(stack.gateway, 1);
    await socketsOf(stack.emulator.url, ann.userId, 1);
    await notify(stack, ann.userId, 'sse-1');
    await sse.untilNotification('sse-1');
    const id = sse.events[0].id as string;
    expect(sse.text).toContain(`id: ${id}\nevent: next\n`);
    sse.close();
    await subscriptionsReady(stack.gateway, 0);
    await notify(stack, ann.userId, 'sse-2');

    const controller = new AbortController();
    const res = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ann.token}`, 'last-event-id': id },
      body: JSON.stringify({ query: ACCOUNT_EVENTS }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    await waitUntil(async () => {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
      return text.includes('sse-2');
    }, 'sse-2 replayed');
    controller.abort();
    expect(text).not.toContain('sse-1');
  });
});

describe('the memory log\'s retention', () => {
  const message = (title: string): BusMessage => ({
    origin: 'upstream',
    event: { type: 'Notification', notificationId: title, kind: 'k', title, body: '', id: title, at: new Date(0) },
  });

  it('replays within the window; an older cursor, or one before entries trimmed for the count, is missed', async () => {
    let now = 1_000_000;
    const bus = new MemoryEventBus({ retentionMs: 10_000, maxEntries: 3, seenMs: 10_000 }, () => now);
    const first = (await bus.append('u', message('1')))!;
    now += 1;
    await bus.append('u', message('2'));
    const replay = await bus.read('u', first);
    expect(replay.kind === 'replay' && replay.entries.map((e) => e.message.event.id)).toEqual(['2']);
    // The same upstream event relayed twice is appended once.
    expect(await bus.append('u', message('2'))).toBeNull();
    expect(await bus.lastUpstreamId('u')).toBe('2');

    now += 10_001;
    expect((await bus.read('u', first)).kind).toBe('missed');
    const latest = (await bus.append('u', message('3')))!;
    for (const id of ['4', '5', '6']) await bus.append('u', message(id));
    expect((await bus.read('u', latest)).kind).toBe('missed'); // '4' was trimmed: 3 entries kept
    expect((await bus.read('u', { epoch: 'another', position: latest.position })).kind).toBe('missed');
    await bus.close();
  });
});
