import { expect, test } from "bun:test";
import { isConnectionLost, isLockWaitTimeout, isQueryKilled } from "./db.ts";

const error = (code: string, fatal = false) => Object.assign(new Error(code), { code, fatal });

test("a lost connection, a lock wait that timed out and a killed query are three things", () => {
  const cases = [
    [error("ECONNRESET", true), [true, false, false]],
    [error("PROTOCOL_CONNECTION_LOST", true), [true, false, false]],
    [error("ER_CON_COUNT_ERROR"), [true, false, false]],
    [error("ER_LOCK_WAIT_TIMEOUT"), [false, true, false]],
    [error("ER_QUERY_INTERRUPTED"), [false, false, true]],
    [error("ER_DUP_ENTRY"), [false, false, false]],
    [new Error("no code"), [false, false, false]],
    [undefined, [false, false, false]],
  ] as const;
  for (const [err, expected] of cases) {
    expect([isConnectionLost(err), isLockWaitTimeout(err), isQueryKilled(err)], String(err)).toEqual([
      ...expected,
    ]);
  }
});
