// The catalogue as both APIs see it: its queries (every row read checked, db.ts),
// and the names of its cache entries (api reads them, every writer clears them).
import { checked, type Db } from "./db.ts";
import { Item, ItemList } from "./schemas.ts";
import { nameKey } from "./name-key.ts";

/** What "the same name" means everywhere (items.name_key): see name-key.ts. */
export { nameKey };

export const CATALOG = "catalog";
export const catalogEntries = {
  list: `${CATALOG}:list`,
  // "key", not the "item" of the lowercase keys before: an entry that an older
  // version cached under its key (a "not found" for "strasse", say) is never read
  // as the answer for a name that now has that key.
  item: (name: string) => `${CATALOG}:key:${nameKey(name)}`,
};

/** The entries a change to this item makes stale. */
export const affectedBy = (name: string) => [catalogEntries.list, catalogEntries.item(name)];

const COLUMNS = "name, quantity, price";

export async function selectItems(db: Db) {
  return checked(ItemList, await db.query(`SELECT ${COLUMNS} FROM items ORDER BY name`));
}

export async function selectItem(db: Db, name: string) {
  const [row] = await db.query(`SELECT ${COLUMNS} FROM items WHERE name_key = ?`, [nameKey(name)]);
  return row ? checked(Item, row) : null;
}
