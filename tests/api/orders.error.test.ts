// What the api refuses, and that a refused purchase changes nothing (in-process,
// over a real MariaDB: testutil/src/route-harness.ts).
import { beforeEach, describe, expect, test } from "bun:test";
import { routeHarness } from "../../testutil/src/route-harness.ts";

const api = await routeHarness("api");
beforeEach(() => api.reset());

const ordersPlaced = async () => (await api.sql<{ n: number }>("SELECT COUNT(*) AS n FROM orders"))[0]!.n;

describe("POST /orders refused", () => {
  test("404 for a product that does not exist", async () => {
    const res = await api.post("/orders", { name: "Nope", quantity: 1 });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 404, message: "product not found" } });
  });

  test("400 naming the field for a quantity below one", async () => {
    const res = await api.post("/orders", { name: "Tux", quantity: 0 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 400, fields: { quantity: "must be at least 1" } } });
  });

  test("409 for more than the stock, which stays as it was", async () => {
    const res = await api.post("/orders", { name: "Gopher", quantity: 6 });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { code: 409, message: "not enough stock" } });
    expect((await api.get("/items/Gopher")).body).toMatchObject({ data: { quantity: 5 } });
    expect(await ordersPlaced()).toBe(0);
  });

  test("409 when the price shown is no longer the item's, naming the price now", async () => {
    const res = await api.post("/orders", { name: "Tux", quantity: 1, price: 14.99 });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: 409, message: "the price changed to 15.99", fields: { price: "is 15.99 now" } },
    });
    expect(await ordersPlaced()).toBe(0);
  });
});

describe("lookups that find nothing", () => {
  test("404 for an item, an order number, or a request that placed none", async () => {
    expect((await api.get("/items/Nope")).status).toBe(404);
    expect((await api.get("/orders/7")).status).toBe(404);
    expect((await api.get("/orders/not-a-number")).status).toBe(404);
    expect((await api.get("/orders?request_id=never-sent")).status).toBe(404);
  });

  test("400 for a lookup without a request id, or a page out of range", async () => {
    expect((await api.get("/orders")).status).toBe(400);
    expect((await api.get("/items?per_page=0")).status).toBe(400);
  });
});
