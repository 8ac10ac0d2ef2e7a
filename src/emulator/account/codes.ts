import { randomInt } from 'node:crypto';
import type { Logger } from '../../infra/logger.js';
import { isoTime, type Clock } from './clock.js';
import type { Channel } from './formats.js';

/** Codes are valid 10 minutes; a resend within 90 s answers 404 (shared/UPSTREAM.md §3). */
export const CODE_TTL_MS = 10 * 60 * 1000;
export const RESEND_COOLDOWN_MS = 90 * 1000;

export type Purpose = 'registration' | 'contact_change' | 'recovery' | 'deletion';

/** One emulated e-mail or SMS, as `GET /_emulator/messages` lists it. */
export interface DeliveredMessage {
  to: string;
  channel: Channel;
  purpose: Purpose;
  code: string;
  at: string;
}

export interface CodeRecord {
  code: string;
  to: string;
  expiresAt: number;
}

/** The codes as the state file keeps them; keys are `user|channel|purpose`. */
export interface CodesSnapshot {
  codes: [string, CodeRecord][];
  lastSentAt: [string, number][];
  messages: DeliveredMessage[];
}

const key = (userId: string, channel: Channel, purpose: Purpose) => `${userId}|${channel}|${purpose}`;

/**
 * One-time codes. Only the latest code of a user, channel and purpose is
 * valid (a resend replaces the previous one, chosen); a successful use
 * removes it. Delivery is a message in the list plus an info log line.
 */
export class CodeStore {
  #codes = new Map<string, CodeRecord>();
  #lastSentAt = new Map<string, number>();
  #messages: DeliveredMessage[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  send(userId: string, channel: Channel, purpose: Purpose, to: string): void {
    const now = this.clock.now();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    this.#codes.set(key(userId, channel, purpose), { code, to, expiresAt: now + CODE_TTL_MS });
    this.#lastSentAt.set(key(userId, channel, purpose), now);
    this.#messages.push({ to, channel, purpose, code, at: isoTime(now) });
    // The emulated message itself, the one place a code is shown (a field named `code` would be redacted).
    this.logger.info('code delivered', { to, channel, purpose, text: `Your ${purpose} code is ${code}` });
  }

  /** Whether a code went out on this channel for this purpose less than 90 s ago. */
  inCooldown(userId: string, channel: Channel, purpose: Purpose): boolean {
    const sentAt = this.#lastSentAt.get(key(userId, channel, purpose));
    return sentAt !== undefined && this.clock.now() - sentAt < RESEND_COOLDOWN_MS;
  }

  /** The address of the outstanding code, if any (expired or not). */
  addressOf(userId: string, channel: Channel, purpose: Purpose): string | undefined {
    return this.#codes.get(key(userId, channel, purpose))?.to;
  }

  /** Uses the code up when it is right and unexpired; answers its address, else null. */
  consume(userId: string, channel: Channel, purpose: Purpose, code: string): string | null {
    const k = key(userId, channel, purpose);
    const record = this.#codes.get(k);
    if (!record || record.code !== code || record.expiresAt <= this.clock.now()) return null;
    this.#codes.delete(k);
    return record.to;
  }

  /** Drops the outstanding code (e.g. a pending change was replaced or cancelled). */
  discard(userId: string, channel: Channel, purpose: Purpose): void {
    this.#codes.delete(key(userId, channel, purpose));
  }

  forgetUser(userId: string): void {
    for (const map of [this.#codes, this.#lastSentAt]) {
      for (const k of map.keys()) if (k.startsWith(`${userId}|`)) map.delete(k);
    }
  }

  messages(): DeliveredMessage[] {
    return [...this.#messages];
  }

  clear(): void {
    this.#codes.clear();
    this.#lastSentAt.clear();
    this.#messages = [];
  }

  snapshot(): CodesSnapshot {
    return { codes: [...this.#codes], lastSentAt: [...this.#lastSentAt], messages: this.messages() };
  }

  restore(snapshot: CodesSnapshot): void {
    this.#codes = new Map(snapshot.codes);
    this.#lastSentAt = new Map(snapshot.lastSentAt);
    this.#messages = [...snapshot.messages];
  }
}
