import { z } from 'zod';
import { CLOSE } from '../../domain/close-codes.js';
import type { AccountEvent, AccountEventData } from '../../domain/account-events.js';
import { channel, settingsWire } from './wire.js';

/**
 * The Account API's push websocket (shared/UPSTREAM.md §1, "The websocket",
 * chosen): the socket URL of a ticket, the `resume_after` frame and the event
 * frames `{ id, event, at, data }`, each parsed by zod into the gateway's
 * AccountEvent. The only code that knows the upstream event names.
 */

/**
 * Close code of the push socket after `session.expired`: the socket's session
 * has ended (and a new socket needs another session).
 */
export const SESSION_EXPIRED_CLOSE_CODE = CLOSE.sessionEnded;

/** Whether the push socket closed because its session ended. */
export function closedForEndedSession(code: number): boolean {
  return code === SESSION_EXPIRED_CLOSE_CODE;
}

/**
 * `url?ticket=<ticket>` of an answer of `user/auth/websocket`, as a ws(s)
 * URL. `ticketWire` (wire.ts) admits only ws, wss, http and https URLs; an
 * http(s) one is taken for ws(s). Throws on anything else.
 */
export function pushSocketUrl(answer: { url: string; ticket: string }): string {
  const url = new URL(answer.url);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`not a websocket URL scheme: ${url.protocol}`);
  url.searchParams.set('ticket', answer.ticket);
  return url.toString();
}

/**
 * The first frame of a socket: replay what came after `lastId` (kept 5
 * minutes upstream), or nothing (null: from now on). Sent at once, so the
 * upstream never has to guess whether a resume is coming.
 */
export function resumeFrame(lastId: string | null): string {
  return JSON.stringify({ resume_after: lastId });
}


const dataOf = new Map<string, z.ZodType<AccountEventData>>(Object.entries({
  'settings.updated': settingsWire.transform((settings) => ({ type: 'SettingsUpdated' as const, settings })),
  'products.updated': z
    .object({ modules: z.array(z.string()) })
    .transform((d) => ({ type: 'ProductsUpdated' as const, activeProductIds: d.modules })),
  'user.verified': z.object({ channel }).transform((d) => ({ type: 'ContactVerified' as const, channel: d.channel })),
  notification: z
    .object({ id: z.string().min(1), kind: z.string(), title: z.string(), body: z.string() })
    .transform((d) => ({ type: 'Notification' as const, notificationId: d.id, kind: d.kind, title: d.title, body: d.body })),
  'session.expired': z.unknown().transform(() => ({ type: 'SessionExpired' as const })),
}));

const frameWire = z.object({
  id: z.string().min(1).max(200),
  event: z.string().min(1).max(100),
  at: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

export type PushFrame =
  /** A known event, ready for subscribers. */
  | { kind: 'event'; event: AccountEvent }
  /** A well-formed frame of an event this gateway does not know (newer upstream): skipped, but its id counts for resuming. */
  | { kind: 'unknown'; id: string; name: string }
  /** Not a frame of the contract. */
  | { kind: 'invalid'; reason: string };

/** Parses one text frame; never throws. */
export function parsePushFrame(text: string): PushFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  const frame = frameWire.safeParse(json);
  if (!frame.success) return { kind: 'invalid', reason: `frame off contract at ${frame.error.issues[0]?.path.join('.') || '(root)'}` };
  const { id, event, at } = frame.data;
  const schema = dataOf.get(event);
  if (!schema) return { kind: 'unknown', id, name: event };
  const data = schema.safeParse(frame.data.data);
  if (!data.success) return { kind: 'invalid', reason: `data of ${event} off contract at ${data.error.issues[0]?.path.join('.') || '(root)'}` };
  return { kind: 'event', event: { ...data.data, id, at: new Date(at) } };
}
