// A mysql2 pool in memory whose every statement is answered by a script: the unit
// tests of the writes' retries (api/src/purchase.ts, lib/src/data/db.ts) make it fail
// the Nth call with a given error, as MariaDB, Galera or a lost connection would.
import type mysql from "mysql2/promise";
import type { Db } from "@bazaar/lib/data/db.ts";

/** An error as mysql2 gives it: a server's (errno and SQLSTATE) or a connection's (fatal). */
export type DbError = Error & { code: string; errno?: number; sqlState?: string; fatal?: boolean };

/**
 * A server's error: the statement failed, the connection works.
 * @example
 * serverError("ER_LOCK_DEADLOCK", 1213)
 */
export const serverError = (code: string, errno: number, sqlState = "HY000"): DbError =>
  Object.assign(new Error(code), { code, errno, sqlState });

/**
 * A connection's error (fatal): the connection broke, or none could be made.
 * @example
 * connectionError("PROTOCOL_CONNECTION_LOST")
 */
export const connectionError = (code: string): DbError =>
  Object.assign(new Error(code), { code, fatal: true });

/** The errors of a failover, as the apps see them. */
export const FAILOVER_ERRORS = {
  deadlock: () => serverError("ER_LOCK_DEADLOCK", 1213, "40001"),
  notReady: () => serverError("ER_UNKNOWN_COM_ERROR", 1047, "08S01"),
  readOnly: () => serverError("ER_OPTION_PREVENTS_STATEMENT", 1290),
  readOnlyTransaction: () => serverError("ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION", 1792, "25006"),
  lost: () => connectionError("PROTOCOL_CONNECTION_LOST"),
  reset: () => connectionError("ECONNRESET"),
  pipe: () => connectionError("EPIPE"),
};

/** A COMMIT that failed as its Galera node lost the Primary Component: the others may have it. */
export const commitFailed = () => serverError("ER_ERROR_DURING_COMMIT", 1180);

/** One statement as the fake saw it; BEGIN, COMMIT and ROLLBACK are statements too. */
export type Statement = { sql: string; params: unknown[]; connection: number };

/** Answers a statement: returns its rows, throws its error, or never settles (a hung node). */
export type Script = (statement: Statement, index: number) => unknown;

/**
 * A Db over a pool whose statements `script` answers and whose connections
 * `connect` may refuse (throw); what happened is kept for the test to read.
 * @example
 * const fake = fakePool((s, i) => { if (i === 0) throw FAILOVER_ERRORS.deadlock(); return [[{ outcome: "ok" }]]; });
 * await placeOrder(fake.db, "tux", 1, "id-1");
 * expect(fake.statements.length).toBe(2);
 */
export function fakePool(script: Script, connect: (attempt: number) => void = () => {}) {
  const statements: Statement[] = [];
  const ended = { released: 0, destroyed: 0, connects: 0 };
  let connections = 0;
  const connection = (id: number) => {
    const run = async (sql: string, params: unknown[] = []) => {
      const statement = { sql, params, connection: id };
      statements.push(statement);
      return [await script(statement, statements.length - 1), []];
    };
    return {
      query: run,
      beginTransaction: () => run("BEGIN"),
      commit: () => run("COMMIT"),
      rollback: () => run("ROLLBACK"),
      release: () => void ended.released++,
      destroy: () => void ended.destroyed++,
    } as unknown as mysql.PoolConnection;
  };
  const pool = {
    getConnection: () => {
      ended.connects++;
      try {
        connect(ended.connects);
      } catch (err) {
        return Promise.reject(err);
      }
      return Promise.resolve(connection(++connections));
    },
  } as unknown as mysql.Pool;
  const db = { pool } as Db;
  return { db, pool, statements, ended };
}
