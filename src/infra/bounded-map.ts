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
