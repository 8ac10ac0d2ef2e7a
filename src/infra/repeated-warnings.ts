import type { LogFields, Logger } from './logger.js';

export interface RepeatedWarningsOptions {
  /**
   * Length of a window: the first warning of a kind in it is written at
   * once, the rest are counted and written as one line when it ends.
   * @default 10000
   */
  windowMs?: number;
  /**
   * Kinds tracked at once; warnings of further kinds in a window are
   * counted under one "other warnings" line.
   * @default 100
   */
  maxKinds?: number;
}

interface Kind {
  msg: string;
  fields: LogFields;
  repeated: number;
}

const OTHER = '\0other';

/**
 * Warnings that come in storms (thousands of upstream calls timing out in a
 * few seconds), written as a sample instead of one line each: of every kind,
 * the first in a window goes to the log as it happens, with its details;
 * the others are counted, and when the window ends one line says how many
 * ("upstream call timed out, 41 more times in the last 10 s", `repeated: 41`,
 * `windowMs: 10000`).
 * A kind is the message plus the identifying fields; `detail` (a duration,
 * an attempt number) is written with the first occurrence only.
 * Works with any Logger; it never drops a count, only lines.
 */
export class RepeatedWarnings {
  readonly #logger: Logger;
  readonly #windowMs: number;
  readonly #maxKinds: number;
  readonly #kinds = new Map<string, Kind>();
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, { windowMs = 10_000, maxKinds = 100 }: RepeatedWarningsOptions = {}) {
    this.#logger = logger;
    this.#windowMs = windowMs;
    this.#maxKinds = maxKinds;
  }

  warn(msg: string, fields: LogFields, detail?: LogFields): void {
    let key = msg;
    for (const value of Object.values(fields)) key += `\0${String(value)}`;
    const seen = this.#kinds.get(key) ?? (this.#kinds.size >= this.#maxKinds ? this.#other() : undefined);
    if (seen) {
      seen.repeated += 1;
      return;
    }
    this.#kinds.set(key, { msg, fields, repeated: 0 });
    this.#logger.warn(msg, detail ? { ...fields, ...detail } : fields);
    this.#timer ??= setTimeout(() => this.flush(), this.#windowMs).unref();
  }

  /** Writes the counts of the window so far and starts a new one. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const windowMs = this.#windowMs;
    const window = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
    for (const { msg, fields, repeated } of this.#kinds.values()) {
      if (repeated > 0) this.#logger.warn(`${msg}, ${repeated} more times in the last ${window}`, { ...fields, repeated, windowMs });
    }
    this.#kinds.clear();
  }

  #other(): Kind {
    let other = this.#kinds.get(OTHER);
    if (!other) {
      other = { msg: 'other warnings', fields: {}, repeated: 0 };
      this.#kinds.set(OTHER, other);
    }
    return other;
  }
}
