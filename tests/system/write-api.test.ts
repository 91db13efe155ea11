// Integration: the admin-api in-process on the test stack's real MariaDB, bridge
// and Redis, with reads through a real api to prove each write is seen at once.
import { afterAll, describe, expect, test } from "bun:test";
// Starts the test stack (on demand, once per run): testutil/src/test-stack.ts reads its env.
import "./stack.ts";
import { createDb } from "../../lib/src/data/db.ts";
import { dbConfig, testCache, uniqueName } from "../../testutil/src/test-stack.ts";
import { createApp as createApi } from "../../api/src/app.ts";
import { createApp } from "../../admin-api/src/app.ts";

const token = "test-admin-token";
const db = createDb(dbConfig("admin"));
const apiDb = createDb(dbConfig("api"));
const app = createApp({ db, cache: testCache(), token, log: () => {} });
const api = createApi({ db: apiDb, cache: testCache(), token, log: () => {} });
afterAll(async () => {
  await db.close();
  await apiDb.close();
});

const auth = { Authorization: `Bearer ${token}` };
/** Every item as the database holds it: what a refused write must leave as it was. */
const selectItems = () => db.query("SELECT id, name, quantity, price, version FROM items ORDER BY id");
const send = (method: string, path: string, body?: unknown, type = "application/json") =>
  app.request(path, {
    method,
    headers: { ...auth, "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const read = async (name: string) => {
  const res = await api.request(`/items/${encodeURIComponent(name)}`, { headers: auth });
  return res.status === 200 ? (await res.json()).data : null;
};

describe("adding items", () => {
  test("a new name is inserted (201) and readable at once", async () => {
    const name = uniqueName("New");
    expect(await read(name)).toBeNull(); // also caches the miss
    const res = await send("POST", "/items", { name, quantity: 7, price: 3.25 });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      data: {
        action: "inserted",
        item: { name, quantity: 7, price: 3.25 },
        cache: "cleared",
        replayed: false,
      },
    });
    expect(await read(name)).toEqual({ name, quantity: 7, price: 3.25 });
  });

  test("an existing name, in any case, is restocked: quantity grows, price changes only if given", async () => {
    const name = uniqueName("Stock");
    await send("POST", "/items", { name, quantity: 100, price: 5 });
    expect(await read(name)).toMatchObject({ quantity: 100 });
    let res = await send("POST", "/items", { name: name.toUpperCase(), quantity: 50 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      data: {
        action: "restocked",
        item: { name, quantity: 150, price: 5 },
        previous_quantity: 100,
        previous_price: 5,
        cache: "cleared",
        replayed: false,
      },
    });
    expect(await read(name)).toEqual({ name, quantity: 150, price: 5 });
    // Another price: refused unless the price it replaces is given (the stale-page check), nothing changed.
    res = await send("POST", "/items", { name: name.toLowerCase(), quantity: 1, price: 6.5 });
    expect(res.status).toBe(409);
    expect((await res.json()).error.fields).toEqual({
      price: "is 5.00: a restock keeps it (correct the price in the item's row)",
    });
    res = await send("POST", "/items", { name, quantity: 1, price: 6.5, was_price: 4 });
    expect(res.status).toBe(409);
    expect(await read(name)).toEqual({ name, quantity: 150, price: 5 });
    // With the price it had, it restocks and reprices, and says both.
    res = await send("POST", "/items", { name: name.toLowerCase(), quantity: 1, price: 6.5, was_price: 5 });
    expect((await res.json()).data).toMatchObject({
      item: { name, quantity: 151, price: 6.5 },
      previous_quantity: 150,
      previous_price: 5,
    });
    expect(await read(name)).toEqual({ name, quantity: 151, price: 6.5 });
  });

  test("a restock past 1,000,000 is refused and changes nothing", async () => {
    const name = uniqueName("Full");
    await send("POST", "/items", { name, quantity: 999_999, price: 1 });
    const res = await send("POST", "/items", { name, quantity: 2 });
    expect(res.status).toBe(409);
    expect(await read(name)).toMatchObject({ quantity: 999_999 });
  });

  test("a new name without a price is 400 naming price", async () => {
    const res = await send("POST", "/items", { name: uniqueName("NoPrice"), quantity: 1 });
    expect(res.status).toBe(400);
    expect((await res.json()).error.fields).toHaveProperty("price");
  });
});

