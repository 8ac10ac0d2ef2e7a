import { comparePositions, type Cursor } from './event-id.js';
import { type BusEntry, type BusListener, type BusMessage, decodeMessage, encodeMessage, type EventBus, LAST_UPSTREAM_ID_MS, type LogOptions, type LogRead, newEpoch } from './bus.js';

interface MemoryLog {
  entries: BusEntry[];
  /** Entries before this position were trimmed for the count limit. */
  floor: string | null;
  lastUpstream: { id: string; expiresAt: number } | null;
}

/** One process: the logs in memory, a new epoch per process. */
export class MemoryEventBus implements EventBus {
  readonly #epoch = newEpoch();
  readonly #logs = new Map<string, MemoryLog>();
  readonly #listeners = new Map<string, Set<BusListener>>();
  /** `userId \n upstream id` → expiry; all live as long, so Map order is expiry order. */
  readonly #seen = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout;
  #lastMs = 0;
  #seq = 0;

  constructor(
    private readonly options: LogOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.#sweep = setInterval(() => this.#sweepAll(), Math.min(60_000, options.retentionMs));
    this.#sweep.unref();
  }

  async append(userId: string, message: BusMessage): Promise<BusEntry | null> {
    const now = this.now();
    const log = this.#log(userId);
    if (message.origin === 'upstream') {
      for (const [key, expiresAt] of this.#seen) {
        if (expiresAt > now) break;
        this.#seen.delete(key);
      }
      const key = `${userId}\n${message.event.id}`;
      if (this.#seen.has(key)) return null;
      this.#seen.set(key, now + this.options.seenMs);
      log.lastUpstream = { id: message.event.id, expiresAt: now + LAST_UPSTREAM_ID_MS };
    }
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#seq = 0;
    } else {
      this.#seq += 1;
    }
    // A copy, as Redis would give: listeners never share objects with the publisher.
    const copy = decodeMessage(encodeMessage(message))!;
    const entry: BusEntry = { epoch: this.#epoch, position: `${this.#lastMs}-${this.#seq}`, message: copy };
    log.entries.push(entry);
    this.#prune(log, now);
    for (const listener of [...(this.#listeners.get(userId) ?? [])]) listener(entry);
    return entry;
  }

  async subscribe(userId: string, listener: BusListener): Promise<() => Promise<void>> {
    const set = this.#listeners.get(userId) ?? new Set();
    set.add(listener);
    this.#listeners.set(userId, set);
    return async () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(userId) === set) this.#listeners.delete(userId);
    };
  }

  async read(userId: string, after: Cursor | null): Promise<LogRead> {
    const now = this.now();
    const log = this.#logs.get(userId);
    if (log) this.#prune(log, now);
    const entries = log?.entries ?? [];
    const position = entries.at(-1)?.position ?? this.#reservePosition(now);
    if (!after) return { kind: 'replay', epoch: this.#epoch, position, entries: [] };
    if (!replayable(after, this.#epoch, position, log?.floor ?? null, now - this.options.retentionMs)) {
      return { kind: 'missed', epoch: this.#epoch, position };
    }
    return { kind: 'replay', epoch: this.#epoch, position, entries: entries.filter((e) => comparePositions(e.position, after.position) > 0) };
  }

  async lastUpstreamId(userId: string): Promise<string | null> {
    const last = this.#logs.get(userId)?.lastUpstream;
    return last && last.expiresAt > this.now() ? last.id : null;
  }

  onResync(): () => void {
    return () => undefined; // one process: live delivery misses nothing
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#listeners.clear();
  }

  /** A position no entry has, before every entry to come (a user without entries starts there). */
  #reservePosition(now: number): string {
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#seq = 0;
    }
    return `${this.#lastMs}-${this.#seq}`;
  }

  #log(userId: string): MemoryLog {
    let log = this.#logs.get(userId);
    if (!log) {
      log = { entries: [], floor: null, lastUpstream: null };
      this.#logs.set(userId, log);
    }
    return log;
  }

  #prune(log: MemoryLog, now: number): void {
    const oldest = now - this.options.retentionMs;
    let drop = 0;
    while (drop < log.entries.length && positionMs(log.entries[drop]!.position) < oldest) drop += 1;
    const over = log.entries.length - drop - this.options.maxEntries;
    if (over > 0) {
      drop += over;
      log.floor = log.entries[drop]!.position;
    }
    if (drop > 0) log.entries.splice(0, drop);
  }

  #sweepAll(): void {
    const now = this.now();
    for (const [userId, log] of this.#logs) {
      this.#prune(log, now);
      if (log.entries.length === 0 && (!log.lastUpstream || log.lastUpstream.expiresAt <= now)) this.#logs.delete(userId);
    }
  }
}

/** Whether the log can replay what came after `after`: same epoch, inside the window, not past the log's end. */
function replayable(after: Cursor, epoch: string, last: string, floor: string | null, oldestMs: number): boolean {
  if (after.epoch !== epoch || positionMs(after.position) < oldestMs) return false;
  if (comparePositions(after.position, last) > 0) return false;
  return floor === null || comparePositions(after.position, floor) >= 0;
}

function positionMs(position: string): number {
  return Number(position.slice(0, position.indexOf('-')));
}
