// A map that holds at most a number of bytes of values (as the caller counts them),
// dropping the least recently used first: a tier's memory stays bounded whatever
// the catalogue's size.

export type BoundedMap<K, V> = {
  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined;
  /** Keeps `value`, counted as `bytes`, then drops the least recently used until the total fits. */
  set(key: K, value: V, bytes: number): void;
  delete(key: K): void;
  /** What is held: entries and their bytes. */
  usage(): { entries: number; bytes: number };
};

/**
 * @example
 * const held = boundedMap<string, string>(1024 * 1024);
 * held.set("tux", text, text.length * 2);
 */
export function boundedMap<K, V>(maxBytes: number): BoundedMap<K, V> {
  const entries = new Map<K, { value: V; bytes: number }>();
  let total = 0;
  const remove = (key: K) => {
    const had = entries.get(key);
    if (!had) return;
    entries.delete(key);
    total -= had.bytes;
  };
  return {
    get(key) {
      const had = entries.get(key);
      if (!had) return undefined;
      // Map keeps insertion order: re-inserting makes it the newest.
      entries.delete(key);
      entries.set(key, had);
      return had.value;
    },
    set(key, value, bytes) {
      remove(key);
      entries.set(key, { value, bytes });
      total += bytes;
      for (const oldest of entries.keys()) {
        if (total <= maxBytes || oldest === key) break;
        remove(oldest);
      }
    },
    delete: remove,
    usage: () => ({ entries: entries.size, bytes: total }),
  };
}
