// The api's catalogue routes over a real MariaDB, in-process (testutil/src/route-harness.ts).
import { beforeEach, describe, expect, test } from "bun:test";
import { CATALOGUE, routeHarness } from "../../testutil/src/route-harness.ts";

const api = await routeHarness("api");
beforeEach(() => api.reset());

describe("GET /items", () => {
  test("a page of the catalogue in name order, with the count of all", async () => {
    const res = await api.get("/items?per_page=2");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: {
        items: [{ name: "Duke", quantity: 0, price: 11.75 }, { name: "Fox", quantity: 100, price: 12.49 }],
        page: 1,
        per_page: 2,
        total: CATALOGUE.length,
        q: "",
      },
    });
  });

  test("q keeps the names that contain it, compared by name key", async () => {
    const res = await api.get<{ data: { items: { name: string }[] } }>("/items?q=TU");
    expect(res.body.data.items.map((i) => i.name)).toEqual(["Tux"]);
  });
});

describe("GET /items/:name", () => {
  test("the product by any case of its name, with its ETag; that ETag again gets 304", async () => {
    const res = await api.get("/items/tUX");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { name: "Tux", quantity: 100, price: 15.99 } });
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"i\d+\.1"$/);
    expect((await api.get("/items/Tux", { "if-none-match": etag })).status).toBe(304);
  });
});
