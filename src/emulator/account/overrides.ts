import type { Envelope } from './envelope.js';

/**
 * What tests can inject into the next call of a path (POST /_emulator/force
 * and /_emulator/fault), and the per-path call counter (GET /_emulator/calls).
 * Injections for one path queue up and are used one per call, in order.
 */
export type Override =
  | { kind: 'envelope'; envelope: Envelope }
  | { kind: 'http_500' }
  | { kind: 'garbage' }
  | { kind: 'not_envelope' }
  | { kind: 'delay'; ms: number };

export class Overrides {
  #queued = new Map<string, Override[]>();
  #calls = new Map<string, number>();

  push(path: string, override: Override): void {
    const queue = this.#queued.get(path) ?? [];
    queue.push(override);
    this.#queued.set(path, queue);
  }

  /** The next injection for this path, used up by the call. */
  next(path: string): Override | undefined {
    const queue = this.#queued.get(path);
    const next = queue?.shift();
    if (queue?.length === 0) this.#queued.delete(path);
    return next;
  }

  countCall(path: string): void {
    this.#calls.set(path, (this.#calls.get(path) ?? 0) + 1);
  }

  calls(): Record<string, number> {
    return Object.fromEntries(this.#calls);
  }

  resetCalls(): void {
    this.#calls.clear();
  }

  clear(): void {
    this.#queued.clear();
    this.#calls.clear();
  }
}
