// Least privilege (design: Data): the read API's database account can change data
// only by a purchase — the database itself refuses it anything else. Checked with
// the accounts' real passwords over TCP, as the apps connect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { env } from "./stack.ts";

const connect = (user: string, password: string) =>
  mysql.createConnection({
    host: "127.0.0.1",
    port: Number(env("DB_PORT")),
    user,
    password,
    database: "bazaar",
  });

let api: mysql.Connection;
let admin: mysql.Connection;
// Purchases here bypass the api (and so its cache): they buy an item of this test's
// own, which nothing else reads, so no cached stock goes stale.
const OWN = `db accounts ${Date.now().toString(36)}`;
beforeAll(async () => {
  api = await connect("bazaar_api", env("API_DB_PASSWORD"));
  admin = await connect("bazaar_admin", env("ADMIN_DB_PASSWORD"));
  await admin.query("INSERT INTO items (name, name_key, quantity, price) VALUES (?, ?, 10, 4.20)", [
    OWN,
    OWN,
  ]);
});
afterAll(async () => {
  await admin?.query("DELETE FROM items WHERE name_key = ?", [OWN]);
  await api?.end();
  await admin?.end();
});

type Row = Record<string, unknown>;
const own = async () =>
  ((await admin.query("SELECT name, quantity, price FROM items WHERE name_key = ?", [OWN]))[0] as Row[])[0]!;
const tux = async () =>
  ((await admin.query("SELECT name, quantity, price FROM items WHERE name_key = 'tux'"))[0] as Row[])[0];
const orderCount = async () =>
  Number(((await admin.query("SELECT COUNT(*) AS n FROM orders"))[0] as Row[])[0]!.n);

/** The statement fails with "command denied" (1142), not some other error. */
async function denied(conn: mysql.Connection, sql: string) {
  let error: { errno?: number; code?: string } | undefined;
  try {
    await conn.query(sql);
  } catch (err) {
    error = err as typeof error;
  }
  expect(error, `${sql} should be refused`).toBeDefined();
  expect(error!.code).toBe("ER_TABLEACCESS_DENIED_ERROR");
}

