/**
 * The emulator's clock: real time plus an offset that `POST /_emulator/clock`
 * moves forward. Every time-dependent rule of the emulator (code expiry, the
 * 90 s resend cooldown, sessions, websocket tickets, the event log) reads it,
 * so tests can jump ahead instead of waiting.
 */
export class Clock {
  #offsetMs = 0;

  /** Milliseconds since the epoch, as the emulator sees it. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  reset(): void {
    this.#offsetMs = 0;
  }

  /** The offset, for the state file. */
  snapshot(): number {
    return this.#offsetMs;
  }

  restore(offsetMs: number): void {
    this.#offsetMs = offsetMs;
  }
}

/** ISO-8601 in UTC to the second, as in the User object of shared/UPSTREAM.md §1. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
