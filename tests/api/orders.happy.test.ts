// The api's purchases and order lookups over a real MariaDB, in-process
// (testutil/src/route-harness.ts): the place_order procedure and the lookups' SQL.
import { beforeEach, describe, expect, test } from "bun:test";
import { routeHarness } from "../../testutil/src/route-harness.ts";

const api = await routeHarness("api");
beforeEach(() => api.reset());

describe("POST /orders", () => {
  test("places the order at the item's price and takes the quantity from its stock", async () => {
    const res = await api.post("/orders", { name: "tux", quantity: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { order_number: 1, name: "Tux", quantity: 2, unit_price: 15.99 } });
    expect((await api.get("/items/Tux")).body).toEqual({ data: { name: "Tux", quantity: 98, price: 15.99 } });
  });

  test("with the price the buyer was shown, still the item's, the order is placed", async () => {
    const res = await api.post("/orders", { name: "Fox", quantity: 1, price: 12.49 });
    expect(res.status).toBe(200);
  });
});

describe("GET /orders", () => {
  test("?request_id= finds the order that request placed", async () => {
    await api.post("/orders", { name: "Fox", quantity: 3 }, { "x-request-id": "buy-fox-1" });
    const res = await api.get("/orders?request_id=buy-fox-1");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: { number: 1, name: "Fox", quantity: 3, unit_price: 12.49, created_at: expect.any(String) },
    });
  });

  test("/:number is the order as it was placed, whatever the item's price is now", async () => {
    await api.post("/orders", { name: "Tux", quantity: 1 });
    await api.sql("UPDATE items SET price = 20 WHERE name = 'Tux'");
    const res = await api.get<{ data: { unit_price: number } }>("/orders/1");
    expect(res.status).toBe(200);
    expect(res.body.data.unit_price).toBe(15.99);
  });
});