describe("the read API's account (bazaar_api)", () => {
  test("may read items and orders", async () => {
    const [items] = await api.query("SELECT name, quantity, price FROM items");
    expect((items as Row[]).length).toBeGreaterThanOrEqual(10);
    await api.query("SELECT number FROM orders LIMIT 1");
  });

  test("is refused INSERT, UPDATE (rename, price, stock) and DELETE on items, and nothing changes", async () => {
    const before = await tux();
    await denied(
      api,
      "INSERT INTO items (name, name_key, quantity, price) VALUES ('Forged', 'forged', 1, 1.00)",
    );
    await denied(api, "UPDATE items SET name = 'Renamed', name_key = 'renamed' WHERE name_key = 'tux'");
    await denied(api, "UPDATE items SET price = 0.01 WHERE name_key = 'tux'");
    await denied(api, "UPDATE items SET quantity = 0 WHERE name_key = 'tux'");
    await denied(api, "DELETE FROM items WHERE name_key = 'tux'");
    await denied(
      api,
      "REPLACE INTO items (id, name, name_key, quantity, price) VALUES (1, 'X', 'x', 1, 1.00)",
    );
    await denied(api, "TRUNCATE TABLE items");
    expect(await tux()).toEqual(before);
  });

  test("is refused INSERT, UPDATE and DELETE on orders", async () => {
    const before = await orderCount();
    await denied(
      api,
      "INSERT INTO orders (item_id, item_name, quantity, unit_price) VALUES (1, 'Tux', 1, 0.01)",
    );
    await denied(api, "UPDATE orders SET quantity = 1000");
    await denied(api, "DELETE FROM orders");
    expect(await orderCount()).toBe(before);
  });

  test("is refused changes to the schema", async () => {
    await denied(api, "CREATE TABLE sneaky (id INT)");
    await denied(api, "DROP TABLE orders");
    await denied(api, "ALTER TABLE items ADD COLUMN sneaky INT");
  });

  const call = async (key: string, q: number) =>
    ((await api.query("CALL place_order(?, ?, NULL, NULL)", [key, q]))[0] as Row[][])[0]![0]!;

  test("may CALL place_order: one order and its decrement, in one step", async () => {
    const orders = await orderCount();
    const row = await call(OWN, 2);
    expect(row.outcome).toBe("ok");
    expect(row.name).toBe(OWN);
    expect(Number(row.quantity)).toBe(2);
    expect(Number(row.unit_price)).toBe(4.2);
    expect((await own()).quantity).toBe(8);
    expect(await orderCount()).toBe(orders + 1);
    const [recorded] = await api.query(
      "SELECT item_name, quantity, unit_price FROM orders WHERE number = ?",
      [row.order_number],
    );
    expect(recorded as unknown).toEqual([{ item_name: OWN, quantity: 2, unit_price: "4.20" }]);
  });

  test("place_order refuses too much, an unknown item and a bad quantity without changing anything", async () => {
    const before = await own();
    const orders = await orderCount();
    expect((await call(OWN, (before.quantity as number) + 1)).outcome).toBe("insufficient");
    expect((await call("no such toy", 1)).outcome).toBe("not_found");
    for (const q of [0, -1, 1001]) {
      await expect(api.query("CALL place_order(?, ?, NULL, NULL)", [OWN, q])).rejects.toThrow(/quantity/);
    }
    expect(await own()).toEqual(before);
    expect(await orderCount()).toBe(orders);
  });

  test("place_order refuses a price that is not the item's any more, changing nothing; the price it was shown buys", async () => {
    const before = await own();
    const orders = await orderCount();
    const changed = ((await api.query("CALL place_order(?, 1, NULL, 4.19)", [OWN]))[0] as Row[][])[0]![0]!;
    expect(changed.outcome).toBe("price_changed");
    expect(Number(changed.item_price)).toBe(4.2);
    expect(await own()).toEqual(before);
    expect(await orderCount()).toBe(orders);
    const bought = ((await api.query("CALL place_order(?, 1, NULL, 4.20)", [OWN]))[0] as Row[][])[0]![0]!;
    expect(bought.outcome).toBe("ok");
    // With the item as it leaves it: its cache entry is updated from these.
    expect(Number(bought.item_quantity)).toBe((before.quantity as number) - 1);
    expect(Number(bought.item_price)).toBe(4.2);
  });

  test("may read and delete the cache's outbox (the relay), but not write it", async () => {
    await api.query("SELECT seq FROM catalog_outbox LIMIT 1");
    await api.query("DELETE FROM catalog_outbox WHERE seq = 0");
    await denied(api, "INSERT INTO catalog_outbox (item_id, name_key, version) VALUES (1, 'x', 1)");
    await denied(api, "UPDATE catalog_outbox SET version = 0");
  });
});

describe("the admin API's account (bazaar_admin)", () => {
  test("may insert, reprice, rename and delete items", async () => {
    const key = `db test ${Date.now().toString(36)}`;
    await admin.query("INSERT INTO items (name, name_key, quantity, price) VALUES (?, ?, 5, 1.00)", [
      key,
      key,
    ]);
    await admin.query("UPDATE items SET price = 2.00, quantity = 6 WHERE name_key = ?", [key]);
    await admin.query("UPDATE items SET name = ?, name_key = ? WHERE name_key = ?", [
      `${key} b`,
      `${key} b`,
      key,
    ]);
    const [rows] = await admin.query("SELECT name, quantity, price FROM items WHERE name_key = ?", [
      `${key} b`,
    ]);
    expect(rows as unknown).toEqual([{ name: `${key} b`, quantity: 6, price: "2.00" }]);
    await admin.query("DELETE FROM items WHERE name_key = ?", [`${key} b`]);
    const [gone] = await admin.query("SELECT 1 FROM items WHERE name_key = ?", [`${key} b`]);
    expect(gone).toEqual([]);
  });

  test("cannot forge or erase an order", async () => {
    const before = await orderCount();
    await denied(
      admin,
      "INSERT INTO orders (item_id, item_name, quantity, unit_price) VALUES (1, 'Tux', 1, 0.01)",
    );
    await denied(admin, "DELETE FROM orders");
    await denied(admin, "UPDATE orders SET unit_price = 0.01");
    expect(await orderCount()).toBe(before);
  });
});
