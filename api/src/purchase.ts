// One purchase, within a budget that ends before the web tier's deadline, and an
// answer that says what really happened (docs/reliability.md, a held row lock; docs/design.md: "an answer is
// the truth about what happened"; docs/internals.md, "Failover: the app's side"):
//   placed        the procedure committed the order (or had, on an earlier attempt with
//                 the same request id: place_order answers with that order);
//   not placed    it certainly did not: no connection in time, nothing to connect to,
//                 or the database refused or rolled every attempt back (a lock held
//                 longer than place_order's 3 s lock wait) — 503;
//   unknown       an attempt was sent and its connection broke, and no later attempt
//                 got an answer by the deadline; or the call was interrupted (KILL
//                 QUERY), or did not answer by the deadline: it may have committed —
//                 504, and the buyer is told how to look it up.
// A deadlock or certification failure, a node not ready or read-only, a lost connection:
// the call is made again with the same request id while the budget lasts, which also
// settles an attempt whose connection broke (it committed, and its order is answered;
// or it did not, and the order is placed now).
import {
  commitUncertain,
  connectionWithin,
  type Db,
  isConnectionLost,
  isLockWaitTimeout,
  isServerError,
  isUnreachable,
  LATE,
  mayRunAgain,
  pauseBeforeRetry,
  within,
  wrongNode,
} from "@bazaar/lib/data/db.ts";
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
 * How long a purchase may take at the api, from its arrival to its answer: a failover
 * of the database's writer (DB_NODES=3) and the retries that cover it fit inside, and
 * it ends inside web's API_WRITE_TIMEOUT_MS (8 s), so the api, not web, says what
 * happened (docs/internals.md, "Failover: the app's side", has the figures).
 */
export const PURCHASE_BUDGET_MS = 7000;

/**
 * How long a first attempt may wait for a free connection from the pool: a busy store
 * says so after 1 s, as before the retries. A retry (the database failing over) may wait
 * for one as long as the budget lasts.
 */
export const CONNECTION_WAIT_MS = 1000;

/** place_order's own lock wait (db/init.sql: `SET SESSION innodb_lock_wait_timeout = 3`). */
export const PLACE_ORDER_LOCK_WAIT_MS = 3000;

/** Whether another call can wait out a whole lock wait, and its answer come back, before `deadline`. */
const roomForLockWait = (deadline: number) => deadline - Date.now() > PLACE_ORDER_LOCK_WAIT_MS + 500;

export const NOT_PLACED = "the order was not placed";

const LOST = "the order's outcome is unknown: the database connection broke during the purchase";
const UNCONFIRMED = "the order's outcome is unknown: the database failed over while committing it";

// Ended from outside while it ran: ER_QUERY_INTERRUPTED (KILL QUERY), MariaDB's
// max_statement_time, MySQL's max_execution_time.
const INTERRUPTED = new Set(["ER_QUERY_INTERRUPTED", "ER_STATEMENT_TIMEOUT", "ER_QUERY_TIMEOUT"]);

/**
 * What an interrupted place_order may leave on its connection — an open transaction,
 * the procedure's 3 s lock wait — undone, and the connection pooled again; closed
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

/**
 * What the retries did, counted for /healthz (the failover test and the bench read it):
 * purchases retried, retries made, and purchases whose unknown outcome (a connection
 * lost after the call was sent) a retry settled.
 */
export type PurchaseStats = { retried: number; retries: number; settled: number };

/**
 * A purchase's counters, from zero.
 * @example
 * const stats = purchaseStats();
 * await placeOrder(db, key, 1, id, undefined, { stats });
 */
export const purchaseStats = (): PurchaseStats => ({ retried: 0, retries: 0, settled: 0 });

/**
 * Places one order through place_order, retried with the same request id
 * (PURCHASE_BUDGET_MS from now unless `deadline` says otherwise), counting its retries in `stats`.
 * @example
 * const placed = await placeOrder(db, nameKey("Tux"), 1, c.get("requestId"));
 */
