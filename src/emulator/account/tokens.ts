import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';

/**
 * Opaque tokens that carry a value for a limited time on the emulator clock:
 * recovery and deletion tokens, websocket tickets.
 */
export class ExpiringTokens<T> {
  #entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  issue(value: T): string {
    const token = randomUUID();
    this.#entries.set(token, { value, expiresAt: this.clock.now() + this.ttlMs });
    return token;
  }

  /** The value of a live token, leaving it in place. */
  peek(token: string): T | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.value;
  }

  /** The value of a live token, which is used up by the call (expired or not). */
  take(token: string): T | undefined {
    const value = this.peek(token);
    this.#entries.delete(token);
    return value;
  }

  /** Drops every token whose value matches. */
  dropWhere(match: (value: T) => boolean): void {
    for (const [token, entry] of this.#entries) if (match(entry.value)) this.#entries.delete(token);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** `[token, { value, expiresAt }]` pairs, for the state file. */
  snapshot(): [string, { value: T; expiresAt: number }][] {
    return [...this.#entries];
  }

  restore(entries: readonly [string, { value: T; expiresAt: number }][]): void {
    this.#entries = new Map(entries);
  }
}
