// boundedTransaction's retries and answers (the admin writes), error class by error
// class, over a fake pool (testutil/src/fake-pool.ts): run again while nothing can
// have been kept, or when the work finds an earlier run's commit by its key; 503 only
// when nothing was changed, 504 when a COMMIT went unanswered.
import { describe, expect, test } from "bun:test";
import type { PoolConnection } from "mysql2/promise";
import {
  commitFailed,
  connectionError,
  FAILOVER_ERRORS,
  fakePool,
  type Script,
  serverError,
} from "../../../testutil/src/fake-pool.ts";
import { boundedTransaction } from "./db.ts";

/** The statements a run of the work sends (between BEGIN and COMMIT). */
const work = async (conn: PoolConnection) => {
  await conn.query("UPDATE items SET quantity = quantity + 1");
  return "made";
};

/** The answer: "made", or the status and message of the refusal. */
const answer = (
  script: Script,
  options: { rerunnable?: boolean; ms?: number; connect?: (n: number) => void } = {},
) => {
  const fake = fakePool(script, options.connect);
  const result = boundedTransaction(fake.pool, work, {
    deadline: Date.now() + (options.ms ?? 2000),
    rerunnable: options.rerunnable,
  }).then(
    (value) => ({ status: 200, message: value }),
    (err: { status?: number; message: string }) => ({ status: err.status ?? 500, message: err.message }),
  );
  return { fake, result };
};

/** Fails the first statement matching `sql` with `error()`, `times` times. */
const failOn = (sql: string, error: () => Error, times = 1): Script => {
  let left = times;
  return ({ sql: s }) => {
    if (s.startsWith(sql) && left-- > 0) throw error();
    return [];
  };
};

const runs = (statements: { sql: string }[]) => statements.filter((s) => s.sql.startsWith("UPDATE")).length;

describe("run again: nothing of the failed run was kept", () => {
  for (const [name, error] of Object.entries(FAILOVER_ERRORS)) {
    test(`${name} (${error().message}) during the work`, async () => {
      const { fake, result } = answer(failOn("UPDATE", error));
      expect(await result).toEqual({ status: 200, message: "made" });
      expect(runs(fake.statements)).toBe(2);
    });
  }

  test("a certification failure at COMMIT (1213)", async () => {
    const { fake, result } = answer(failOn("COMMIT", FAILOVER_ERRORS.deadlock));
    expect(await result).toEqual({ status: 200, message: "made" });
    expect(runs(fake.statements)).toBe(2);
  });

  test("a connection cut while it was made", async () => {
    const { fake, result } = answer(() => [], {
      connect: (n) => {
        if (n === 1) throw connectionError("PROTOCOL_CONNECTION_LOST");
      },
    });
    expect((await result).status).toBe(200);
    expect(fake.ended.connects).toBe(2);
  });
});

describe("503 'nothing was changed'", () => {
  test("connection refused (a stopped database): at once, one try", async () => {
    const { fake, result } = answer(() => [], {
      connect: () => {
        throw connectionError("ECONNREFUSED");
      },
    });
    const { status, message } = await result;
    expect(status).toBe(503);
    expect(message).toStartWith("the change was not made");
    expect(fake.ended.connects).toBe(1);
  });

  test("any other error the server answered is rolled back and 503, not 500 (docs/reliability.md, Left open)", async () => {
    for (
      const error of [
        serverError("ER_NO_SUCH_TABLE", 1146, "42S02"),
        serverError("ER_PARSE_ERROR", 1064, "42000"),
      ]
    ) {
      const { fake, result } = answer(failOn("UPDATE", () => error));
      const { status, message } = await result;
      expect(status).toBe(503);
      expect(message).toContain("nothing was changed");
      expect(fake.statements.map((s) => s.sql)).toContain("ROLLBACK");
    }
  });

  test("a deadlock every time until the deadline", async () => {
    const { result } = answer(failOn("UPDATE", FAILOVER_ERRORS.deadlock, Infinity), { ms: 300 });
    expect((await result).status).toBe(503);
  });

  test("a programming error is not the database's: it passes through (500)", async () => {
    const { result } = answer(failOn("UPDATE", () => new TypeError("a bug")));
    expect(await result).toEqual({ status: 500, message: "a bug" });
  });
});

describe("a COMMIT whose answer was lost", () => {
  test("not rerunnable: 504 unknown, not run again", async () => {
    const { fake, result } = answer(failOn("COMMIT", FAILOVER_ERRORS.lost));
    const { status, message } = await result;
    expect(status).toBe(504);
    expect(message).toStartWith("the change may or may not have been made");
    expect(runs(fake.statements)).toBe(1);
  });

  test("rerunnable (an Idempotency-Key): run again, and its answer is the truth", async () => {
    const { fake, result } = answer(failOn("COMMIT", FAILOVER_ERRORS.lost), { rerunnable: true });
    expect(await result).toEqual({ status: 200, message: "made" });
    expect(runs(fake.statements)).toBe(2);
  });

  test("a COMMIT that failed as its node lost the Primary Component (1180, 1047): unknown, not 'not made'", async () => {
    for (const error of [commitFailed, FAILOVER_ERRORS.notReady]) {
      const once = answer(failOn("COMMIT", error));
      expect((await once.result).status).toBe(504);
      const rerun = answer(failOn("COMMIT", error), { rerunnable: true });
      expect(await rerun.result).toEqual({ status: 200, message: "made" });
      expect(runs(rerun.fake.statements)).toBe(2);
    }
  });

  test("rerunnable, then nothing to connect to: 504, never 503", async () => {
    const { result } = answer(failOn("COMMIT", FAILOVER_ERRORS.lost), {
      rerunnable: true,
      connect: (n) => {
        if (n > 1) throw connectionError("ECONNREFUSED");
      },
    });
    expect((await result).status).toBe(504);
  });
});
