/**
 * The simulator's memo: the value of `make()` kept under `key` in `map`, which is emptied when it
 * grows past `limit` entries (the inputs are the callers' own, so the memo must not grow without
 * bound).
 */
export function memo<V>(map: Map<string, V>, key: string, make: () => V, limit: number): V {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= limit) map.clear();
    v = make();
    map.set(key, v);
  }
  return v;
}
