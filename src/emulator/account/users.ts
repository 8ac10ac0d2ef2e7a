import { randomUUID } from 'node:crypto';
import { normalizeEmail, type Channel, type Lang } from './formats.js';

/** The profile part of a user that `user/settings/*` reads and writes. */
export interface ProfileRecord {
  avatar: string | null;
  /** -1 not set … 8 androgyne (shared/UPSTREAM.md §1, Settings object). */
  sex: number;
  news: boolean;
  /** restriction_1 … restriction_5, in order. */
  restrictions: [boolean, boolean, boolean, boolean, boolean];
  /** Unix seconds. */
  birthday: number | null;
  datingModel: string | null;
}

export interface UserRecord {
  id: string;
  email: string | null;
  phone: string | null;
  emailVerified: boolean;
  phoneVerified: boolean;
  password: string;
  /** Also the Settings `first_name`. */
  name: string | null;
  /** Also the Settings `last_name`. */
  surname: string | null;
  lang: Lang;
  createdAt: number;
  deactivated: boolean;
  /** Activated product ids. */
  modules: Set<string>;
  profile: ProfileRecord;
  /** A changed e-mail/phone waiting for its code (contact_change). */
  pending: Record<Channel, string | null>;
  tracking: Record<string, unknown>;
  archivePassword: string | null;
  /** Blocked user id → reason 1..5. */
  blocked: Map<string, number>;
}

/** A user as the state file keeps it: the Set and Map as arrays. */
export type UserSnapshot = Omit<UserRecord, 'modules' | 'blocked'> & { modules: string[]; blocked: [string, number][] };

export interface NewUser {
  email: string | null;
  phone: string | null;
  password: string;
  name: string | null;
  surname: string | null;
  lang: Lang;
}

export class UserStore {
  #byId = new Map<string, UserRecord>();

  create(fields: NewUser, now: number): UserRecord {
    const user: UserRecord = {
      ...fields,
      email: fields.email === null ? null : normalizeEmail(fields.email),
      id: randomUUID(),
      emailVerified: false,
      phoneVerified: false,
      createdAt: now,
      deactivated: false,
      modules: new Set(),
      profile: {
        avatar: null,
        sex: -1,
        news: false,
        restrictions: [false, false, false, false, false],
        birthday: null,
        datingModel: null,
      },
      pending: { email: null, phone: null },
      tracking: {},
      archivePassword: null,
      blocked: new Map(),
    };
    this.#byId.set(user.id, user);
    return user;
  }

  all(): UserRecord[] {
    return [...this.#byId.values()];
  }

  get(id: string): UserRecord | undefined {
    return this.#byId.get(id);
  }

  /** The user whose e-mail (any case) or phone is `login`. */
  findByLogin(login: string): UserRecord | undefined {
    const email = normalizeEmail(login);
    for (const user of this.#byId.values()) {
      if (user.email === email || user.phone === login) return user;
    }
    return undefined;
  }

  /** Whether another user already has this e-mail or phone. */
  isTaken(channel: Channel, value: string, exceptId?: string): boolean {
    const wanted = channel === 'email' ? normalizeEmail(value) : value;
    for (const user of this.#byId.values()) {
      if (user.id !== exceptId && user[channel] === wanted) return true;
    }
    return false;
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }

  clear(): void {
    this.#byId.clear();
  }

  snapshot(): UserSnapshot[] {
    return this.all().map((user) => ({ ...user, modules: [...user.modules], blocked: [...user.blocked] }));
  }

  restore(users: readonly UserSnapshot[]): void {
    this.#byId = new Map(users.map((user) => [user.id, { ...user, modules: new Set(user.modules), blocked: new Map(user.blocked) }]));
  }
}

export function isVerified(user: UserRecord, channel: Channel): boolean {
  return channel === 'email' ? user.emailVerified : user.phoneVerified;
}

/** Every channel the user registered with is verified. */
export function isFullyVerified(user: UserRecord): boolean {
  return (user.email === null || user.emailVerified) && (user.phone === null || user.phoneVerified);
}
