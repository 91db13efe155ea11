// placeOrder's retries and answers, error class by error class, over a fake pool
// (testutil/src/fake-pool.ts): which errors are retried with the same request id,
// and which answer 503 "not placed" or 504 "unknown".
import { describe, expect, test } from "bun:test";
import {
  commitFailed,
  connectionError,
  FAILOVER_ERRORS,
  fakePool,
  serverError,
} from "../../testutil/src/fake-pool.ts";
import { PLACE_ORDER_LOCK_WAIT_MS, placeOrder, purchaseStats } from "./purchase.ts";

const PLACED = [[{ outcome: "ok", order_number: 7, name: "Tux", quantity: 1, unit_price: 15.99 }]];

/** The status and message placeOrder answered with (200 and the order's number when placed). */
const outcome = (order: Promise<unknown>) =>
  order.then(
    (placed) => ({ status: 200, message: `order ${(placed as { order_number: number }).order_number}` }),
    (err: { status?: number; message: string }) => ({ status: err.status ?? 500, message: err.message }),
  );

/** The first `failures` calls fail with `error()`, the next is placed. */
const failing = (failures: number, error: () => Error) => (_: unknown, i: number) => {
  if (i < failures) throw error();
  return PLACED;
};

describe("retried with the same request id, then placed", () => {
  for (const [name, error] of Object.entries(FAILOVER_ERRORS)) {
    test(`${name} (${error().message}) twice, then the order`, async () => {
      const fake = fakePool(failing(2, error));
      const stats = purchaseStats();
      expect(await outcome(placeOrder(fake.db, "tux", 1, "req-1", undefined, { stats }))).toEqual({
        status: 200,
        message: "order 7",
      });
      // A lost connection (or a node not ready, which may be a failed COMMIT) left the
      // outcome unknown; the retry's answer settled it.
      const lost = ["lost", "reset", "pipe", "notReady"].includes(name);
      expect(stats).toEqual({ retried: 1, retries: 2, settled: lost ? 1 : 0 });
      expect(fake.statements.map((s) => s.params[2])).toEqual(["req-1", "req-1", "req-1"]);
      // A node that cannot write and a broken connection are closed, never pooled again.
      const closed = ["deadlock"].includes(name) ? 0 : 2;
      expect(fake.ended).toEqual({ connects: 3, destroyed: closed, released: 3 - closed });
    });
  }

  test("a connection cut while it was made (a proxy with no node up yet): again", async () => {
    const fake = fakePool(() => PLACED, (n) => {
      if (n < 3) throw connectionError("PROTOCOL_CONNECTION_LOST");
    });
    expect((await outcome(placeOrder(fake.db, "tux", 1, "req-1"))).status).toBe(200);
    expect(fake.ended.connects).toBe(3);
  });
});

describe("given up: 503 only when certainly not placed", () => {
  test("connection refused (a stopped database): 503 at once, one try", async () => {
    const fake = fakePool(() => PLACED, () => {
      throw connectionError("ECONNREFUSED");
    });
    const answer = await outcome(placeOrder(fake.db, "tux", 1, "req-1"));
    expect(answer.status).toBe(503);
    expect(answer.message).toStartWith("the order was not placed");
    expect(fake.ended.connects).toBe(1);
  });

  test("a deadlock every time until the deadline: 503, nothing was placed", async () => {
    const fake = fakePool(failing(Infinity, FAILOVER_ERRORS.deadlock));
    const answer = await outcome(
      placeOrder(fake.db, "tux", 1, "req-1", undefined, { deadline: Date.now() + 300 }),
    );
    expect(answer.status).toBe(503);
    expect(fake.statements.length).toBeGreaterThan(1);
  });

  test("a lock wait timeout with no room left for another whole lock wait: 503, not retried", async () => {
    const fake = fakePool(failing(1, () => serverError("ER_LOCK_WAIT_TIMEOUT", 1205)));
    const answer = await outcome(
      placeOrder(fake.db, "tux", 1, "req-1", undefined, { deadline: Date.now() + PLACE_ORDER_LOCK_WAIT_MS }),
    );
    expect(answer.status).toBe(503);
    expect(answer.message).toContain("busy");
    expect(fake.statements.length).toBe(1);
  });

  test("a lock wait timeout with room for another (a COMMIT waiting out a node's eviction): again, then placed", async () => {
    const fake = fakePool(failing(1, () => serverError("ER_LOCK_WAIT_TIMEOUT", 1205)));
    expect(await outcome(placeOrder(fake.db, "tux", 1, "req-1"))).toEqual({
      status: 200,
      message: "order 7",
    });
    expect(fake.statements.length).toBe(2);
  });

  test("any other error the server answered (the procedure's handler rolled back): 503", async () => {
    const fake = fakePool(failing(1, () => serverError("ER_NO_SUCH_TABLE", 1146, "42S02")));
    expect((await outcome(placeOrder(fake.db, "tux", 1, "req-1"))).status).toBe(503);
  });
});

describe("given up after a lost connection: 504 unknown, never 503", () => {
  test("lost, then the database refuses every connection: 504", async () => {
    const fake = fakePool(failing(1, FAILOVER_ERRORS.lost), (n) => {
      if (n > 1) throw connectionError("ECONNREFUSED");
    });
    const answer = await outcome(placeOrder(fake.db, "tux", 1, "req-1"));
    expect(answer.status).toBe(504);
    expect(answer.message).toContain("unknown");
  });

  test("lost, then deadlocks until the deadline: 504", async () => {
    const fake = fakePool((_, i) => {
      throw i === 0 ? FAILOVER_ERRORS.lost() : FAILOVER_ERRORS.deadlock();
    });
    const answer = await outcome(
      placeOrder(fake.db, "tux", 1, "req-1", undefined, { deadline: Date.now() + 300 }),
    );
    expect(answer.status).toBe(504);
  });

  test("a COMMIT failed as the node lost the Primary Component (1180): asked again, and settled", async () => {
    const stats = purchaseStats();
    const fake = fakePool(failing(1, commitFailed));
    expect((await outcome(placeOrder(fake.db, "tux", 1, "req-1", undefined, { stats }))).status).toBe(200);
    expect(stats.settled).toBe(1);
  });

  test("1180, then deadlocks until the deadline: 504, never 503", async () => {
    const fake = fakePool((_, i) => {
      throw i === 0 ? commitFailed() : FAILOVER_ERRORS.deadlock();
    });
    const answer = await outcome(
      placeOrder(fake.db, "tux", 1, "req-1", undefined, { deadline: Date.now() + 300 }),
    );
    expect(answer.status).toBe(504);
  });

  test("lost without a request id: nothing could find it again, 504 at once", async () => {
    const fake = fakePool(failing(1, FAILOVER_ERRORS.lost));
    expect((await outcome(placeOrder(fake.db, "tux", 1, null))).status).toBe(504);
    expect(fake.statements.length).toBe(1);
  });

  test("a call unanswered by the deadline (a hung node): 504, its connection closed", async () => {
    const fake = fakePool(() => new Promise(() => {}));
    const answer = await outcome(
      placeOrder(fake.db, "tux", 1, "req-1", undefined, { deadline: Date.now() + 200 }),
    );
    expect(answer.status).toBe(504);
    expect(fake.ended.destroyed).toBe(1);
  });
});
