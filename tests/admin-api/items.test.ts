// admin-api's writes over a real MariaDB, in-process (testutil/src/route-harness.ts),
// with the api beside it on the same database: what one writes, the other reads.
import { beforeEach, describe, expect, test } from "bun:test";
import { routeHarness } from "../../testutil/src/route-harness.ts";

const admin = await routeHarness("admin-api");
const api = await routeHarness("api");
beforeEach(() => admin.reset());

describe("the inventory", () => {
  test("GET /items: a page of a search, and figures over every item", async () => {
    const { status, body } = await admin.get("/items?q=o&per_page=1&page=2");
    expect([status, body]).toEqual([200, {
      data: {
        items: [{ name: "Gopher", quantity: 5, price: 14.25 }],
        page: 2,
        per_page: 1,
        total: 2,
        q: "o",
        summary: { items: 4, units: 205, out_of_stock: 1, value: 100 * 15.99 + 100 * 12.49 + 5 * 14.25 },
      },
    }]);
  });

  test("GET /orders lists what the api sold, newest first", async () => {
    await api.post("/orders", { name: "Tux", quantity: 1 });
    await api.post("/orders", { name: "Fox", quantity: 2 });
    const res = await admin.get<{ data: { orders: { name: string }[]; total: number } }>("/orders");
    expect(res.body.data.orders.map((o) => o.name)).toEqual(["Fox", "Tux"]);
    expect(res.body.data.total).toBe(2);
  });
});

describe("writes", () => {
  test("a new name is inserted (201) and the storefront's api sells it", async () => {
    const res = await admin.post("/items", { name: "Wasm", quantity: 3, price: 9.5 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      data: {
        action: "inserted",
        item: { name: "Wasm", quantity: 3, price: 9.5 },
        cache: "cleared",
        replayed: false,
      },
    });
    expect((await api.post("/orders", { name: "wasm", quantity: 3 })).status).toBe(200);
  });

  test("a known name is restocked, its price kept", async () => {
    const res = await admin.post("/items", { name: "duke", quantity: 10 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data: { action: "restocked", item: { name: "Duke", quantity: 10, price: 11.75 }, previous_quantity: 0 },
    });
  });

  test("the same Idempotency-Key again gets the first answer, the change made once", async () => {
    const key = { "idempotency-key": "restock-fox-0001" };
    await admin.post("/items", { name: "Fox", quantity: 5 }, key);
    const again = await admin.post("/items", { name: "Fox", quantity: 5 }, key);
    expect(again.body).toMatchObject({ data: { item: { quantity: 105 }, replayed: true } });
    expect((await api.get("/items/Fox")).body).toMatchObject({ data: { quantity: 105 } });
  });

  test("a correction made from a stale page is refused (409) and changes nothing", async () => {
    await api.post("/orders", { name: "Gopher", quantity: 1 });
    const res = await admin.patch("/items/Gopher", { quantity: 50, was_quantity: 5 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: { code: 409, fields: { quantity: expect.stringMatching(/^is 4 now, not 5/) } },
    });
    expect((await admin.get("/items/Gopher")).body).toMatchObject({ data: { quantity: 4 } });
  });

  test("a deleted item is gone for the api too", async () => {
    expect((await admin.delete("/items/Tux")).status).toBe(200);
    expect((await api.get("/items/Tux")).status).toBe(404);
    expect((await admin.delete("/items/Tux")).status).toBe(404);
  });
});
