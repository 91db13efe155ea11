// One purchase, within a budget that ends before the web tier's deadline, and an
// answer that says what really happened (docs/reliability.md, a held row lock; docs/design.md: "an answer is
// the truth about what happened"):
//   placed        the procedure committed the order;
//   not placed    it certainly did not: no connection in time (nothing was sent),
//                 or the database refused or rolled the call back (a lock held longer
//                 than place_order's 1 s lock wait, a deadlock) — 503;
//   unknown       the connection broke after the call was sent, or the call was
//                 interrupted (KILL QUERY): it may have committed — 504, and the
//                 buyer is told how to look it up.
import { connectionWithin, type Db, isConnectionLost, isLockWaitTimeout } from "@bazaar/lib/data/db.ts";
import { fail } from "@bazaar/lib/http.ts";
import type { PoolConnection } from "mysql2/promise";

export type Placed = {
  outcome: "ok" | "not_found" | "insufficient" | "price_changed";
  order_number: number | null;
  name: string | null;
  quantity: number | null;
  unit_price: number | null;
  /** The item as the purchase leaves it (null when there is no such item): its cache entry is updated from it. */
  item_id: number | null;
  item_version: number | null;
  item_quantity: number | null;
  item_price: number | null;
};

/**
 * How long a purchase may wait for a free connection. With place_order's 1 s lock
 * wait (db/init.sql) a purchase has its answer in about 2 s at most, inside web's
 * 3 s API_TIMEOUT_MS, so the database, not the web tier, is the one that gives up.
 */
export const CONNECTION_WAIT_MS = 1000;

export const NOT_PLACED = "the order was not placed";

// Ended from outside while it ran: ER_QUERY_INTERRUPTED (KILL QUERY), MariaDB's
// max_statement_time, MySQL's max_execution_time.
const INTERRUPTED = new Set(["ER_QUERY_INTERRUPTED", "ER_STATEMENT_TIMEOUT", "ER_QUERY_TIMEOUT"]);

// Rolled back by the procedure's handler: nothing of the call was kept.
const ROLLED_BACK = new Set(["ER_LOCK_DEADLOCK", "ER_DUP_ENTRY"]);

/**
 * What an interrupted place_order may leave on its connection — an open transaction,
 * the procedure's 1 s lock wait — undone, and the connection pooled again; closed
 * instead if that fails (docs/reliability.md: a second kill can cut the procedure's
 * handler short). Kept rather than closed, so the pool keeps its warm sessions.
 */
async function undoInterrupted(conn: PoolConnection) {
  try {
    await conn.query("ROLLBACK");
    await conn.query("SET SESSION innodb_lock_wait_timeout = DEFAULT");
    conn.release();
  } catch {
    conn.destroy();
  }
}

export async function placeOrder(
  db: Db,
  key: string,
  quantity: number,
  requestId: string | null,
  price?: number,
): Promise<Placed | undefined> {
  // A deadlock (or a replay racing its original on the request id) is rolled back
  // whole; the call is made again, at most twice more.
  for (let attempt = 1;; attempt++) {
    const conn = await connectionWithin(db.pool, CONNECTION_WAIT_MS).catch(() =>
      fail(503, `${NOT_PLACED}: the database is temporarily unavailable, please try again`)
    );
    if (!conn) {
      fail(503, `${NOT_PLACED}: the store is busy, please try again`);
    }
    try {
      const [rows] =
        (await conn.query("CALL place_order(?, ?, ?, ?)", [key, quantity, requestId, price ?? null]))[0] as [
          Placed[],
        ];
      conn.release();
      return rows?.[0];
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      // Sent, and then the connection broke: the procedure may have committed.
      if (isConnectionLost(err)) {
        conn.destroy();
        fail(504, "the order's outcome is unknown: the database connection broke during the purchase");
      }
      // Interrupted (KILL QUERY by an operator or a tool, a statement timeout): after the
      // procedure's COMMIT the order was kept, and the error does not say whether it got
      // that far. Nor whether its handler ran: a second kill can cut it short before its
      // ROLLBACK, leaving the transaction open (the item locked, a purchase half made)
      // and the session's 1 s lock wait in place. Both are undone before the connection
      // goes back to the pool; if that fails, it is closed (which rolls back too).
      if (INTERRUPTED.has(code)) {
        await undoInterrupted(conn);
        fail(504, "the order's outcome is unknown: the database interrupted the purchase");
      }
      conn.release();
      if (isLockWaitTimeout(err)) {
        fail(503, `${NOT_PLACED}: the item is busy (another change holds it), please try again`);
      }
      if (ROLLED_BACK.has(code) && attempt < 3) continue;
      // Any other error the database answered came from inside the procedure, whose
      // handler rolled it back.
      if (ROLLED_BACK.has(code) || (err as { errno?: number }).errno !== undefined) {
        fail(503, `${NOT_PLACED}: the database refused it (${code || "error"}), please try again`);
      }
      throw err;
    }
  }
}
