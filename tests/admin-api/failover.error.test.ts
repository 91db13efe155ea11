// The writes' retries and answers over a real MariaDB (testutil/src/route-harness.ts):
// a trigger SIGNALs the errors a Galera failover gives (a certification failure, a node
// not ready) or one MariaDB gave under a storm of kills (docs/reliability.md, Left open),
// a set number of times (the count in a MEMORY table, which no rollback undoes).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { routeHarness } from "../../testutil/src/route-harness.ts";

const admin = await routeHarness("admin-api");
const api = await routeHarness("api");

/** The next `times` writes of `table` fail with `errno` (SQLSTATE `state`). */
async function failNext(table: "items" | "orders", errno: number, state: string, times: number) {
  await admin.sql("DELETE FROM fault");
  await admin.sql("INSERT INTO fault (left_to_fail) VALUES (?)", [times]);
  await admin.sql("DROP TRIGGER IF EXISTS fault_items");
  await admin.sql("DROP TRIGGER IF EXISTS fault_orders");
  await admin.sql(
    `CREATE TRIGGER fault_${table} BEFORE ${
      table === "items" ? "UPDATE" : "INSERT"
    } ON ${table} FOR EACH ROW ` +
      `BEGIN IF (SELECT left_to_fail FROM fault) > 0 THEN UPDATE fault SET left_to_fail = left_to_fail - 1; ` +
      `SIGNAL SQLSTATE '${state}' SET MYSQL_ERRNO = ${errno}, MESSAGE_TEXT = 'injected'; END IF; END`,
  );
}

/**
 * The errors of a failover the trigger gives: a certification failure, a node not ready,
 * and a duplicate key (two writers at a failback both handing out one order number):
 * never read as "already placed", only run again.
 */
const FAILOVER = [[1213, "40001"], [1047, "08S01"], [1062, "23000"]] as const;

const tuxStock = async () =>
  (await admin.sql<{ quantity: number }>("SELECT quantity FROM items WHERE name = 'Tux'"))[0]!.quantity;

const left = async () => (await admin.sql<{ n: number }>("SELECT left_to_fail AS n FROM fault"))[0]?.n;

await admin.sql("CREATE TABLE IF NOT EXISTS fault (left_to_fail INT NOT NULL) ENGINE=MEMORY");
beforeEach(() => admin.reset());
afterAll(async () => {
  await admin.sql("DROP TRIGGER IF EXISTS fault_items");
  await admin.sql("DROP TRIGGER IF EXISTS fault_orders");
  await admin.sql("DROP TABLE IF EXISTS fault");
});

/** For each failover error: `send` after two of them are set to come, answered 200; then `check(errno)`. */
async function throughFailover(
  table: "items" | "orders",
  send: (errno: number) => Promise<{ status: number; body: unknown }>,
  check: (errno: number) => Promise<void>,
) {
  for (const [errno, state] of FAILOVER) {
    await admin.reset();
    await failNext(table, errno, state, 2);
    const res = await send(errno);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await left()).toBe(0);
    await check(errno);
  }
}

describe("admin writes", () => {
  test("a certification failure (1213), a node not ready (1047), a duplicate key (1062): run again, made once", async () => {
    await throughFailover(
      "items",
      () => admin.post("/items", { name: "Tux", quantity: 5 }, { "Idempotency-Key": crypto.randomUUID() }),
      async () => expect(await tuxStock()).toBe(105),
    );
  });

  test("an error the server answered that no retry mends (ER_NO_SUCH_TABLE): 503 'nothing was changed', not 500", async () => {
    await failNext("items", 1146, "42S02", 1);
    const res = await admin.post<{ error: { message: string } }>("/items", { name: "Tux", quantity: 5 });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toStartWith("the change was not made:");
    expect(res.body.error.message).toContain("nothing was changed");
    expect(await tuxStock()).toBe(100);
  });
});

describe("purchases", () => {
  test("a certification failure (1213), a node not ready (1047), a duplicate key (1062): retried with the same request id, one order", async () => {
    await throughFailover(
      "orders",
      (errno) => api.post("/orders", { name: "Tux", quantity: 1 }, { "X-Request-Id": `retried${errno}` }),
      async (errno) => {
        const orders = await admin.sql<{ request_id: string }>("SELECT request_id FROM orders");
        expect(orders.map((o) => o.request_id)).toEqual([`retried${errno}`]);
      },
    );
  });

  test("an error no retry mends: 503 'not placed', nothing placed", async () => {
    await failNext("orders", 1146, "42S02", 1);
    const res = await api.post<{ error: { message: string } }>("/orders", { name: "Tux", quantity: 1 });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toStartWith("the order was not placed");
    expect(await admin.sql("SELECT number FROM orders")).toEqual([]);
  });
});
