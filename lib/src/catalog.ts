// The catalogue as both APIs see it: its queries (every row read checked, db.ts)
// and its versions (what readers revalidate against: docs/internals.md, Versions).
import * as v from "valibot";
import { checked, type Db } from "./db.ts";
import { Item, ItemList } from "./schemas.ts";
import { nameKey } from "./name-key.ts";

/** What "the same name" means everywhere (items.name_key): see name-key.ts. */
export { nameKey };

export const CATALOG = "catalog";

const COLUMNS = "name, quantity, price";

export async function selectItems(db: Db) {
  return checked(ItemList, await db.query(`SELECT ${COLUMNS} FROM items ORDER BY name`));
}

/** An answer and the version it is of (an ETag's value, without the quotes). */
export type Versioned<T> = { version: string; value: T };

const VersionRow = v.object({ row_changes: v.number(), versions: v.number() });

/**
 * The catalogue's version, in one statement (one snapshot): items inserted or
 * deleted ever (catalog_meta) and the sum of the rows' versions. Equal twice only if
 * nothing in the catalogue changed in between (db/init.sql's triggers keep both).
 */
export async function catalogVersion(db: Db): Promise<string> {
  const [row] = await db.query(
    "SELECT (SELECT row_changes FROM catalog_meta WHERE id = 1) AS row_changes, " +
      "CAST(COALESCE(SUM(version), 0) AS UNSIGNED) AS versions FROM items",
  );
  const { row_changes, versions } = checked(VersionRow, row);
  return `c${row_changes}.${versions}`;
}

const VersionedRow = v.object({ ...Item.entries, id: v.number(), version: v.number() });

/** One item and its version (id and row version: ids are never reused), or null. */
export async function selectItemVersioned(db: Db, name: string): Promise<Versioned<Item> | null> {
  const [row] = await db.query(`SELECT id, version, ${COLUMNS} FROM items WHERE name_key = ?`, [
    nameKey(name),
  ]);
  if (!row) return null;
  const { id, version, ...item } = checked(VersionedRow, row);
  return { version: `i${id}.${version}`, value: item };
}
