// Every admin write, made once and answered truthfully by a deadline: one transaction
// with a budget (lib/src/data/db.ts: 503 when nothing can have changed, 504 when COMMIT
// went unanswered), run again whole after a deadlock or a database failover, and, with
// an Idempotency-Key, recorded in that same transaction with its answer. A request that
// comes again with the key (the admin form sent twice, a retry after a 504) gets the
// recorded answer and changes nothing; so does admin-api's own run again after a COMMIT
// whose answer was lost (docs/internals.md, "Writes that answer the truth").
import type { PoolConnection, RowDataPacket } from "mysql2/promise";
import type { Db } from "@bazaar/lib/data/db.ts";
import { fail } from "@bazaar/lib/http.ts";

/**
 * How long an admin write may take, from its arrival to its answer: a failover of the
 * database's writer (DB_NODES=3) and the retries that cover it fit inside, and it ends
 * inside the admin site's 8 s deadline for writes (API_WRITE_TIMEOUT_MS), so
 * admin-api, not the site, says what happened (docs/internals.md, "Failover: the app's side").
 */
export const WRITE_BUDGET_MS = 7000;

/** How long a key and its answer are kept: a retry comes within minutes, not days. */
const KEPT = "INTERVAL 1 DAY";

/** One write as the route saw it: its key (if it has one), and what it asked for. */
export type WriteRequest = {
  /** The request's Idempotency-Key (admin-api/src/routes/items.ts checks its form). */
  key?: string;
  /** Method, path and body: a key that comes back with another request is refused. */
  request: string;
  deadline: number;
};

/**
 * A write request from a route: the key, what was asked, and the deadline from now.
 * @example
 * const write = writeRequest(c.req.valid("header")["idempotency-key"], "POST /items", body);
 */
export const writeRequest = (key: string | undefined, what: string, body: unknown): WriteRequest => ({
  key,
  request: `${what} ${JSON.stringify(body)}`,
  deadline: Date.now() + WRITE_BUDGET_MS,
});

/** The write's value, and whether it is the one recorded for an earlier request with the same key. */
export type Once<T> = { value: T; replayed: boolean };

/**
 * @example
 * const { value, replayed } = await once(db, write, (conn) => addItem(conn, body));
 */
export const once = <T>(
  db: Db,
  { key, request, deadline }: WriteRequest,
  work: (conn: PoolConnection) => Promise<T>,
) =>
  db.transaction(async (conn): Promise<Once<T>> => {
    if (key !== undefined) {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SELECT request, answer FROM admin_writes WHERE idem_key = ?",
        [key],
      );
      if (rows[0]) {
        if (rows[0].request !== request) {
          fail(
            422,
            "Idempotency-Key: already used for a different request; send a new key for a new change",
          );
        }
        return { value: JSON.parse(rows[0].answer) as T, replayed: true };
      }
    }
    const value = await work(conn);
    if (key !== undefined) {
      await conn.query(`DELETE FROM admin_writes WHERE created_at < NOW(3) - ${KEPT} LIMIT 100`);
      // A request racing this one with the same key fails here (duplicate key) once
      // this commits; retried, it finds the answer above.
      await conn.query("INSERT INTO admin_writes (idem_key, request, answer) VALUES (?, ?, ?)", [
        key,
        request,
        JSON.stringify(value),
      ]);
    }
    return { value, replayed: false };
  }, { deadline, rerunnable: key !== undefined });
