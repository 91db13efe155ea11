// The admin's writes to the catalogue, each one transaction that locks the row it
// changes, so concurrent restocks and purchases add up exactly.
import type { PoolConnection, RowDataPacket } from "mysql2/promise";
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
