// Integration: the api in-process on the test stack's real MariaDB, bridge and Redis.
import { afterAll, describe, expect, test } from "bun:test";
// Starts the test stack (on demand, once per run): testutil/src/test-stack.ts reads its env.
import "./stack.ts";
import { createDb } from "../../lib/src/data/db.ts";
import { countingDb, dbConfig, testCache, uniqueName } from "../../testutil/src/test-stack.ts";
import { createApp as createAdminApi } from "../../admin-api/src/app.ts";
import { createApp } from "../../api/src/app.ts";

const token = "test-api-token";
const { db, counter } = countingDb("api");
const cache = testCache();
const quiet = () => {};
const app = createApp({ db, cache, token, log: quiet });
const adminDb = createDb(dbConfig("admin"));
const adminApi = createAdminApi({ db: adminDb, cache, token, log: quiet });
afterAll(async () => {
  cache.close();
  await db.close();
  await adminDb.close();
});

const auth = { Authorization: `Bearer ${token}` };
const get = (path: string) => app.request(path, { headers: auth });
const buy = (name: string, quantity: number, requestId?: string) =>
  app.request("/orders", {
    method: "POST",
    headers: {
      ...auth,
      "content-type": "application/json",
      ...(requestId ? { "X-Request-Id": requestId } : {}),
    },
    body: JSON.stringify({ name, quantity }),
  });
const addItem = async (name: string, quantity: number, price = 2.5) =>
  adminApi.request("/items", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name, quantity, price }),
  });

describe("catalogue", () => {
  test("lists a page of items in name order, the seeded toys among them, each checked", async () => {
    const res = await get("/items?per_page=100");
    expect(res.status).toBe(200);
    const { data } = await res.json();
    expect(data).toMatchObject({ page: 1, per_page: 100, q: "" });
    expect(data.total).toBeGreaterThanOrEqual(10);
    const names = data.items.map((i: { name: string }) => i.name);
    for (const toy of ["Tux", "Fox", "Python"]) expect(names).toContain(toy);
    for (const item of data.items) expect(Object.keys(item).sort()).toEqual(["name", "price", "quantity"]);
  });

  test("a page's query is checked: a bad page or per_page is 400 naming it", async () => {
    for (const [query, field] of [["page=0", "page"], ["page=x", "page"], ["per_page=101", "per_page"]]) {
      const res = await get(`/items?${query}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error.fields).toHaveProperty(field!);
    }
  });

  test("finds an item by name ignoring case", async () => {
    for (const name of ["Tux", "tux", "TUX", "tUx"]) {
      const res = await get(`/items/${name}`);
      expect(res.status).toBe(200);
      expect((await res.json()).data.name).toBe("Tux");
    }
  });

  test("an unknown or impossible name is 404 product not found", async () => {
    for (const name of ["no-such-toy", "x".repeat(65)]) {
      const res = await get(`/items/${name}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 404, message: "product not found" } });
    }
  });

  test("once read, an item and a page are answered from Redis with no MySQL statement; the current ETag in If-None-Match is 304 with no body", async () => {
    const name = uniqueName("Hit");
    await addItem(name, 3);
    const first = await get(`/items/${encodeURIComponent(name)}`);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"i\d+\.\d+"$/);
    let before = counter.statements;
    const again = await app.request(`/items/${encodeURIComponent(name)}`, {
      headers: { ...auth, "If-None-Match": etag },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(counter.statements - before).toBe(0);
    // A page: its names and items filled by the first reads, then from Redis alone.
    const page = `/items?q=${encodeURIComponent(name)}`;
    await get(page);
    await get(page);
    const listTag = (await get(page)).headers.get("etag")!;
    before = counter.statements;
    const list = await app.request(page, { headers: { ...auth, "If-None-Match": listTag } });
    expect(list.status).toBe(304);
    expect(counter.statements - before).toBe(0);
  });

  test("POST /items/check answers many at once: unchanged for the ETag held, the value otherwise, missing for none", async () => {
    const name = uniqueName("Check");
    await addItem(name, 3);
    const tag = (await get(`/items/${encodeURIComponent(name)}`)).headers.get("etag")!;
    const res = await app.request("/items/check", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        items: [{ name, etag: tag }, { name: name.toUpperCase() }, { name: "no such toy at all" }],
        pages: [{ page: 1, per_page: 10, q: name }],
      }),
    });
    expect(res.status).toBe(200);
    const { data } = await res.json();
    expect(data.items).toEqual([
      { etag: tag, unchanged: true },
      { etag: tag, value: { name, quantity: 3, price: 2.5 } },
      { missing: true },
    ]);
    expect(data.pages[0].value).toEqual({
      items: [{ name, quantity: 3, price: 2.5 }],
      page: 1,
      per_page: 10,
      total: 1,
      q: name,
    });
  });

  test("any write makes a new ETag: a purchase, a correction, an insert, a delete", async () => {
    const name = uniqueName("Versions");
    const seen = new Set<string>();
    const page = `/items?q=${encodeURIComponent(name)}`;
    const versions = async () => {
      const item = (await get(`/items/${encodeURIComponent(name)}`)).headers.get("etag") ?? "none";
      const list = (await get(page)).headers.get("etag")!;
      for (const tag of [item, list]) {
        if (tag !== "none") {
          expect(seen.has(tag)).toBe(false);
          seen.add(tag);
        }
      }
    };
    await addItem(name, 3);
    await versions();
    expect((await buy(name, 1)).status).toBe(200);
    await versions();
    await adminApi.request(`/items/${encodeURIComponent(name)}`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ price: 3.5 }),
    });
    await versions();
    await adminApi.request(`/items/${encodeURIComponent(name)}`, { method: "DELETE", headers: auth });
    await versions();
    await addItem(name, 3); // the same name again: a new id, so never an old version
    await versions();
  });
});

