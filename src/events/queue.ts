/**
 * The buffer between the event bus and one subscriber. Pushing never blocks
 * the bus: when the subscriber (a slow client) has `capacity` items waiting,
 * the oldest is dropped and `onDrop` is told. `end()` lets the subscriber
 * drain what is buffered and then finish; `return()` (the client went away)
 * finishes at once. `onClose` runs once, however it finished.
 */
export interface BoundedQueueOptions<T> {
  capacity: number;
  onDrop?: (dropped: T) => void;
  onClose?: () => void;
}

export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #waiting: Array<(result: IteratorResult<T>) => void> = [];
  readonly #options: BoundedQueueOptions<T>;
  #ending = false;
  #closed = false;

  constructor(options: BoundedQueueOptions<T>) {
    this.#options = options;
  }

  /** Items buffered and not yet taken. */
  get size(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(item: T): void {
    if (this.#ending || this.#closed) return;
    const taker = this.#waiting.shift();
    if (taker) return taker({ value: item, done: false });
    this.#items.push(item);
    if (this.#items.length > this.#options.capacity) this.#options.onDrop?.(this.#items.shift()!);
  }

  /** No more items: the subscriber gets what is buffered, then the end. */
  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (this.#items.length === 0) this.#close();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift()!;
      if (this.#ending && this.#items.length === 0) this.#close();
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#items.length = 0;
    this.#close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#items.length = 0;
    this.#close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ending = true;
    for (const taker of this.#waiting.splice(0)) taker({ value: undefined, done: true });
    this.#options.onClose?.();
  }
}
