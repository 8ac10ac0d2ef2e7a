import { UpstreamUnavailable } from '../domain/errors.js';

/**
 * The way into the Account API for subscription work that comes in storms
 * (session checks, push tickets): at most `concurrency` calls at once, the
 * rest wait in line, at most `maxWaiting` of them. A waiter that has not
 * started by its deadline gives up with AdmissionTimeout; a full line
 * refuses at once with AdmissionFull. A reconnect storm is thus absorbed at
 * the rate the upstream answers, and only a caller that waited its whole
 * deadline is turned away.
 */
export interface AdmissionOptions {
  concurrency: number;
  maxWaiting: number;
  /** How long a call may wait for its turn, in ms. */
  deadlineMs: number;
}

/** The deadline passed before the call's turn came. */
export class AdmissionTimeout extends UpstreamUnavailable {
  constructor() {
    super('Account API', 'admission deadline passed');
  }
}

/** The line is full. */
export class AdmissionFull extends UpstreamUnavailable {
  constructor() {
    super('Account API', 'admission line full');
  }
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Hand-written: cockatiel's bulkhead has the concurrency and the line but no
 * deadline per waiter. The line is a Set (insertion order): a waiter that
 * times out leaves it in O(1), as does the next one to start.
 */
export class AdmissionQueue {
  readonly #line = new Set<Waiter>();
  #running = 0;
  #admitted = 0;
  #timedOut = 0;

  constructor(private readonly options: AdmissionOptions) {}

  /** Runs `task` in its turn; rejects with AdmissionTimeout after `deadlineMs` of waiting, AdmissionFull when the line is full. */
  run<T>(task: () => Promise<T>, deadlineMs = this.options.deadlineMs): Promise<T> {
    if (this.#running < this.options.concurrency && this.#line.size === 0) return this.#start(task);
    if (this.#line.size >= this.options.maxWaiting) return Promise.reject(new AdmissionFull());
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.#start(task).then(resolve, reject);
        },
        timer: setTimeout(() => {
          this.#line.delete(waiter);
          this.#timedOut += 1;
          reject(new AdmissionTimeout());
        }, deadlineMs),
      };
      this.#line.add(waiter);
    });
  }

  /** Calls running, waiting, admitted and timed out so far. */
  stats(): { running: number; waiting: number; admitted: number; timedOut: number } {
    return { running: this.#running, waiting: this.#line.size, admitted: this.#admitted, timedOut: this.#timedOut };
  }

  async #start<T>(task: () => Promise<T>): Promise<T> {
    this.#running += 1;
    this.#admitted += 1;
    try {
      return await task();
    } finally {
      this.#running -= 1;
      const next = this.#line.values().next();
      if (!next.done) {
        this.#line.delete(next.value);
        next.value.start();
      }
    }
  }
}
