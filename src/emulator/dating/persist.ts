import { z } from 'zod';
import type { StateSection } from '../state-file.js';
import type { DatingSnapshot, DatingStore } from './store.js';

/**
 * The Dating emulator's section of the state file (src/emulator/state-file.ts):
 * the created users and each site's numbering. Not kept (chosen): request
 * counters, rate windows and outages, which are test tools and would
 * surprise after a restart.
 */
const datingSnapshot = z.object({
  users: z.array(z.object({
    site: z.string(),
    email: z.string(),
    nickname: z.string(),
    gender: z.enum(['male', 'female', 'couple']),
    birth_date: z.string(),
    client_ip: z.string(),
    client_user_agent: z.string().nullable(),
    tracking: z.record(z.string(), z.string()),
    sub_id: z.string().nullable(),
    created_at: z.string(),
  })),
  nextNumbers: z.record(z.string(), z.number().int().min(1)),
}) satisfies z.ZodType<DatingSnapshot>;

/** Restores a saved section; answers why not when it is not one. */
function restoreDating(store: DatingStore, saved: unknown): string | null {
  const parsed = datingSnapshot.safeParse(saved);
  if (!parsed.success) return `off format at ${parsed.error.issues[0]?.path.join('.') || '(root)'}`;
  store.restore(parsed.data);
  return null;
}

export function datingSection(store: DatingStore): StateSection {
  return { snapshot: () => store.snapshot(), restore: (saved) => restoreDating(store, saved) };
}