describe("corrections and deletes", () => {
  test("setting quantity and price is seen at once; unknown items are 404", async () => {
    const name = uniqueName("Fix");
    await send("POST", "/items", { name, quantity: 10, price: 1 });
    await read(name);
    let res = await send("PATCH", `/items/${encodeURIComponent(name)}`, { quantity: 0 });
    expect(await res.json()).toEqual({
      data: { item: { name, quantity: 0, price: 1 }, cache: "cleared", replayed: false },
    });
    expect(await read(name)).toEqual({ name, quantity: 0, price: 1 });
    res = await send("PATCH", `/items/${encodeURIComponent(name)}`, { price: 99.99 });
    expect(await read(name)).toEqual({ name, quantity: 0, price: 99.99 });
    expect((await send("PATCH", "/items/no-such-item", { price: 1 })).status).toBe(404);
  });

  test("a deleted item is gone at once", async () => {
    const name = uniqueName("Gone");
    await send("POST", "/items", { name, quantity: 1, price: 1 });
    expect(await read(name)).not.toBeNull();
    const res = await send("DELETE", `/items/${encodeURIComponent(name)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      data: { item: { name, quantity: 1, price: 1 }, cache: "cleared", replayed: false },
    });
    expect(await read(name)).toBeNull();
    expect((await send("DELETE", `/items/${encodeURIComponent(name)}`)).status).toBe(404);
  });
});

describe("bad requests change nothing", () => {
  const tux = { name: "Tux" };
  const cases: [string, string | object, number, string?][] = [
    ["missing fields", {}, 400, "name"],
    ["missing quantity", { ...tux }, 400, "quantity"],
    ["negative quantity", { ...tux, quantity: -5 }, 400, "quantity"],
    ["huge quantity", { ...tux, quantity: 1e12 }, 400, "quantity"],
    ["fractional quantity", { ...tux, quantity: 2.5 }, 400, "quantity"],
    ["string quantity", { ...tux, quantity: "10" }, 400, "quantity"],
    ["price with three decimals", { ...tux, quantity: 1, price: 1.005 }, 400, "price"],
    ["65-character name", { name: "x".repeat(65), quantity: 1, price: 1 }, 400, "name"],
    ["array for a name", { name: ["Tux"], quantity: 1 }, 400, "name"],
    ["non-JSON", "name=Tux&quantity=1", 400],
    ["1 MB body", JSON.stringify({ name: "Tux", quantity: 1, pad: "x".repeat(1_000_000) }), 413],
  ];
  for (const [what, body, status, field] of cases) {
    test(`${what} → ${status}${field ? ` naming ${field}` : ""}`, async () => {
      const before = await selectItems();
      const res = await send("POST", "/items", body);
      expect(res.status).toBe(status);
      const { error } = await res.json();
      expect(error.code).toBe(status);
      if (field) expect(error.fields).toHaveProperty(field);
      expect(await selectItems()).toEqual(before);
    });
  }

  test("a wrong content type → 415", async () => {
    const before = await selectItems();
    expect((await send("POST", "/items", { ...tux, quantity: 1 }, "text/plain")).status).toBe(415);
    expect(await selectItems()).toEqual(before);
  });

  test("no token → 401, nothing written", async () => {
    const before = await selectItems();
    for (
      const [method, path] of [["POST", "/items"], ["PATCH", "/items/Tux"], ["DELETE", "/items/Tux"], [
        "GET",
        "/orders",
      ]] as const
    ) {
      const res = await app.request(path, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "GET" ? undefined : JSON.stringify({ name: "Tux", quantity: 1, price: 1 }),
      });
      expect(res.status).toBe(401);
    }
    expect(await selectItems()).toEqual(before);
  });
});

test("orders are listed newest first, paged", async () => {
  const res = await app.request("/orders?page=1&per_page=5", { headers: auth });
  expect(res.status).toBe(200);
  const { data } = await res.json();
  expect(data.page).toBe(1);
  expect(data.per_page).toBe(5);
  const numbers = data.orders.map((o: { number: number }) => o.number);
  expect([...numbers].sort((a: number, b: number) => b - a)).toEqual(numbers);
  expect((await app.request("/orders?per_page=1000", { headers: auth })).status).toBe(400);
});
