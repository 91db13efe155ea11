// The admin's writes to the catalogue, each the work of one transaction (./once.ts
// runs it, with its deadline and Idempotency-Key) that locks the row it changes, so
// concurrent restocks and purchases add up exactly. An insert or a delete answers the
// list's new floor (catalog_meta.row_changes after it, read in the same transaction):
// the routes clear the cache with it once the write has committed.
import type { PoolConnection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import * as v from "valibot";
import { nameKey } from "@bazaar/lib/data/catalog-db.ts";
import { checked, type Db, retryOnConflict as retried } from "@bazaar/lib/data/db.ts";
import { fail } from "@bazaar/lib/http.ts";
import { type AddedItem, type AddItem, type CorrectItem, Item, MAX_STOCK } from "@bazaar/lib/schemas.ts";

const lockItem = async (conn: PoolConnection, name: string) => {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT name, quantity, price FROM items WHERE name_key = ? FOR UPDATE",
    [nameKey(name)],
  );
  return rows[0] ? checked(Item, rows[0]) : null;
};

/** The count of inserts and deletes so far, as this transaction sees it (its own included). */
const rowChanges = async (conn: PoolConnection) => {
  const [rows] = await conn.query<RowDataPacket[]>("SELECT row_changes FROM catalog_meta WHERE id = 1");
  return Number(rows[0]?.row_changes ?? 0);
};

const cents = (price: number) => Math.round(price * 100);

/**
 * Adds stock: a new name is inserted (its price required), a known one restocked. A
 * restock keeps the item's price, unless the price given differs and the caller says
 * what price it saw (`was_price`) and that is still the item's: the same stale-page
 * check as a correction, so a price corrected meanwhile is never overwritten.
 */
export const addItem = async (
  conn: PoolConnection,
  { name, quantity, price, was_price }: AddItem,
): Promise<{ added: AddedItem; listFloor?: number }> => {
  const current = await lockItem(conn, name);
  if (!current) {
    if (price === undefined) {
      fail(400, "price: is required for a new item", { price: "is required for a new item" });
    }
    await conn.query("INSERT INTO items (name, name_key, quantity, price) VALUES (?, ?, ?, ?)", [
      name,
      nameKey(name),
      quantity,
      price,
    ]);
    return {
      added: { action: "inserted" as const, item: { name, quantity, price } },
      listFloor: await rowChanges(conn),
    };
  }
  const repriced = price !== undefined && cents(price) !== cents(current.price);
  if (repriced && (was_price === undefined || cents(was_price) !== cents(current.price))) {
    const now = current.price.toFixed(2);
    fail(
      409,
      was_price === undefined
        ? `price: ${current.name} costs ${now}; a restock keeps the price unless the price it replaces is given (was_price)`
        : `price: ${current.name} costs ${now} now, not ${was_price.toFixed(2)}: it changed meanwhile`,
      {
        price: was_price === undefined
          ? `is ${now}: a restock keeps it (correct the price in the item's row)`
          : `is ${now} now, not ${was_price.toFixed(2)}: it changed meanwhile`,
      },
    );
  }
  const next = current.quantity + quantity;
  if (next > MAX_STOCK) {
    fail(
      409,
      `quantity: restocking ${current.name} would exceed 1,000,000 (it has ${current.quantity})`,
      { quantity: "would exceed 1,000,000 in stock" },
    );
  }
  await conn.query("UPDATE items SET quantity = ?, price = ? WHERE name_key = ?", [
    next,
    price ?? current.price,
    nameKey(name),
  ]);
  return {
    added: {
      action: "restocked" as const,
      item: { name: current.name, quantity: next, price: price ?? current.price },
      previous_quantity: current.quantity,
      previous_price: current.price,
    },
  };
};

/**
 * A correction sets the values given, on one condition: the item still has the
 * values the corrector saw (`was_quantity`, `was_price`, when given). Checked under
 * the row's lock, and the UPDATE is conditional on the values read, so a purchase
 * or another correction in between is never overwritten: the caller gets 409 with
 * the current values instead, and nothing changes.
 */
export const correctItem = async (
  conn: PoolConnection,
  name: string,
  { was_quantity, was_price, ...change }: CorrectItem,
) => {
  const current = await lockItem(conn, name);
  if (!current) fail(404, "item not found");
  const stale: Record<string, string> = {};
  if (was_quantity !== undefined && current.quantity !== was_quantity) {
    stale.quantity =
      `is ${current.quantity} now, not ${was_quantity}: it changed meanwhile (sold or corrected)`;
  }
  if (was_price !== undefined && cents(current.price) !== cents(was_price)) {
    stale.price = `is ${current.price.toFixed(2)} now, not ${was_price.toFixed(2)}: it changed meanwhile`;
  }
  if (Object.keys(stale).length) {
    const what = Object.entries(stale).map(([field, why]) => `${field} ${why}`).join("; ");
    fail(409, `${current.name} was not changed: its ${what}`, stale);
  }
  const item = {
    name: current.name,
    quantity: change.quantity ?? current.quantity,
    price: change.price ?? current.price,
  };
  const result = await conn.query<ResultSetHeader>(
    "UPDATE items SET quantity = ?, price = ? WHERE name_key = ? AND quantity = ? AND price = ?",
    [item.quantity, item.price, nameKey(name), current.quantity, current.price],
  );
  // Cannot happen under the lock; if it ever did, say so rather than claim a change.
  if (result[0].affectedRows !== 1) fail(409, `${current.name} was not changed: it changed meanwhile`);
  return { item };
};

export const deleteItem = async (conn: PoolConnection, name: string) => {
  const current = await lockItem(conn, name);
  if (!current) fail(404, "item not found");
  await conn.query("DELETE FROM items WHERE name_key = ?", [nameKey(name)]);
  return { item: current, listFloor: await rowChanges(conn) };
};

/**
 * Every item at 0 back to `to` (the timed restocking, ./restock.ts); the items it
 * restocked, as they are now. Each row changes only if it is still at 0 when the
 * UPDATE reaches it (a purchase cannot take it below, an admin may have restocked
 * it meanwhile), so nothing anyone else wrote is overwritten; the rows are the zero
 * ones read just before (by primary key), so no other item is touched.
 */
export async function restockEmpty(db: Db, to: number): Promise<Item[]> {
  const rows = await db.query<{ id: number } & Record<string, unknown>>(
    "SELECT id, name, quantity, price FROM items WHERE quantity = 0 ORDER BY name",
  );
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const empty = checked(v.array(Item), rows);
  const result = await retried(() =>
    db.execute("UPDATE items SET quantity = ? WHERE quantity = 0 AND id IN (?)", [to, ids])
  );
  if (result.affectedRows === empty.length) return empty.map((i) => ({ ...i, quantity: to }));
  // Some changed in between: say what each is now (for the log, and the caches to clear).
  return checked(
    v.array(Item),
    await db.query("SELECT name, quantity, price FROM items WHERE id IN (?) ORDER BY name", [ids]),
  );
}

const Summary = v.object({
  items: v.number(),
  units: v.number(),
  out_of_stock: v.number(),
  value: v.number(),
});

/** Figures over every item (the inventory's cards): how many, units in stock, sold out, and stock value. */
export async function inventorySummary(db: Db) {
  const [row] = await db.query(
    "SELECT COUNT(*) AS items, COALESCE(SUM(quantity), 0) AS units, " +
      "COALESCE(SUM(quantity = 0), 0) AS out_of_stock, COALESCE(SUM(quantity * price), 0) AS value FROM items",
  );
  return checked(Summary, row);
}
