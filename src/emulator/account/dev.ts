import { randomUUID } from 'node:crypto';
import { isoTime } from './clock.js';
import type { Override } from './overrides.js';
import { isRecord, type Body } from './params.js';
import { ROUTES } from './routes.js';
import type { EmulatorState } from './state.js';
import { settingsView, userView } from './views.js';

/**
 * The emulator's own endpoints under /_emulator (dev and test only, never part
 * of the Account API). Plain JSON with HTTP statuses, no envelope:
 * 200 on success, 400 `{ error }` for a bad body, 404 for an unknown user.
 *
 * From shared/UPSTREAM.md §4:
 *   GET    /_emulator/messages            delivered codes `[{ to, channel, purpose, code, at }]`
 *                                         (optional `?to=` filter)
 *   POST   /_emulator/notify              `{ user_id, kind, title, body }` pushes a `notification`
 *   POST   /_emulator/expire              `{ user_id }` ends all that user's sessions (session.expired, 4403)
 *   POST   /_emulator/deactivate          `{ user_id }` deactivates the user
 *   GET    /_emulator/inbox               the delivered codes as a page for developers (inbox.ts,
 *                                         served by server.ts: HTML, not JSON)
 * Added for tests:
 *   GET    /_emulator/calls               `{ "<path>": count }` of API calls since start or reset
 *   DELETE /_emulator/calls               resets those counts
 *   GET    /_emulator/clock               `{ now }` (the emulator clock, ISO-8601)
 *   POST   /_emulator/clock               `{ advance_seconds }` moves the clock forward; expired
 *                                         sessions end (and their sockets get session.expired)
 *   POST   /_emulator/force               `{ path, state, data? }` the next call of `path` answers
 *                                         `{ state, data }` (data defaults to null); queued per path
 *   POST   /_emulator/fault               `{ path, kind: "http_500" | "garbage" | "not_envelope" | "delay", ms? }`
 *                                         the next call of `path` answers HTTP 500 with HTML, or 200 with
 *                                         a body that is not JSON, or 200 with JSON that is not the
 *                                         `{ state, data }` envelope, or is handled after `ms` (default 1000)
 *   POST   /_emulator/reset               forgets everything (users, codes, events, calls, injections,
 *                                         clock offset) and terminates every socket
 *   POST   /_emulator/drop                `{ user_id }` terminates that user's sockets without a close frame
 *   GET    /_emulator/sockets             `{ "<user_id>": count }` of open sockets
 *   GET    /_emulator/users               every user with settings, pending changes, tracking,
 *                                         blocks and flags (never passwords)
 */

export interface DevAnswer {
  status: number;
  body: unknown;
}

interface DevContext {
  state: EmulatorState;
  body: Body;
  query: URLSearchParams;
}

type DevHandler = (ctx: DevContext) => DevAnswer;

const done = (body: unknown = { ok: true }): DevAnswer => ({ status: 200, body });
const bad = (error: string): DevAnswer => ({ status: 400, body: { error } });
const unknownUser: DevAnswer = { status: 404, body: { error: 'unknown user' } };

const FAULT_KINDS = ['http_500', 'garbage', 'not_envelope', 'delay'] as const;

function withUser(handle: (ctx: DevContext, userId: string) => DevAnswer): DevHandler {
  return (ctx) => {
    const userId = ctx.body.user_id;
    if (typeof userId !== 'string') return bad('user_id is required');
    if (!ctx.state.users.get(userId)) return unknownUser;
    return handle(ctx, userId);
  };
}

function apiPath(body: Body): string | null {
  return typeof body.path === 'string' && ROUTES.has(body.path.replace(/^\//, '')) ? body.path.replace(/^\//, '') : null;
}

const HANDLERS: Record<string, DevHandler> = {
  'GET messages': ({ state, query }) => {
    const to = query.get('to');
    return done(state.codes.messages().filter((m) => to === null || m.to === to));
  },
  'GET users': ({ state }) => done(state.users.all().map((user) => ({
    ...userView(user),
    deactivated: user.deactivated,
    settings: settingsView(user),
    pending: { ...user.pending },
    tracking: user.tracking,
    blocked: Object.fromEntries(user.blocked),
    archive_password_set: user.archivePassword !== null,
  }))),
  'POST notify': withUser(({ state, body }, userId) => {
    const { kind, title, body: text } = body;
    if (typeof kind !== 'string' || typeof title !== 'string' || typeof text !== 'string') {
      return bad('kind, title and body are required strings');
    }
    const id = randomUUID();
    const event = state.push.emit(userId, 'notification', { id, kind, title, body: text });
    return done({ ok: true, id, event_id: event.id });
  }),
  'POST expire': withUser(({ state }, userId) => done({ ok: true, ended: state.sessions.endForUser(userId) })),
  'POST deactivate': withUser(({ state }, userId) => {
    state.users.get(userId)!.deactivated = true;
    return done();
  }),
  'GET calls': ({ state }) => done(state.overrides.calls()),
  'DELETE calls': ({ state }) => {
    state.overrides.resetCalls();
    return done();
  },
  'GET clock': ({ state }) => done({ now: isoTime(state.clock.now()) }),
  'POST clock': ({ state, body }) => {
    const seconds = body.advance_seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      return bad('advance_seconds must be a number >= 0');
    }
    state.clock.advance(seconds * 1000);
    const ended = state.sessions.sweep();
    return done({ now: isoTime(state.clock.now()), sessions_ended: ended });
  },
  'POST force': ({ state, body }) => {
    const path = apiPath(body);
    if (path === null) return bad('path must be an Account API path');
    if (typeof body.state !== 'number' || !Number.isInteger(body.state)) return bad('state must be an integer');
    state.overrides.push(path, { kind: 'envelope', envelope: { state: body.state, data: body.data ?? null } });
    return done();
  },
  'POST fault': ({ state, body }) => {
    const path = apiPath(body);
    if (path === null) return bad('path must be an Account API path');
    const kind = FAULT_KINDS.find((k) => k === body.kind);
    if (kind === undefined) return bad(`kind must be one of ${FAULT_KINDS.join(', ')}`);
    const ms = body.ms ?? 1000;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 600_000) return bad('ms must be 0..600000');
    const override: Override = kind === 'delay' ? { kind, ms } : { kind };
    state.overrides.push(path, override);
    return done();
  },
  'POST reset': ({ state }) => {
    state.reset();
    return done();
  },
  'POST drop': withUser(({ state }, userId) => done({ ok: true, dropped: state.push.drop(userId) })),
  'GET sockets': ({ state }) => done(state.push.counts()),
};

const NAMES = new Set(Object.keys(HANDLERS).map((key) => key.split(' ')[1]));

/** Answers one /_emulator request; `name` is the part after the prefix. */
export function handleDev(state: EmulatorState, method: string, name: string, body: unknown, query: URLSearchParams): DevAnswer {
  const handler = HANDLERS[`${method} ${name}`];
  if (!handler) {
    return NAMES.has(name) ? { status: 405, body: { error: 'method not allowed' } } : { status: 404, body: { error: 'not found' } };
  }
  return handler({ state, body: isRecord(body) ? body : {}, query });
}