export async function placeOrder(
  db: Db,
  key: string,
  quantity: number,
  requestId: string | null,
  price?: number,
  { deadline = Date.now() + PURCHASE_BUDGET_MS, stats }: { deadline?: number; stats?: PurchaseStats } = {},
): Promise<Placed | undefined> {
  // Set (to why) once an attempt may have committed unseen: from then on only an answer
  // of the procedure is the truth, and giving up is 504, never 503.
  let inDoubt: string | undefined;
  let attempt = 0;
  const giveUp = (notPlaced: string): never =>
    inDoubt ? fail(504, inDoubt) : fail(503, `${NOT_PLACED}: ${notPlaced}, please try again`);
  try {
    for (attempt = 1;; attempt++) {
      if (attempt > 1) {
        await pauseBeforeRetry(attempt - 1, deadline);
        if (Date.now() >= deadline) giveUp("the database did not answer in time");
      }
      const left = deadline - Date.now();
      let conn: PoolConnection | null;
      try {
        conn = await connectionWithin(db.pool, attempt === 1 ? Math.min(left, CONNECTION_WAIT_MS) : left);
      } catch (err) {
        // Nothing listens (a stopped database): no other is coming, say so now.
        if (isUnreachable(err)) giveUp("the database is temporarily unavailable");
        continue; // A connection cut while it was made (a proxy with no node up yet), a node not ready: again.
      }
      if (!conn) return giveUp(attempt === 1 ? "the store is busy" : "the database did not answer in time");
      let answer;
      try {
        answer = await within(
          conn.query("CALL place_order(?, ?, ?, ?)", [key, quantity, requestId, price ?? null]),
          deadline - Date.now(),
        );
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        // Sent, and then the connection broke: the procedure may have committed. Asked
        // again with the same request id, it answers with that order or places it now.
        if (isConnectionLost(err)) {
          conn.destroy();
          if (requestId === null) fail(504, LOST);
          inDoubt = LOST;
          continue;
        }
        // Interrupted (KILL QUERY by an operator or a tool, a statement timeout): after the
        // procedure's COMMIT the order was kept, and the error does not say whether it got
        // that far. Nor whether its handler ran: a second kill can cut it short before its
        // ROLLBACK, leaving the transaction open (the item locked, a purchase half made)
        // and the session's 3 s lock wait in place. Both are undone before the connection
        // goes back to the pool; if that fails, it is closed (which rolls back too).
        if (INTERRUPTED.has(code)) {
          await undoInterrupted(conn);
          fail(504, "the order's outcome is unknown: the database interrupted the purchase");
        }
        // The procedure's handler rolled the call back: nothing of it was kept here. But an
        // error its COMMIT may have given on a node losing the Primary Component does not
        // say the others did not commit it: unknown, asked again like a lost connection.
        wrongNode(err) ? conn.destroy() : conn.release();
        if (commitUncertain(err)) {
          if (requestId === null) fail(504, UNCONFIRMED);
          inDoubt = UNCONFIRMED;
          continue;
        }
        // A held row: asked again while the budget has room for a whole lock wait more (a
        // writer's COMMIT can wait out a node's eviction for longer than one: a cut-off
        // follower held purchases 3–5 s in tests/launcher/galera.test.ts). Without that
        // room, a call still waiting at the deadline would leave its outcome unknown.
        if (mayRunAgain(err) || (isLockWaitTimeout(err) && (inDoubt || roomForLockWait(deadline)))) continue;
        if (isLockWaitTimeout(err)) giveUp("the item is busy (another change holds it)");
        if (isServerError(err)) giveUp(`the database refused it (${code || "error"})`);
        throw err;
      }
      if (answer === LATE) {
        // Sent, unanswered by the deadline: it may still commit.
        conn.destroy();
        fail(504, "the order's outcome is unknown: the database did not answer in time");
      }
      conn.release();
      if (inDoubt && stats) stats.settled++;
      return (answer[0] as unknown as [Placed[]])[0]?.[0];
    }
  } finally {
    if (stats && attempt > 1) {
      stats.retried++;
      stats.retries += attempt - 1;
    }
  }
}
