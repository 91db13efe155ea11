// The MySQL pool, shared by api and admin-api. A database that cannot be reached
// becomes a 503 (Unavailable), never a hang or a stack trace; a row read that breaks
// its schema becomes a 500 (`checked`), never an answer.
import mysql from "mysql2/promise";
import * as v from "valibot";
import { HTTPException } from "hono/http-exception";
import { fail, Unavailable } from "../http.ts";

export type DbConfig = {
  DB_HOST: string;
  DB_PORT: number;
  DB_NAME: string;
  DB_USER: string;
  DB_PASSWORD: string;
  DB_POOL_SIZE: number;
};

// The connection broke, or none could be made: nothing more is sent on it, and a
// statement sent on it may or may not have run.
const CONNECTION_LOST = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ECONNABORTED",
]);

const sqlCode = (err: unknown) => (err as { code?: string } | undefined)?.code ?? "";

/**
 * The connection to the database broke or could not be made (mysql2 marks such an
 * error `fatal`).
 * @example
 * if (isConnectionLost(err)) conn.destroy();
 */
export const isConnectionLost = (err: unknown) =>
  CONNECTION_LOST.has(sqlCode(err)) || (err as { fatal?: boolean } | undefined)?.fatal === true;

/**
 * The database gave up waiting for a row another transaction holds
 * (innodb_lock_wait_timeout): the statement failed, the connection is fine.
 * @example
 * if (isLockWaitTimeout(err)) fail(503, "another change holds the item");
 */
export const isLockWaitTimeout = (err: unknown) => sqlCode(err) === "ER_LOCK_WAIT_TIMEOUT";

/**
 * The statement was ended from outside while it ran (KILL QUERY). The connection still
 * works, but its session may not be as it was: a killed procedure can leave its
 * transaction open. Roll it back (or close the connection) before pooling it again.
 * @example
 * if (isQueryKilled(err)) await conn.query("ROLLBACK").then(() => conn.release(), () => conn.destroy());
 */
export const isQueryKilled = (err: unknown) => sqlCode(err) === "ER_QUERY_INTERRUPTED";

// Rolled back whole by the server, for a reason a moment (or another node) may mend:
// 1213 ER_LOCK_DEADLOCK (a deadlock, or Galera's certification failure), 1062
// ER_DUP_ENTRY (a unique key a concurrent writer just took: the retry looks again),
// 1047 ER_UNKNOWN_COM_ERROR ("WSREP has not yet prepared node for application use":
// a Galera node out of the Primary Component), 1290 ER_OPTION_PREVENTS_STATEMENT and
// 1792 ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (a read-only node).
const RUN_AGAIN = new Set([1213, 1062, 1047, 1290, 1792]);
// Of those, the ones that say the connection's node cannot write: it is closed, not pooled.
const WRONG_NODE = new Set([1047, 1290, 1792]);

const errnoOf = (err: unknown) => (err as { errno?: unknown } | undefined)?.errno;

// A COMMIT that failed on a node losing the Primary Component: 1180 ER_ERROR_DURING_COMMIT
// ("Got error 6 during COMMIT", seen in a failover test) or 1047. The node rolled back,
// but its writeset may already have reached the others, who commit it.
const COMMIT_UNCERTAIN = new Set([1180, 1047]);

/**
 * The database refused the statement and rolled the transaction back for a reason a
 * retry may get past: a deadlock or certification failure, a unique key taken by a
 * concurrent writer, a node not ready or read-only (docs/internals.md, "Failover:
 * the app's side"). Nothing of the transaction was kept; run it again whole.
 * @example
 * if (mayRunAgain(err)) continue;
 */
export const mayRunAgain = (err: unknown) => RUN_AGAIN.has(errnoOf(err) as number);

/**
 * The error may have come from a COMMIT on a Galera node losing the Primary Component
 * (1180, or 1047 on a COMMIT): its own rollback does not say the others did not commit
 * it. The outcome is unknown; a certification failure (1213) is not this (it is decided
 * alike on every node).
 * @example
 * if (commitUncertain(err)) inDoubt = true;
 */
