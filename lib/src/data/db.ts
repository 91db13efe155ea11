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

/** A write's deadline (`Date.now()` ms): the database gives up before it, and the answer says what happened. */
export type WriteBudget = { deadline: number };

export type Db = {
  pool: mysql.Pool;
  /** Run one statement; rows come back as plain objects. */
  query<T = mysql.RowDataPacket>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Run one data-changing statement. */
  execute(sql: string, params?: unknown[]): Promise<mysql.ResultSetHeader>;
  /**
   * Run statements on one connection inside a transaction. With a budget, the answer
   * is the truth by the deadline (boundedTransaction): 503 "not made" while nothing
   * can have committed, 504 "may or may not" once COMMIT was sent without an answer.
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

const LATE = Symbol("late");

/**
 * `promise`, or LATE once `ms` have passed. A late promise's own failure is
 * swallowed (its connection is destroyed by then); `onLate` gets what it yields.
 */
async function within<T>(
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
 * (docs/internals.md, "Writes that answer the truth"):
 *   before COMMIT is sent, any failure — no connection in time, a lock held past the
 *   lock wait, a statement past the deadline, a broken connection — leaves nothing
 *   committed (the connection is rolled back or destroyed, which rolls back): 503;
 *   once COMMIT is sent, no answer in time or a broken connection is 504 unknown.
 * The work's own refusals (fail(409 …)) and conflicts (a deadlock, for a retry) pass through.
 */
async function boundedTransaction<T>(
  pool: mysql.Pool,
  work: (conn: mysql.PoolConnection) => Promise<T>,
  { deadline }: WriteBudget,
): Promise<T> {
  const left = () => deadline - Date.now();
  const conn = await connectionWithin(pool, left()).catch((err) =>
    notMade("the database could not be reached", err)
  );
  if (!conn) return notMade("the database did not answer in time");
  let result: T | typeof LATE;
  try {
    // The database gives up on a held row within the budget (InnoDB's default is 50 s).
    const lockWait = Math.max(1, Math.floor(left() / 1000));
    result = await within(
      (async () => {
        await conn.query(`SET SESSION innodb_lock_wait_timeout = ${lockWait}`);
        await conn.beginTransaction();
        return await work(conn);
      })(),
      left(),
    );
  } catch (err) {
    if (isConnectionLost(err) || isQueryKilled(err)) {
      conn.destroy();
      notMade("the database connection broke before it was saved", err);
    }
    await conn.rollback().then(() => conn.release(), () => conn.destroy());
    if (isLockWaitTimeout(err)) notMade("another change holds the item", err);
    throw err;
  }
  if (result === LATE) {
    // Closing the connection before COMMIT rolls the transaction back on the server.
    conn.destroy();
    return notMade("the database did not answer in time");
  }
  let committed: unknown;
  try {
    committed = await within(conn.commit(), Math.max(left(), COMMIT_FLOOR_MS));
  } catch {
    committed = LATE;
  }
  if (committed === LATE) {
    conn.destroy();
    fail(504, OUTCOME_UNKNOWN);
  }
  conn.release();
  return result;
}

const RETRYABLE = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT", "ER_DUP_ENTRY"]);

/**
 * Runs a whole transaction again when the database rolled it back for a conflict
 * with a concurrent one (a deadlock, or a unique key another writer just took):
 * the rollback undid everything, so the retry starts clean.
 */
export async function retryOnConflict<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts || !RETRYABLE.has((err as { code?: string }).code ?? "")) throw err;
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
