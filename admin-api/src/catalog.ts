// The admin's writes to the catalogue, each one transaction that locks the row it
// changes, so concurrent restocks and purchases add up exactly.
import type { PoolConnection, RowDataPacket } from "mysql2/promise";
import * as v from "valibot";
import { checked, nameKey } from "@bazaar/lib/catalog.ts";
import { retryOnConflict as retried, type Db } from "@bazaar/lib/db.ts";
import { fail } from "@bazaar/lib/http.ts";
import { type AddItem, type AddResult, type CorrectItem, Item, MAX_STOCK } from "@bazaar/lib/schemas.ts";

const lockItem = async (conn: PoolConnection, name: string) => {
  const [rows] = await conn.query<RowDataPacket[]>("SELECT name, quantity, price FROM items WHERE name_key = ? FOR UPDATE", [nameKey(name)]);
  return rows[0] ? checked(Item, rows[0]) : null;
};

export const addItem = (db: Db, { name, quantity, price }: AddItem): Promise<AddResult> =>
  retried(() =>
    db.transaction(async (conn) => {
      const current = await lockItem(conn, name);
      if (!current) {
        if (price === undefined) fail(400, "price: is required for a new item", { price: "is required for a new item" });
        await conn.query("INSERT INTO items (name, name_key, quantity, price) VALUES (?, ?, ?, ?)", [name, nameKey(name), quantity, price]);
        return { action: "inserted" as const, item: { name, quantity, price } };
      }
      const next = current.quantity + quantity;
      if (next > MAX_STOCK) {
        fail(409, `quantity: restocking ${current.name} would exceed 1,000,000 (it has ${current.quantity})`, { quantity: "would exceed 1,000,000 in stock" });
      }
      await conn.query("UPDATE items SET quantity = ?, price = ? WHERE name_key = ?", [next, price ?? current.price, nameKey(name)]);
      return { action: "restocked" as const, item: { name: current.name, quantity: next, price: price ?? current.price }, previous_quantity: current.quantity };
    })
  );

export const correctItem = (db: Db, name: string, change: CorrectItem) =>
  db.transaction(async (conn) => {
    const current = await lockItem(conn, name);
    if (!current) fail(404, "item not found");
    const item = { ...current, ...change };
    await conn.query("UPDATE items SET quantity = ?, price = ? WHERE name_key = ?", [item.quantity, item.price, nameKey(name)]);
    return item;
  });

export const deleteItem = (db: Db, name: string) =>
  db.transaction(async (conn) => {
    const current = await lockItem(conn, name);
    if (!current) fail(404, "item not found");
    await conn.query("DELETE FROM items WHERE name_key = ?", [nameKey(name)]);
    return current;
  });

/**
 * Every item at 0 back to `to` (the timed restocking, ./restock.ts); the items it
 * restocked, as they are now. Each row changes only if it is still at 0 when the
 * UPDATE reaches it (a purchase cannot take it below, an admin may have restocked
 * it meanwhile), so nothing anyone else wrote is overwritten; the rows are the zero
 * ones read just before (by primary key), so no other item is touched.
 */
export async function restockEmpty(db: Db, to: number): Promise<Item[]> {
  const rows = await db.query<{ id: number } & Record<string, unknown>>("SELECT id, name, quantity, price FROM items WHERE quantity = 0 ORDER BY name");
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const empty = checked(v.array(Item), rows);
  const result = await retried(() => db.execute("UPDATE items SET quantity = ? WHERE quantity = 0 AND id IN (?)", [to, ids]));
  if (result.affectedRows === empty.length) return empty.map((i) => ({ ...i, quantity: to }));
  // Some changed in between: say what each is now (for the log, and the caches to clear).
  return checked(v.array(Item), await db.query("SELECT name, quantity, price FROM items WHERE id IN (?) ORDER BY name", [ids]));
}
