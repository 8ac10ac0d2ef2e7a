/**
 * A steady rate for opening the Account API's push sockets: turns are given
 * in order, one every `1000 / perSecond` ms, so a reconnect storm reaches
 * the upstream as a steady stream instead of a spike. A turn whose taker no
 * longer wants it (`wanted()` false: its relay closed) is skipped and costs
 * nothing.
 */
export class Pacer {
  readonly #line: Array<{ wanted: () => boolean; go: (took: boolean) => void }> = [];
  readonly #intervalMs: number;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
  }

  /** Resolves true when the turn comes, false when it was skipped as no longer wanted. */
  turn(wanted: () => boolean): Promise<boolean> {
    return new Promise((go) => {
      this.#line.push({ wanted, go });
      this.#drain();
    });
  }

  /** Takers waiting for a turn. */
  get waiting(): number {
    return this.#line.length;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const taker of this.#line.splice(0)) taker.go(false);
  }

  #drain(): void {
    if (this.#timer) return;
    for (;;) {
      const taker = this.#line[0];
      if (!taker) return;
      if (!taker.wanted()) {
        this.#line.shift();
        taker.go(false);
        continue;
      }
      const now = performance.now();
      if (now < this.#next) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#drain();
        }, this.#next - now);
        this.#timer.unref();
        return;
      }
      this.#line.shift();
      this.#next = Math.max(now, this.#next) + this.#intervalMs;
      taker.go(true);
    }
  }
}
