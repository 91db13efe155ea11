// After a write has committed, and before it is answered: the store's cache cleared by
// key prefix — each item's, and the list's after an insert or a delete (its floor
// raised to the database's count of them). When Redis cannot be reached the relay's
// bound is waited out instead, and the answer says so (docs/design.md, Cache).
import { type CatalogCache, directOrRelayed, stemOf } from "@bazaar/lib/data/catalog-cache.ts";
import { nameKey } from "@bazaar/lib/data/catalog-db.ts";
import type { Db } from "@bazaar/lib/data/db.ts";
import type { CacheCleared, Item } from "@bazaar/lib/schemas.ts";
import { restockEmpty } from "./catalog-writes.ts";

/**
 * @example
 * const cache = await clearAfterWrite(redis, ["Tux"]); // "cleared" | "relayed"
 */
export const clearAfterWrite = async (
  redis: CatalogCache,
  names: string[],
  listFloor?: number,
): Promise<CacheCleared> =>
  (await directOrRelayed(() => redis.clear(names.map((n) => stemOf(nameKey(n))), listFloor), redis.feed)) ===
      "direct"
    ? "cleared"
    : "relayed";

/**
 * The timed restocking's step: every item at 0 up to `to` (./catalog-writes.ts restockEmpty),
 * then their prefixes cleared like any admin write, so a round ends with the cache clear.
 * @example
 * restocker({ restockEmpty: restockAndClear(db, redis), plan });
 */
export const restockAndClear = (db: Db, redis: CatalogCache) => async (to: number): Promise<Item[]> => {
  const items = await restockEmpty(db, to);
  if (items.length) await clearAfterWrite(redis, items.map((i) => i.name));
  return items;
};
