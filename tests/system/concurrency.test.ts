// Stock is never wrong (docs/design.md, "Data"): many buyers at once, through HAProxy and both web
// servers, can never oversell; every success is an order with its decrement.
import { expect, test } from "bun:test";
import { publicOrderNumber } from "../../lib/src/order-number.ts";
import { adminApi, buy, getJson, stockOf } from "./http.ts";
import { env } from "./stack.ts";

const STOCK = 50;
const BUYERS = 200;

test(
  `${BUYERS} concurrent purchases of 1 for stock ${STOCK}: exactly ${STOCK} orders, the rest 409, stock 0`,
  async () => {
    const name = `Rush ${Date.now().toString(36)}`;
    const created = await adminApi("POST", "/items", { name, quantity: STOCK, price: 3.5 });
    expect(created.status).toBe(201);
    expect(await stockOf(name)).toBe(STOCK);

    // All at once, through the public port (HAProxy spreads them over web-1 and web-2).
    const results = await Promise.all(Array.from({ length: BUYERS }, () => buy({ name, quantity: 1 })));

    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 409);
    const other = results.filter((r) => r.status !== 200 && r.status !== 409);
    expect(other.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    expect(ok.length).toBe(STOCK);
    expect(refused.length).toBe(BUYERS - STOCK);
    for (const r of refused) expect(r.body).toEqual({ error: { code: 409, message: "not enough stock" } });

    // Never below zero, and seen as 0 through both web servers.
    expect(await stockOf(name, env("WEB1_URL"))).toBe(0);
    expect(await stockOf(name, env("WEB2_URL"))).toBe(0);

    // Order numbers: unique, and sequential (nothing else was buying meanwhile).
    const numbers = ok.map((r) => r.body.data.order_number as number).sort((a, b) => a - b);
    expect(new Set(numbers).size).toBe(STOCK);
    expect(numbers.at(-1)! - numbers[0]!).toBe(STOCK - 1);

    // Each order reads back with its data, through the public API.
    const readBack = await Promise.all(numbers.map((n) => getJson(`/orders/${n}`)));
    readBack.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: { number: numbers[i], name, quantity: 1 } });
    });

    // And the database recorded exactly these 50, each at the item's price.
    const recorded: { number: number; name: string; quantity: number; unit_price: number }[] = [];
    for (let page = 1;; page++) {
      const { status, body } = await adminApi("GET", `/orders?page=${page}&per_page=100`);
      expect(status).toBe(200);
      recorded.push(...body.data.orders.filter((o: { name: string }) => o.name === name));
      if (page * body.data.per_page >= body.data.total) break;
    }
    // admin-api lists the database's keys; the buyers were told the public numbers.
    expect(recorded.map((o) => publicOrderNumber(o.number)).sort((a, b) => a - b)).toEqual(numbers);
    for (const o of recorded) {
      expect(o.quantity).toBe(1);
      expect(o.unit_price).toBe(3.5);
    }
  },
  60_000,
);
