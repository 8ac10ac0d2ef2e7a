import type { AccountEvent } from '../domain/account-events.js';
import type { Logger } from '../infra/logger.js';
import type { EventMetrics } from '../infra/metrics.js';
import { endsSession, type BusEntry, type LogRead } from './bus.js';
import { comparePositions, encodeEventId, type Cursor } from './event-id.js';
import { BoundedQueue } from './queue.js';

/**
 * One `accountEvents` subscription: where it is in its user's log, and its
 * bounded buffer. The log holds each event once, in the Account API's order
 * (an upstream id is appended once, bus.ts), so a subscription only has to
 * deliver the entries after its position, in position order. Until `begin`
 * (the read of the log that starts it, or resumes it after a bus reconnect)
 * live entries wait in `#pending`; entries at or before its position are
 * ones it has had.
 */
export class Subscription {
  readonly queue: BoundedQueue<AccountEvent>;
  #dropped = 0;
  #cursor: Cursor | null = null;
  #pending: BusEntry[] | null = [];
  #markDelivering: () => void = () => undefined;
  /** Resolves once it has an event for its subscriber (or ends): nothing to wait for any more before handing it over. */
  readonly delivering = new Promise<void>((resolve) => (this.#markDelivering = resolve));
  onClose: () => void = () => undefined;

  constructor(
    readonly sessionKey: string,
    readonly userId: string,
    options: { bufferSize: number; metrics?: EventMetrics },
    logger: Logger,
  ) {
    this.queue = new BoundedQueue<AccountEvent>({
      capacity: options.bufferSize,
      onDrop: (event) => {
        this.#dropped += 1;
        options.metrics?.eventDropped('slow_subscriber');
        if (this.#dropped === 1 || this.#dropped % 100 === 0) {
          logger.warn('slow subscriber: oldest buffered event dropped', { userId, eventType: event.type, dropped: this.#dropped });
        }
      },
      onClose: () => {
        this.#markDelivering();
        this.onClose();
      },
    });
  }

  offer(entry: BusEntry): void {
    if (this.queue.closed) return;
    if (this.#pending) this.#pending.push(entry);
    else this.#take(entry);
  }

  /**
   * Live delivery came back after a gap: true once a read-back was due
   * before the first `begin` (the gap may postdate the first read), for
   * the subscriber to read again once begun.
   */
  resyncDue = false;

  /** Holds live entries back until the next `begin`; answers where to read from (null before the first begin: `resyncDue` is set). */
  pause(): Cursor | null {
    if (this.queue.closed) return null;
    if (!this.#cursor) {
      this.resyncDue = true;
      return null;
    }
    this.#pending ??= [];
    return this.#cursor;
  }

  /** Delivers what `read` gave (or EventsMissed), then the live entries held back meanwhile. */
  begin(read: LogRead): void {
    if (this.queue.closed) return;
    if (read.kind === 'missed') {
      this.#cursor = { epoch: read.epoch, position: read.position };
      this.#push({ type: 'EventsMissed', id: encodeEventId(this.userId, this.#cursor), at: new Date() });
    } else {
      for (const entry of read.entries) this.#take(entry);
      if (!this.#cursor || this.#cursor.epoch !== read.epoch || comparePositions(read.position, this.#cursor.position) > 0) {
        this.#cursor = { epoch: read.epoch, position: read.position };
      }
    }
    const pending = this.#pending ?? [];
    this.#pending = null;
    for (const entry of pending) this.#take(entry);
  }

  #take(entry: BusEntry): void {
    if (this.queue.closed) return;
    const cursor = this.#cursor;
    if (cursor && cursor.epoch === entry.epoch && comparePositions(entry.position, cursor.position) <= 0) return;
    this.#cursor = { epoch: entry.epoch, position: entry.position };
    const { message } = entry;
    const { event } = message;
    if (event.type === 'SessionExpired' && !endsSession(message, this.sessionKey)) return;
    this.#push({ ...event, id: encodeEventId(this.userId, entry) });
    if (event.type === 'SessionExpired') this.queue.end();
  }

  #push(event: AccountEvent): void {
    this.queue.push(event);
    this.#markDelivering();
  }
}