describe("purchases", () => {
  test("a purchase decrements the stock, and the next read shows it at once", async () => {
    const name = uniqueName("Buy");
    await addItem(name, 5);
    expect((await (await get(`/items/${encodeURIComponent(name)}`)).json()).data.quantity).toBe(5); // cached now
    const res = await buy(name.toUpperCase(), 2);
    expect(res.status).toBe(200);
    const { data } = await res.json();
    expect(data).toMatchObject({ name, quantity: 2, unit_price: 2.5 });
    expect((await (await get(`/items/${encodeURIComponent(name)}`)).json()).data.quantity).toBe(3);
    const order = await (await get(`/orders/${data.order_number}`)).json();
    expect(order.data).toMatchObject({ number: data.order_number, name, quantity: 2, unit_price: 2.5 });
  });

  test("order numbers are sequential: the next purchase gets the next number", async () => {
    const name = uniqueName("Seq");
    await addItem(name, 10);
    const a = (await (await buy(name, 1)).json()).data.order_number;
    const b = (await (await buy(name, 1)).json()).data.order_number;
    // Nothing else buys in between: the tests run one at a time against their own stack.
    expect(b).toBe(a + 1);
  });

  test("a purchase replayed with its request id answers the same order and takes the stock once", async () => {
    const name = uniqueName("Replay");
    await addItem(name, 1);
    const id = `replay_${name.replace(/\W/g, "_")}`;
    const first = await (await buy(name, 1, id)).json();
    // The stock is gone, yet the replay (HAProxy resending after a web server died) is not refused.
    const again = await buy(name, 1, id);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    expect((await (await get(`/items/${encodeURIComponent(name)}`)).json()).data.quantity).toBe(0);
  });

  test("a request id reused for another purchase places a new order", async () => {
    const name = uniqueName("Reuse");
    await addItem(name, 5);
    const id = `reuse_${name.replace(/\W/g, "_")}`;
    const a = (await (await buy(name, 1, id)).json()).data.order_number;
    const b = (await (await buy(name, 2, id)).json()).data.order_number;
    expect(b).not.toBe(a);
    expect((await (await get(`/items/${encodeURIComponent(name)}`)).json()).data.quantity).toBe(2);
  });

  test("not enough stock is 409 and changes nothing", async () => {
    const name = uniqueName("Short");
    await addItem(name, 1);
    const res = await buy(name, 2);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 409, message: "not enough stock" } });
    expect((await (await get(`/items/${encodeURIComponent(name)}`)).json()).data.quantity).toBe(1);
  });

  test("an unknown product is 404; a bad body is 400 naming the field", async () => {
    expect((await buy("no-such-toy", 1)).status).toBe(404);
    const res = await buy("Tux", 0);
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/^quantity: /);
  });

  test("an unknown order is 404 order not found", async () => {
    for (const number of ["999999999", "0", "abc"]) {
      const res = await get(`/orders/${number}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 404, message: "order not found" } });
    }
  });
});

describe("access", () => {
  test("every route but the health checks needs the service token", async () => {
    for (const path of ["/items", "/items/Tux", "/orders/1", "/items/check"]) {
      const res = await app.request(path);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe(401);
    }
    expect((await app.request("/items", { headers: { Authorization: "Bearer wrong-token" } })).status).toBe(
      401,
    );
    expect((await app.request("/healthz")).status).toBe(200);
  });

  test("/readyz reports the database and the cache", async () => {
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { database: "up", cache: "up" } });
  });

  test("the read account is refused every write but a purchase by the database itself", async () => {
    const refused = async (sql: string) => {
      const err = await db.execute(sql).then(() => null, (e) => e);
      expect(err?.code).toMatch(
        /^ER_(TABLEACCESS_DENIED_ERROR|PROCACCESS_DENIED_ERROR|SPECIFIC_ACCESS_DENIED_ERROR)$/,
      );
    };
    await refused("INSERT INTO items (name, name_key, quantity, price) VALUES ('Hack', 'hack', 1, 1)");
    await refused("UPDATE items SET price = 0.01 WHERE name_key = 'tux'");
    await refused("UPDATE items SET name = 'Renamed' WHERE name_key = 'tux'");
    await refused("DELETE FROM items WHERE name_key = 'tux'");
    await refused("INSERT INTO orders (item_id, item_name, quantity, unit_price) VALUES (1, 'Tux', 1, 1)");
    await refused("DELETE FROM orders");
    const [row] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM items WHERE name_key = 'tux'");
    expect(Number(row?.n)).toBe(1);
  });
});
