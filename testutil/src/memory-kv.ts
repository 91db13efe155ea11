// A KeyValue (lib/src/data/cache.ts: the plain keys admin-api keeps its sessions under)
// held in memory, for admin-api's session tests and admin's in-process stand-in.
import type { KeyValue } from "@bazaar/lib/data/cache.ts";

/**
 * A KeyValue in memory, with a switch to make it fail like an unreachable Redis.
 * @example
 * const redis = memoryKv();
 * const store = sessionStore({ kv: redis.kv });
 * redis.state.down = true; // every call now fails as a refused connection would
 */
export function memoryKv(now = () => Date.now()) {
  const data = new Map<string, { value: string; until: number }>();
  const state = { down: false, calls: 0 };
  const reach = () => {
    state.calls++;
    if (state.down) throw new TypeError("fetch failed: connection refused");
  };
  const kv: KeyValue = {
    async get(key) {
      reach();
      const e = data.get(key);
      if (!e || e.until <= now()) return null;
      return e.value;
    },
    async set(key, value, ttlSeconds) {
      reach();
      data.set(key, { value, until: now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000 });
    },
    async del(key) {
      reach();
      data.delete(key);
    },
  };
  return { kv, data, state };
}