export const commitUncertain = (err: unknown) => COMMIT_UNCERTAIN.has(errnoOf(err) as number);

/**
 * The connection's node cannot take writes (not ready, read-only): close it rather
 * than pool it, so the next attempt connects afresh (through the proxy, to the writer).
 * @example
 * wrongNode(err) ? conn.destroy() : conn.release();
 */
export const wrongNode = (err: unknown) => WRONG_NODE.has(errnoOf(err) as number);

/**
 * An error the database server answered (it carries an SQLSTATE) on a connection that
 * still works: the statement failed, and a transaction rolled back after it kept nothing.
 * @example
 * if (isServerError(err)) fail(503, "nothing was changed");
 */
export const isServerError = (err: unknown) =>
  typeof (err as { sqlState?: unknown } | undefined)?.sqlState === "string" && !isConnectionLost(err);

// No database to be had at all: nothing listens at the address, or the name does not
// resolve. No other node stands behind it (with DB_NODES=3 the apps reach the cluster's
// HAProxy, which listens while any node lives), so waiting would only delay the 503.
const NOWHERE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

/**
 * A connection could not be made because there is nothing to connect to: answer at
 * once rather than wait out a failover budget (a stopped single database).
 * @example
 * if (isUnreachable(err)) fail(503, "the database is unavailable");
 */
export const isUnreachable = (err: unknown) => NOWHERE.has(sqlCode(err));

/**
 * Waits before attempt `attempt + 1`: 50, 100, 200, then 400 ms (a little less at
 * random, so retries spread), never past `deadline`.
 * @example
 * await pauseBeforeRetry(attempt, deadline);
 */
export const pauseBeforeRetry = (attempt: number, deadline: number) => {
  const ms = 50 * 2 ** Math.min(attempt - 1, 3) * (0.75 + Math.random() / 4);
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(deadline - Date.now(), ms))));
};

/**
 * A write's deadline (`Date.now()` ms): the database gives up before it, and the answer
 * says what happened. `rerunnable`: the work first looks for what an earlier run of it
 * committed (an idempotency key), so one whose COMMIT went unanswered may be run again
 * to learn the outcome, rather than answered 504.
 */
export type WriteBudget = { deadline: number; rerunnable?: boolean };

export type Db = {
  pool: mysql.Pool;
  /** Run one statement; rows come back as plain objects. */
  query<T = mysql.RowDataPacket>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Run one data-changing statement. */
  execute(sql: string, params?: unknown[]): Promise<mysql.ResultSetHeader>;
  /**
   * Run statements on one connection inside a transaction. With a budget, the answer
   * is the truth by the deadline (boundedTransaction): run again after a failover's
   * errors while the budget lasts, 503 "not made" while nothing can have committed,
   * 504 "may or may not" once COMMIT was sent without an answer.
   */
  transaction<T>(work: (conn: mysql.PoolConnection) => Promise<T>, budget?: WriteBudget): Promise<T>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
};

export function createDb(config: DbConfig): Db {
  const pool = mysql.createPool({
    host: config.DB_HOST,
    port: config.DB_PORT,
    database: config.DB_NAME,
    user: config.DB_USER,
    password: config.DB_PASSWORD,
    connectionLimit: config.DB_POOL_SIZE,
    maxIdle: config.DB_POOL_SIZE,
    waitForConnections: true,
    queueLimit: 1000,
    connectTimeout: 2000,
    enableKeepAlive: true,
    decimalNumbers: true,
    dateStrings: false,
    timezone: "Z",
    charset: "utf8mb4_unicode_ci",
  });
  // An idle connection that dies is replaced on next use; the pool must not crash the app.
  pool.on("connection", (conn) => conn.on("error", () => {}));

  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      // The database did not serve the statement: for this call it is unavailable.
      if (isConnectionLost(err) || isLockWaitTimeout(err) || isQueryKilled(err)) {
        throw new Unavailable("the database", err);
      }
      throw err;
    }
  };

  return {
    pool,
    query: <T>(sql: string, params: unknown[] = []) =>
      guard(async () => (await pool.query(sql, params))[0] as T[]),
    execute: (sql, params = []) =>
      guard(async () => (await pool.query(sql, params))[0] as mysql.ResultSetHeader),
    transaction: (work, budget) =>
      budget ? boundedTransaction(pool, work, budget) : guard(async () => {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          const result = await work(conn);
          await conn.commit();
          return result;
        } catch (err) {
          await conn.rollback().catch(() => {});
          throw err;
        } finally {
          conn.release();
        }
      }),
    async ping() {
      try {
        await pool.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
  };
}

