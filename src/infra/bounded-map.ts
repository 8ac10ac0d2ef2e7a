/**
 * Room in a bounded in-memory map (the in-memory rate limiter, the
 * idempotency store, the session → user cache, SessionUsers). Nothing
 * happens while the map is below `max`; at `max`, expired entries go first;
 * with `evictLive`, then the oldest live ones (insertion order). True when
 * one more entry fits.
 */
export function makeRoom<K, V>(map: Map<K, V>, max: number, isExpired: (value: V) => boolean, evictLive: boolean): boolean {
  if (map.size < max) return true;
  for (const [key, value] of map) if (isExpired(value)) map.delete(key);
  if (evictLive) {
    for (const key of map.keys()) {
      if (map.size < max) break;
      map.delete(key);
    }
  }
  return map.size < max;
}

/**
 * Room in a bounded map whose insertion order is its expiry order: every
 * entry has the same lifetime and is deleted before it is set again (the
 * in-memory rate limiter, the password recovery flows). Nothing happens
 * below `max`; at `max`, expired entries are dropped from the oldest end,
 * stopping at the first live one, so each costs O(1) however large the map.
 * With `evictLive`, the oldest live entries go next (a general limit: its
 * count starts again); without, the map stays full (a limit that fails
 * closed refuses rather than forget a live count). True when one more entry fits.
 */
export function makeRoomOldestFirst<K, V>(map: Map<K, V>, max: number, isExpired: (value: V) => boolean, evictLive: boolean): boolean {
  if (map.size < max) return true;
  for (const [key, value] of map) {
    if (map.size < max && !isExpired(value)) break;
    if (!evictLive && !isExpired(value)) break;
    map.delete(key);
  }
  return map.size < max;
}

/** The oldest entry of a map (insertion order), or undefined. */
export const oldest = <K, V>(map: Map<K, V>): V | undefined => map.values().next().value;

/**
 * `compute` remembered by its string argument, for pure functions of a few
 * distinct inputs on a hot path (log keys, Accept headers, upstream paths):
 * the first `max` inputs are kept, any later one is computed every time.
 */
export function memoized<V>(compute: (key: string) => V, max: number): (key: string) => V {
  const known = new Map<string, V>();
  return (key) => {
    if (known.has(key)) return known.get(key)!;
    const value = compute(key);
    if (known.size < max) known.set(key, value);
    return value;
  };
}
