import { createHash } from 'node:crypto';
import type { AccountEvent, AccountEventType, EventOrigin } from '../domain/account-events.js';

/**
 * Each subscription's filter that makes every change reach its client once.
 *
 * The same change can reach a subscription several times:
 *   1. the upstream socket repeats nothing after a resume, but with Redis every
 *      instance holding a relay socket for the user republishes the same
 *      upstream event: same upstream id;
 *   2. a gateway mutation publishes its event at once (`gw-…` id), and the
 *      upstream socket later delivers the same change under its own id, or
 *      delivered it already (the relay can beat the mutation's HTTP answer).
 *
 * Case 1: upstream ids seen in the window are dropped.
 * Case 2 is matched by content: the key is the event type plus a hash of its
 * data (ids and times left out). A key is kept with two counters, what came
 * from a gateway and is waiting for its upstream echo, and what came from
 * upstream and may still see a late gateway copy; an event of one origin
 * that finds a count of the other consumes it and is not delivered.
 *
 * SettingsUpdated and ProductsUpdated carry the whole state, so for them the
 * client's view is the last snapshot delivered, and the rules keep that view
 * right in every interleaving (test/event-dedupe.test.ts walks them):
 *   - a snapshot equal to the last one delivered is dropped, whatever its
 *     origin: nothing new to show (a no-op mutation, an echo, a late echo);
 *   - the echo of a gateway snapshot is dropped while a gateway snapshot
 *     of the same type delivered after it still waits for its own echo:
 *     echoes come in the upstream's order, so that later one was applied
 *     after this one and is the newer state (the echoes of a burst of
 *     mutations, late after a relay outage, repeat nothing);
 *   - otherwise an upstream snapshot that differs from the last one
 *     delivered is delivered even when it is the echo of a gateway event:
 *     a newer snapshot was shown meanwhile (a later mutation's event
 *     overtook this echo, its echo came first), and the upstream's order is
 *     the true one;
 *   - a gateway snapshot that finds an upstream copy is dropped even when
 *     another snapshot was shown since: it is late, and showing it would
 *     roll the client back.
 * The price is an occasional repeated snapshot in a race, never a wrong
 * final state. ContactVerified is an occurrence, not a state: plain
 * once-per-key matching. Notification (upstream only) and SessionExpired
 * need only the id check.
 *
 * Entries live `windowMs` (an occurrence's echo later than that is delivered
 * again) and at most `maxEntries` of each kind are kept, oldest evicted first.
 */
export interface DedupeOptions {
  /** How long ids and content keys are remembered, in ms. */
  windowMs: number;
  /** At most this many ids, and this many content keys, per subscription. */
  maxEntries: number;
  now?: () => number;
}

const SNAPSHOTS: ReadonlySet<AccountEventType> = new Set(['SettingsUpdated', 'ProductsUpdated']);
const MATCHED: ReadonlySet<AccountEventType> = new Set(['SettingsUpdated', 'ProductsUpdated', 'ContactVerified']);

interface Pending {
  /** Delivered from a gateway, upstream echo not yet seen. */
  gateway: number;
  /** Delivered from upstream, a gateway copy may still come. */
  upstream: number;
  expiresAt: number;
}

export class EventDedupe {
  readonly #ids = new Map<string, number>();
  readonly #keys = new Map<string, Pending>();
  readonly #lastSnapshot = new Map<AccountEventType, string>();
  /** Per snapshot type, the content keys of gateway snapshots delivered and not yet echoed, in delivery order. */
  readonly #unechoed = new Map<AccountEventType, string[]>();
  readonly #options: Required<DedupeOptions>;

  constructor(options: DedupeOptions) {
    this.#options = { now: Date.now, ...options };
  }

  /** True when the event is new for this subscription and must be delivered. */
  admit(event: AccountEvent, origin: EventOrigin): boolean {
    const now = this.#options.now();
    this.#prune(now);
    if (this.#ids.has(event.id)) return false;
    this.#remember(this.#ids, event.id, now + this.#options.windowMs);
    if (!MATCHED.has(event.type)) return true;

    const key = contentKey(event);
    const snapshot = SNAPSHOTS.has(event.type);
    const entry = this.#keys.get(key) ?? { gateway: 0, upstream: 0, expiresAt: 0 };
    entry.expiresAt = now + this.#options.windowMs;
    this.#remember(this.#keys, key, entry);

    const shown = snapshot && this.#lastSnapshot.get(event.type) === key;
    const unechoed = snapshot ? this.#unechoedOf(event.type) : [];
    if (origin === 'gateway') {
      if (entry.upstream > 0) {
        entry.upstream -= 1; // its upstream copy came first
        return false;
      }
      if (shown) return false;
      entry.gateway += 1;
      if (snapshot) unechoed.push(key);
    } else {
      const echo = entry.gateway > 0;
      if (echo) entry.gateway -= 1;
      else entry.upstream += 1;
      if (echo && snapshot) {
        const at = unechoed.indexOf(key);
        if (at >= 0) unechoed.splice(at, 1);
        if (at >= 0 && at < unechoed.length) return false; // a later gateway snapshot, still unechoed, is newer
      }
      if (snapshot ? shown : echo) return false;
    }
    if (snapshot) this.#lastSnapshot.set(event.type, key);
    return true;
  }

  /** The unechoed list of `type`, without keys forgotten meanwhile (expired or evicted). */
  #unechoedOf(type: AccountEventType): string[] {
    const list = (this.#unechoed.get(type) ?? []).filter((key) => this.#keys.has(key));
    this.#unechoed.set(type, list);
    return list;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key); // re-insert: Map order is the eviction order
    map.set(key, value);
    if (map.size > this.#options.maxEntries) map.delete(map.keys().next().value!);
  }

  #prune(now: number): void {
    for (const [id, expiresAt] of this.#ids) {
      if (expiresAt > now) break;
      this.#ids.delete(id);
    }
    for (const [key, entry] of this.#keys) {
      if (entry.expiresAt > now) break;
      this.#keys.delete(key);
    }
  }
}

/** The event type plus a hash of its data, the same for the gateway's copy and the upstream's. */
export function contentKey(event: AccountEvent): string {
  const { id: _id, at: _at, ...data } = event;
  return `${event.type}:${createHash('sha256').update(stableJson(data)).digest('base64url').slice(0, 22)}`;
}

/** JSON with object keys sorted, so equal data gives equal text. */
function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