/** The message of a write that certainly did not happen (503). */
export const NOT_MADE = "the change was not made";

/** The message of a write whose COMMIT was sent and never answered (504). */
export const OUTCOME_UNKNOWN =
  "the change may or may not have been made: the database did not confirm it in time; check before trying again (sent again with the same Idempotency-Key, it is made at most once)";

// A COMMIT sent with little budget left still gets this long before it is called unknown.
const COMMIT_FLOOR_MS = 250;

/** What within() gives when the promise did not settle in time. */
export const LATE = Symbol("late");

/**
 * `promise`, or LATE once `ms` have passed. A late promise's own failure is
 * swallowed (its connection is destroyed by then); `onLate` gets what it yields.
 * @example
 * const rows = await within(conn.query("CALL place_order(…)"), left);
 * if (rows === LATE) conn.destroy();
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  promise.then((value) => late && onLate?.(value), () => {});
  try {
    return await Promise.race([
      promise,
      new Promise<typeof LATE>((
        resolve,
      ) => (timer = setTimeout(() => resolve((late = true, LATE)), Math.max(0, ms)))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A pool connection within `ms`, or null when none came in time (nothing was sent:
 * the caller answers 503). One that arrives too late goes straight back to the
 * pool; a failure to connect is thrown.
 * @example
 * const conn = await connectionWithin(db.pool, 1000);
 * if (!conn) fail(503, "the order was not placed: the store is busy");
 */
export async function connectionWithin(pool: mysql.Pool, ms: number): Promise<mysql.PoolConnection | null> {
  const conn = await within(pool.getConnection(), ms, (late) => late.release());
  return conn === LATE ? null : conn;
}

/** 503: nothing can have been committed. The cause, when there is one, is logged (never answered). */
const notMade = (why: string, cause?: unknown): never => {
  throw new HTTPException(503, {
    message: `${NOT_MADE}: ${why}; nothing was changed, please try again`,
    cause,
  });
};

/**
 * A transaction that answers by `deadline`, and only what is true
 * (docs/internals.md, "Writes that answer the truth", "Failover: the app's side"):
 *   before COMMIT is sent, any failure leaves nothing committed (the connection is
 *   rolled back or destroyed, which rolls back). A lost connection, a deadlock or
 *   certification failure, a node not ready or read-only: run again whole while the
 *   budget lasts. No connection in time, nothing to connect to, a row held past the
 *   lock wait, a statement past the deadline, any other error the server answered: 503.
 *   Once COMMIT is sent, no answer in time, a broken connection or a COMMIT that
 *   failed as its node lost the Primary Component (commitUncertain) is 504 unknown;
 *   unless the work is `rerunnable` (it finds an earlier run's commit by its key), and
 *   then it is run again to learn the outcome while the budget lasts. Once an attempt's
 *   outcome is unknown, giving up is 504, never 503.
 * The work's own refusals (fail(409 …)) pass through.
 * @example
 * await boundedTransaction(db.pool, (conn) => conn.query("UPDATE …"), { deadline: Date.now() + 7000 });
 */
