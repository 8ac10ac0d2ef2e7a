import { isoTime } from './clock.js';
import type { SessionRecord } from './sessions.js';
import type { UserRecord } from './users.js';
import { PRODUCTS } from './catalogue.js';

/**
 * The JSON shapes of shared/UPSTREAM.md §1: the User and Settings objects,
 * snake_case, exactly as the contract shows them.
 */

/** Activated product ids, in catalogue order. */
export function modulesOf(user: UserRecord): string[] {
  return PRODUCTS.filter((p) => user.modules.has(p.id)).map((p) => p.id);
}

/** The User object; `session` only when one is passed (login, verify, recovery_done). */
export function userView(user: UserRecord, session?: SessionRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: user.id,
    email: user.email,
    phone: user.phone,
    email_verified: user.email !== null && user.emailVerified,
    phone_verified: user.phone !== null && user.phoneVerified,
    name: user.name,
    surname: user.surname,
    lang: user.lang,
    modules: modulesOf(user),
    created_at: isoTime(user.createdAt),
  };
  if (session) view.session = { token: session.token, expires_at: isoTime(session.expiresAt) };
  return view;
}

/** The Settings object. Pending e-mail/phone changes are not shown. */
export function settingsView(user: UserRecord): Record<string, unknown> {
  const { profile } = user;
  return {
    first_name: user.name,
    last_name: user.surname,
    avatar: profile.avatar,
    sex: profile.sex,
    news: profile.news,
    restriction_1: profile.restrictions[0],
    restriction_2: profile.restrictions[1],
    restriction_3: profile.restrictions[2],
    restriction_4: profile.restrictions[3],
    restriction_5: profile.restrictions[4],
    lang: user.lang,
    birthday: profile.birthday,
    dating: { model: profile.datingModel },
    email: user.email,
    phone: user.phone,
  };
}
