import { ExponentialBackoff, type IBackoff } from 'cockatiel';

/**
 * The one backoff of every retry and reconnect loop: cockatiel's ExponentialBackoff
 * (decorrelated jitter), stepped one delay at a time.
 */
export class Backoff {
  readonly #factory: ExponentialBackoff<unknown>;
  #current: IBackoff<unknown> | undefined;

  constructor(options: { initialMs: number; maxMs: number }) {
    this.#factory = new ExponentialBackoff({ initialDelay: options.initialMs, maxDelay: options.maxMs });
  }

  /** The delay before the next attempt, in milliseconds; it grows until `reset()`. */
  next(): number {
    this.#current = this.#current === undefined ? this.#factory.next() : this.#current.next(undefined);
    return this.#current.duration;
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.#current = undefined;
  }
}
