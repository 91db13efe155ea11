// The MySQL pool, shared by api and admin-api. A database that cannot be reached
// becomes a 503 (Unavailable), never a hang or a stack trace; a row read that breaks
// its schema becomes a 500 (`checked`), never an answer.
import mysql from "mysql2/promise";
import * as v from "valibot";
import { fail, Unavailable } from "./http.ts";

export type DbConfig = {
  DB_HOST: string;
  DB_PORT: number;
  DB_NAME: string;
  DB_USER: string;
  DB_PASSWORD: string;
  DB_POOL_SIZE: number;
};

const CONNECTION_ERRORS = new Set([
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
  "ER_QUERY_INTERRUPTED",
  "ECONNABORTED",
  "ER_LOCK_WAIT_TIMEOUT",
]);

export const isConnectionError = (err: unknown) =>
  CONNECTION_ERRORS.has((err as { code?: string })?.code ?? "") ||
  (err as { fatal?: boolean })?.fatal === true;

export type Db = {
  pool: mysql.Pool;
  /** Run one statement; rows come back as plain objects. */
  query<T = mysql.RowDataPacket>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Run one data-changing statement. */
  execute(sql: string, params?: unknown[]): Promise<mysql.ResultSetHeader>;
  /** Run statements on one connection inside a transaction. */
  transaction<T>(work: (conn: mysql.PoolConnection) => Promise<T>): Promise<T>;
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
      if (isConnectionError(err)) throw new Unavailable("the database", err);
      throw err;
    }
  };

  return {
    pool,
    query: <T>(sql: string, params: unknown[] = []) =>
      guard(async () => (await pool.query(sql, params))[0] as T[]),
    execute: (sql, params = []) =>
      guard(async () => (await pool.query(sql, params))[0] as mysql.ResultSetHeader),
    transaction: (work) =>
      guard(async () => {
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
