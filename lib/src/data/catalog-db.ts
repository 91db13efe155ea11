// The catalogue in MySQL, as both APIs read it: items by key, pages of the list in name
// order (optionally only names containing a search text), and the cache's outbox.
// Every row read is checked (db.ts) before anything is made of it.
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { checked, type Db } from "./db.ts";
import { Item } from "../schemas.ts";
import { nameKey } from "../name-key.ts";

/** What "the same name" means everywhere (items.name_key): see ../name-key.ts. */
export { nameKey };

const COLUMNS = "name, quantity, price";

/** An item with what names its state: its id and row version (never reused together). */
export type ItemRow = { id: number; version: number; key: string; item: Item };

const KeyColumn = v.pipe(
  v.instance(Buffer),
  v.transform((b) => b.toString("utf8")),
);
const ItemRowSchema = v.object({
  ...Item.entries,
  id: v.number(),
  version: v.number(),
  name_key: KeyColumn,
});

/** The items with these name keys (those that exist), by key. */
export async function selectItemsByKey(db: Db, keys: string[]): Promise<Map<string, ItemRow>> {
  const found = new Map<string, ItemRow>();
  if (keys.length === 0) return found;
  const rows = await db.query(
    `SELECT id, version, name_key, ${COLUMNS} FROM items WHERE name_key IN (?)`,
    [keys],
  );
  for (const row of rows) {
    const { id, version, name_key, ...item } = checked(ItemRowSchema, row);
    found.set(name_key, { id, version, key: name_key, item });
  }
  return found;
}

/** One page of the list: the name keys on it, in name order, and how many match in all. */
export type ListPage = { rowChanges: number; total: number; keys: string[] };

const MetaRow = v.object({ row_changes: v.number(), total: v.number() });
const KeyRow = v.object({ name_key: KeyColumn });

/** `text`, for LIKE: its own % _ and \ taken literally. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/**
 * A page of the list, `perPage` names from the `page`-th (from 1), in name order;
 * with `q` (a name key) only names whose key contains it. `rowChanges` is read
 * first: a page is never tagged newer than what it shows (inserts and deletes raise
 * it, so one made meanwhile leaves the page older, never newer, than its tag).
 */
export async function selectPage(
  db: Db,
  { page, perPage, q }: { page: number; perPage: number; q: string },
): Promise<ListPage> {
  const where = q === "" ? "" : "WHERE name_key LIKE ?";
  const match = q === "" ? [] : [`%${likeLiteral(q)}%`];
  const [meta] = await db.query(
    `SELECT (SELECT row_changes FROM catalog_meta WHERE id = 1) AS row_changes, COUNT(*) AS total FROM items ${where}`,
    match,
  );
  const { row_changes, total } = checked(MetaRow, meta);
  const rows = await db.query(
    `SELECT name_key FROM items ${where} ORDER BY name, id LIMIT ? OFFSET ?`,
    [...match, perPage, (page - 1) * perPage],
  );
  return { rowChanges: row_changes, total, keys: rows.map((r) => checked(KeyRow, r).name_key) };
}

/**
 * One row of the cache's outbox (db/init.sql catalog_outbox): an item's key and its
 * state after a change — (id, version) and the item, or null after a delete.
 */
export type OutboxRow = {
  seq: number;
  id: number;
  version: number;
  key: string;
  item: Item | null;
  rowChanges: number | null;
};

const OutboxRowSchema = v.object({
  seq: v.number(),
  item_id: v.number(),
  version: v.number(),
  name_key: KeyColumn,
  name: v.nullable(v.string()),
  quantity: v.nullable(v.number()),
  price: v.nullable(v.number()),
  row_changes: v.nullable(v.number()),
});

/** The oldest `limit` rows of the outbox not yet applied (deleted once they are). */
export async function selectOutbox(db: Db, limit: number): Promise<OutboxRow[]> {
  const rows = await db.query(
    "SELECT seq, item_id, version, name_key, name, quantity, price, row_changes FROM catalog_outbox " +
      "ORDER BY seq LIMIT ?",
    [limit],
  );
  return rows.map((row) => {
    const r = checked(OutboxRowSchema, row);
    const item = r.name === null
      ? null
      : checked(Item, { name: r.name, quantity: r.quantity, price: r.price });
    return {
      seq: r.seq,
      id: r.item_id,
      version: r.version,
      key: r.name_key,
      item,
      rowChanges: r.row_changes,
    };
  });
}

/** Deletes outbox rows that were applied. */
export async function deleteOutbox(db: Db, seqs: number[]) {
  if (seqs.length) await db.execute("DELETE FROM catalog_outbox WHERE seq IN (?)", [seqs]);
}

/** Deletes every outbox row up to `seq` (after the whole catalogue was dropped), a chunk at a time. */
export async function deleteOutboxThrough(db: Db, seq: number) {
  while ((await db.execute("DELETE FROM catalog_outbox WHERE seq <= ? LIMIT 10000", [seq])).affectedRows) {
    // The next chunk.
  }
}

/** The outbox's newest row. */
export async function lastOutboxSeq(db: Db): Promise<number> {
  const [row] = await db.query<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM catalog_outbox");
  return Number(row?.seq ?? 0);
}
