// Orders as both APIs read them.
import * as v from "valibot";
import { checked, type Db } from "./db.ts";
import { Order, type OrderPage } from "../schemas.ts";

export const orderEntry = (number: number) => `order:${number}`;

export const ORDER_COLUMNS =
  "number, item_name AS name, quantity, unit_price, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at";

// DATE_FORMAT's %f gives microseconds; ISO timestamps carry milliseconds.
const toOrder = (row: Record<string, unknown>) => ({
  ...row,
  number: Number(row.number),
  created_at: String(row.created_at).replace(/(\.\d{3})\d*Z$/, "$1Z"),
});

export async function selectOrder(db: Db, number: number) {
  const [row] = await db.query<Record<string, unknown>>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE number = ?`,
    [number],
  );
  return row ? checked(Order, toOrder(row)) : null;
}

export async function selectOrders(db: Db, page: number, perPage: number): Promise<OrderPage> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${ORDER_COLUMNS} FROM orders ORDER BY number DESC LIMIT ? OFFSET ?`,
    [perPage, (page - 1) * perPage],
  );
  const [count] = await db.query<{ total: number }>("SELECT COUNT(*) AS total FROM orders");
  return {
    orders: checked(v.array(Order), rows.map(toOrder)),
    page,
    per_page: perPage,
    total: Number(count?.total ?? 0),
  };
}

/** An order as the relay remembers it: its number, and its row as text (any other order under that number differs). */
export type OrderPrint = { number: number; print: string };

/**
 * The newest order, and the order numbered `number` if there is one: how the relay sees
 * that the database went back (a restore from a backup, a database made anew): the
 * newest order it saw is gone, or another under its number. Two lookups by the key.
 */
export async function orderPrints(
  db: Db,
  number: number | undefined,
): Promise<{ newest?: OrderPrint; numbered?: OrderPrint }> {
  const PRINT = "number, CONCAT_WS('|', item_id, item_name, quantity, unit_price, " +
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%f'), IFNULL(request_id, '')) AS print";
  const rows = await db.query<{ number: number | string; print: string; which: string }>(
    `(SELECT 'newest' AS which, ${PRINT} FROM orders ORDER BY number DESC LIMIT 1) ` +
      `UNION ALL (SELECT 'numbered' AS which, ${PRINT} FROM orders WHERE number = ?)`,
    [number ?? 0],
  );
  const out: { newest?: OrderPrint; numbered?: OrderPrint } = {};
  for (const row of rows) {
    out[row.which as "newest" | "numbered"] = { number: Number(row.number), print: String(row.print) };
  }
  return out;
}

/** The order a request placed (orders.request_id), or null. */
export async function selectOrderByRequest(db: Db, requestId: string) {
  const [row] = await db.query<Record<string, unknown>>(
    // In the column's character set and collation, so its unique index is used.
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE request_id = CONVERT(? USING ascii) COLLATE ascii_bin`,
    [requestId],
  );
  return row ? checked(Order, toOrder(row)) : null;
}
