import { z } from 'zod';
import type { StateSection } from '../state-file.js';
import type { CodesSnapshot } from './codes.js';
import { LANGS } from './formats.js';
import type { SessionRecord } from './sessions.js';
import type { CodeFlow, EmulatorState } from './state.js';
import type { UserSnapshot } from './users.js';
import type { PushEvent } from './events.js';

/**
 * The Account emulator's section of the state file (src/emulator/state-file.ts):
 * users with their settings, products, pending changes, tracking and blocks;
 * sessions; outstanding codes, cooldowns and the delivered messages; recovery
 * and deletion tokens; the push event log (so event ids go on increasing and
 * a reconnecting client can still resume); the clock offset.
 *
 * Not kept (chosen): websocket tickets (single-use, 60 s; a client asks for
 * a new one after the restart closed its socket), the injections and call
 * counters of /_emulator/force, /fault and /calls (test tools).
 */

const channel = z.enum(['email', 'phone']);
const flow = z.object({ userId: z.string(), channel }) satisfies z.ZodType<CodeFlow>;
const expiring = z.array(z.tuple([z.string(), z.object({ value: flow, expiresAt: z.number() })]));

const user = z.object({
  id: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  emailVerified: z.boolean(),
  phoneVerified: z.boolean(),
  password: z.string(),
  name: z.string().nullable(),
  surname: z.string().nullable(),
  lang: z.enum(LANGS),
  createdAt: z.number(),
  deactivated: z.boolean(),
  modules: z.array(z.string()),
  profile: z.object({
    avatar: z.string().nullable(),
    sex: z.number().int(),
    news: z.boolean(),
    restrictions: z.tuple([z.boolean(), z.boolean(), z.boolean(), z.boolean(), z.boolean()]),
    birthday: z.number().nullable(),
    datingModel: z.string().nullable(),
  }),
  pending: z.object({ email: z.string().nullable(), phone: z.string().nullable() }),
  tracking: z.record(z.string(), z.unknown()),
  archivePassword: z.string().nullable(),
  blocked: z.array(z.tuple([z.string(), z.number().int()])),
}) satisfies z.ZodType<UserSnapshot>;

const session = z.object({ token: z.string(), userId: z.string(), expiresAt: z.number() }) satisfies z.ZodType<SessionRecord>;

const codes = z.object({
  codes: z.array(z.tuple([z.string(), z.object({ code: z.string(), to: z.string(), expiresAt: z.number() })])),
  lastSentAt: z.array(z.tuple([z.string(), z.number()])),
  messages: z.array(z.object({
    to: z.string(),
    channel,
    purpose: z.enum(['registration', 'contact_change', 'recovery', 'deletion']),
    code: z.string(),
    at: z.string(),
  })),
}) satisfies z.ZodType<CodesSnapshot>;

const pushEvent = z.object({
  seq: z.number().int(),
  id: z.string(),
  event: z.string(),
  at: z.string(),
  atMs: z.number(),
  data: z.unknown(),
  sessionToken: z.string().optional(),
}) satisfies z.ZodType<PushEvent>;

const accountSnapshot = z.object({
  clockOffsetMs: z.number(),
  users: z.array(user),
  sessions: z.array(session),
  codes,
  recoveries: expiring,
  deletions: expiring,
  events: z.array(z.tuple([z.string(), z.object({ seq: z.number().int(), entries: z.array(pushEvent) })])),
});

/** The section's content now. */
export function snapshotAccount(state: EmulatorState) {
  return {
    clockOffsetMs: state.clock.snapshot(),
    users: state.users.snapshot(),
    sessions: state.sessions.snapshot(),
    codes: state.codes.snapshot(),
    recoveries: state.recoveries.snapshot(),
    deletions: state.deletions.snapshot(),
    events: state.events.snapshot(),
  } satisfies z.input<typeof accountSnapshot>;
}

/** Restores a saved section; answers why not when it is not one. */
function restoreAccount(state: EmulatorState, saved: unknown): string | null {
  const parsed = accountSnapshot.safeParse(saved);
  if (!parsed.success) return `off format at ${parsed.error.issues[0]?.path.join('.') || '(root)'}`;
  const snapshot = parsed.data;
  state.clock.restore(snapshot.clockOffsetMs);
  state.users.restore(snapshot.users);
  state.sessions.restore(snapshot.sessions);
  state.codes.restore(snapshot.codes);
  state.recoveries.restore(snapshot.recoveries);
  state.deletions.restore(snapshot.deletions);
  state.events.restore(snapshot.events);
  return null;
}

export function accountSection(state: EmulatorState): StateSection {
  return { snapshot: () => snapshotAccount(state), restore: (saved) => restoreAccount(state, saved) };
}