export async function boundedTransaction<T>(
  pool: mysql.Pool,
  work: (conn: mysql.PoolConnection) => Promise<T>,
  { deadline, rerunnable = false }: WriteBudget,
): Promise<T> {
  const left = () => deadline - Date.now();
  let inDoubt = false;
  const giveUp = (why: string, cause?: unknown): never =>
    inDoubt ? fail(504, OUTCOME_UNKNOWN) : notMade(why, cause);
  for (let attempt = 1;; attempt++) {
    if (attempt > 1) {
      await pauseBeforeRetry(attempt - 1, deadline);
      if (left() <= 0) giveUp("the database did not answer in time");
    }
    let conn: mysql.PoolConnection | null;
    try {
      conn = await connectionWithin(pool, left());
    } catch (err) {
      if (isUnreachable(err)) giveUp("the database could not be reached", err);
      continue;
    }
    if (!conn) return giveUp("the database did not answer in time");
    let result: T | typeof LATE;
    try {
      // The database gives up on a held row within 1 s (InnoDB's default is 50 s): an
      // admin's form is answered "nothing was changed, try again" rather than kept
      // waiting; behind a purchase whose COMMIT waits out a failover (about 1.5 s) that
      // may be the answer too (docs/internals.md, "Failover: the app's side").
      result = await within(
        (async () => {
          await conn.query("SET SESSION innodb_lock_wait_timeout = 1");
          await conn.beginTransaction();
          return await work(conn);
        })(),
        left(),
      );
    } catch (err) {
      if (isConnectionLost(err) || isQueryKilled(err) || wrongNode(err)) {
        conn.destroy();
        if (isQueryKilled(err)) giveUp("the database connection broke before it was saved", err);
        continue;
      }
      await conn.rollback().then(() => conn.release(), () => conn.destroy());
      // A held row after a COMMIT whose answer was lost: run again, while the budget lasts, to settle it.
      if (mayRunAgain(err) || (inDoubt && isLockWaitTimeout(err))) continue;
      if (isLockWaitTimeout(err)) giveUp("another change holds the item", err);
      // Rolled back above: whatever the server refused (docs/reliability.md, "Left open"), nothing was kept.
      if (isServerError(err)) giveUp("the database refused it", err);
      throw err;
    }
    if (result === LATE) {
      // Closing the connection before COMMIT rolls the transaction back on the server.
      conn.destroy();
      return giveUp("the database did not answer in time");
    }
    let committed: unknown;
    try {
      committed = await within(conn.commit(), Math.max(left(), COMMIT_FLOOR_MS));
    } catch (err) {
      // A COMMIT refused by the server (Galera's certification failure: 1213) kept nothing;
      // one that failed as its node lost the Primary Component may be kept by the others.
      if (isServerError(err) && !commitUncertain(err)) {
        wrongNode(err) ? conn.destroy() : conn.release();
        if (mayRunAgain(err)) continue;
        giveUp("the database refused it", err);
      }
      committed = LATE;
    }
    if (committed === LATE) {
      conn.destroy();
      inDoubt = true;
      if (rerunnable && left() > 0) continue;
      fail(504, OUTCOME_UNKNOWN);
    }
    conn.release();
    return result;
  }
}

/**
 * Runs a statement or transaction again when the database rolled it back for a reason
 * a retry may get past (mayRunAgain: a deadlock or certification failure, a unique key
 * a concurrent writer just took, a node not ready or read-only; or a row lock not
 * granted in time): the rollback undid everything, so the retry starts clean. A short
 * pause before each retry.
 * @example
 * await retryOnConflict(() => db.execute("UPDATE items SET quantity = ? WHERE quantity = 0", [100]));
 */
export async function retryOnConflict<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts || !(mayRunAgain(err) || isLockWaitTimeout(err))) throw err;
      await pauseBeforeRetry(i, Number.POSITIVE_INFINITY);
    }
  }
}

/** Rows from MySQL are checked before they are served: bad data is an error, not an answer. */
export function checked<S extends v.GenericSchema>(schema: S, rows: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, rows);
  if (!result.success) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "invalid data in the database",
        issues: v.flatten(result.issues),
      }),
    );
    fail(500, "invalid data in the database");
  }
  return result.output;
}
