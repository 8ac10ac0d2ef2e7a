import { randomBytes } from 'node:crypto';
import type { Gender, NewUserInput } from './validation.js';

/**
 * In-memory state of the emulator: users, request counters, rate windows and
 * outages, per site. Passwords are never stored, so nothing can list them.
 */

/** A created user as `GET /_emulator/users` lists it. */
export interface EmulatedDatingUser {
  site: string;
  email: string;
  nickname: string;
  gender: Gender;
  birth_date: string;
  client_ip: string;
  client_user_agent: string | null;
  tracking: Record<string, string>;
  sub_id: string | null;
  created_at: string;
}

export type OutageStatus = 500 | 503;

/** A user just added: the listing plus the numbers the links are built from. */
export interface AddedUser {
  user: EmulatedDatingUser;
  /** Site-local number, as in the seed's `…/fastlogin/tour/<hash>/<n>`. */
  number: number;
  /** 32 hex digits. */
  hash: string;
}

/** What the state file keeps: users in creation order and each site's next number. */
export interface DatingSnapshot {
  users: EmulatedDatingUser[];
  nextNumbers: Record<string, number>;
}

const WINDOW_MS = 60_000;

class SiteState {
  readonly users: EmulatedDatingUser[] = [];
  readonly emails = new Set<string>();
  readonly nicknames = new Set<string>();
  /** Start times of the requests counted by the limit, oldest first. */
  hits: number[] = [];
  outage: OutageStatus | null = null;
  received = 0;
  nextNumber = 1;
}

export class DatingStore {
  readonly #sites = new Map<string, SiteState>();
  readonly #order: EmulatedDatingUser[] = [];

  constructor(siteIds: readonly string[]) {
    for (const id of siteIds) this.#sites.set(id, new SiteState());
  }

  #site(id: string): SiteState {
    const state = this.#sites.get(id);
    if (state === undefined) throw new RangeError(`Unknown dating site '${id}'`);
    return state;
  }

  has(siteId: string): boolean {
    return this.#sites.has(siteId);
  }

  countRequest(siteId: string): void {
    this.#site(siteId).received += 1;
  }

  /** Requests received per site, every site listed (0 when none). */
  requests(): Record<string, number> {
    return Object.fromEntries([...this.#sites].map(([id, state]) => [id, state.received]));
  }

  outage(siteId: string): OutageStatus | null {
    return this.#site(siteId).outage;
  }

  setOutage(siteId: string, status: OutageStatus | null): void {
    this.#site(siteId).outage = status;
  }

  /**
   * Counts one request against a rolling 60-second window. Returns 0 when
   * it is within `limit`, else the seconds until a slot frees up (the
   * refused request itself is not counted).
   */
  takeRateSlot(siteId: string, limit: number, now = Date.now()): number {
    const state = this.#site(siteId);
    state.hits = state.hits.filter((at) => at > now - WINDOW_MS);
    if (state.hits.length >= limit) {
      const oldest = state.hits[0] ?? now;
      return Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000));
    }
    state.hits.push(now);
    return 0;
  }

  hasEmail(siteId: string, email: string): boolean {
    return this.#site(siteId).emails.has(email.toLowerCase());
  }

  hasNickname(siteId: string, nickname: string): boolean {
    return this.#site(siteId).nicknames.has(nickname.toLowerCase());
  }

  /** Adds a user whose email is free; generates a nickname when none was given. */
  addUser(siteId: string, input: NewUserInput, now = new Date()): AddedUser {
    const state = this.#site(siteId);
    const nickname = input.nickname ?? this.#freeNickname(state);
    const user: EmulatedDatingUser = {
      site: siteId,
      email: input.email,
      nickname,
      gender: input.gender,
      birth_date: input.birth_date,
      client_ip: input.client_ip,
      client_user_agent: input.client_user_agent ?? null,
      tracking: { ...input.tracking },
      sub_id: input.sub_id ?? null,
      created_at: now.toISOString(),
    };
    state.users.push(user);
    state.emails.add(input.email.toLowerCase());
    state.nicknames.add(nickname.toLowerCase());
    this.#order.push(user);
    const number = state.nextNumber++;
    return { user, number, hash: randomBytes(16).toString('hex') };
  }

  /** `user` + 10 hex digits: alphanumeric, at most 16 characters. */
  #freeNickname(state: SiteState): string {
    for (;;) {
      const candidate = `user${randomBytes(5).toString('hex')}`;
      if (!state.nicknames.has(candidate)) return candidate;
    }
  }

  /** Every user in creation order, or only those of one site. */
  users(siteId?: string): EmulatedDatingUser[] {
    const list = siteId === undefined ? this.#order : this.#order.filter((u) => u.site === siteId);
    return list.map((u) => ({ ...u, tracking: { ...u.tracking } }));
  }

  snapshot(): DatingSnapshot {
    return { users: this.users(), nextNumbers: Object.fromEntries([...this.#sites].map(([id, state]) => [id, state.nextNumber])) };
  }

  /** Restores saved users; those of sites this emulator does not host are left out. */
  restore(snapshot: DatingSnapshot): void {
    this.reset();
    for (const user of snapshot.users) {
      const state = this.#sites.get(user.site);
      if (state === undefined) continue;
      const copy = { ...user, tracking: { ...user.tracking } };
      state.users.push(copy);
      state.emails.add(copy.email.toLowerCase());
      state.nicknames.add(copy.nickname.toLowerCase());
      this.#order.push(copy);
    }
    for (const [id, state] of this.#sites) state.nextNumber = Math.max(state.users.length + 1, snapshot.nextNumbers[id] ?? 1);
  }

  /** Forgets users, counters, rate windows and outages. */
  reset(): void {
    for (const id of this.#sites.keys()) this.#sites.set(id, new SiteState());
    this.#order.length = 0;
  }
}
