// An order's entry in Redis never outlives the database it came from. Orders never
// change, so the api keeps them in Redis by number (order:<number>); but a database
// restored from a backup hands the numbers placed since the backup out again, and
// Redis must not answer them with another buyer's order (docs/internals.md, The cache).
import { afterAll, describe, expect, test } from "bun:test";
import { uniqueName } from "../../testutil/src/test-stack.ts";
import { createItem } from "./helpers.ts";
import { directRedis } from "./redis.ts";
import { env, eventually, stack } from "./stack.ts";

const redis = directRedis();
afterAll(() => redis.close());

const api = (path: string, body?: unknown) =>
  fetch(`${env("API_URL")}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${env("API_TOKEN")}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A purchase through the api: the order's number (the database's). */
async function place(name: string, quantity: number): Promise<number> {
  const res = await api("/orders", { name, quantity });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { order_number: number } }).data.order_number;
}

/** The order the api answers for a number. */
async function order(number: number) {
  const res = await api(`/orders/${number}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { number: number; name: string; quantity: number } }).data;
}

/** Places an order and reads it, so that Redis holds it under its number. */
async function cachedOrder(name: string, quantity: number) {
  const number = await place(name, quantity);
  expect(await order(number)).toMatchObject({ number, name, quantity });
  expect(await redis.get(`order:${number}`)).toContain(`"name":${JSON.stringify(name)}`);
  expect(await order(number)).toMatchObject({ number, name, quantity });
  return number;
}

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

describe("an order's entry never outlives the database it came from", () => {
  test("the database restored to before an order (its number handed out again): the next buyer's order is served at once, never the old one", async () => {
    const first = uniqueName("Before restore");
    const second = uniqueName("After restore");
    await createItem(first, 10);
    await createItem(second, 10);
    const number = await cachedOrder(first, 1);
    // The restore, as far as the orders go: the backup had no order from `number` on,
    // and the database's counter is back where the backup's was.
    await stack().sql(
      `DELETE FROM bazaar.orders WHERE number >= ${number}; ALTER TABLE bazaar.orders AUTO_INCREMENT = ${number};`,
    );
    expect(await place(second, 2)).toBe(number);
    expect(await order(number)).toMatchObject({ number, name: second, quantity: 2 });
  });

  test("another order under the newest number, made in the database alone: the relay sees the database went back and drops every entry, orders too", async () => {
    const first = uniqueName("Replaced order");
    const other = uniqueName("Replacing order");
    await createItem(first, 10);
    const number = await cachedOrder(first, 1);
    // Until the relay has settled (every 50 ms): this order the newest it has seen, no
    // generation raised for a while, and Redis holding the order under the one now.
    let gen = -1;
    await eventually(
      async () => {
        await order(number);
        gen = Number(await redis.get("catalog:gen"));
        await Bun.sleep(250);
        const entry = await redis.get(`order:${number}`);
        return Number(await redis.get("catalog:gen")) === gen && entry !== null &&
          entry.startsWith(`${gen}|`);
      },
      5000,
      0,
    );
    await stack().sql(
      `DELETE FROM bazaar.orders WHERE number = ${number}; ` +
        `INSERT INTO bazaar.orders (number, item_id, item_name, quantity, unit_price) ` +
        `VALUES (${number}, 1, ${sqlText(other)}, 3, 1.00);`,
    );
    await eventually(async () => Number(await redis.get("catalog:gen")) > gen, 2000, 20);
    expect(await order(number)).toMatchObject({ number, name: other, quantity: 3 });
  });
});
