import { expect, test } from "bun:test";
import { isConnectionLost, isLockWaitTimeout, isQueryKilled, retryOnConflict } from "./db.ts";

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

test("retryOnConflict runs again what the database rolled back, a held row too, and nothing else", async () => {
  const failing = (err: Error, failures: number) => {
    let calls = 0;
    return {
      work: async () => {
        if (++calls <= failures) throw err;
        return calls;
      },
      calls: () => calls,
    };
  };
  const rolledBack = [
    Object.assign(error("ER_LOCK_DEADLOCK"), { errno: 1213 }),
    Object.assign(error("ER_DUP_ENTRY"), { errno: 1062 }),
    Object.assign(error("ER_LOCK_WAIT_TIMEOUT"), { errno: 1205 }),
  ];
  for (const err of rolledBack) expect(await retryOnConflict(failing(err, 2).work), err.message).toBe(3);
  const held = failing(Object.assign(error("ER_LOCK_WAIT_TIMEOUT"), { errno: 1205 }), 5);
  await expect(retryOnConflict(held.work)).rejects.toThrow("ER_LOCK_WAIT_TIMEOUT");
  const other = failing(Object.assign(error("ER_NO_SUCH_TABLE"), { errno: 1146 }), 1);
  await expect(retryOnConflict(other.work)).rejects.toThrow("ER_NO_SUCH_TABLE");
  expect([held.calls(), other.calls()]).toEqual([3, 1]);
});
