// What the toy-store lab's own clients rely on, through HAProxy (README, lab clients): a path
// with one trailing slash is the same route, and orders are numbered from 0.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { orderKey } from "../../lib/src/order-number.ts";
import { uniqueName } from "../../testutil/src/test-stack.ts";
import { createItem, loop, outOfRotation, restore } from "./helpers.ts";
import { buy, getJson, getPage, post, postForm, store } from "./http.ts";
import { env, eventually, servedBy, stack } from "./stack.ts";

const ITEM = uniqueName("Lab slash");
beforeAll(() => createItem(ITEM, 100_000, 2.5));
// Off the shelves again, so later files (and the screenshots) see the seed.
afterAll(async () => {
  const res = await fetch(`${env("ADMIN_API_URL")}/items/${encodeURIComponent(ITEM)}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}` },
  });
  expect(res.status).toBe(200);
});

describe("orders are numbered from 0", () => {
  test("the first order of a fresh store is number 0: GET /orders/0 answers it", async () => {
    // The test stack starts from an empty database (tests/setup.ts: fresh); whatever
    // other files ran first, the first order ever placed is the lowest key.
    const first = async () =>
      (await stack().sql("SELECT number, item_name, quantity FROM bazaar.orders ORDER BY number LIMIT 1"))
        .trim().split("\n")[1];
    if ((await first()) === undefined) expect((await buy({ name: ITEM, quantity: 1 })).status).toBe(200);
    const [key, name, quantity] = (await first())!.split("\t");
    // AUTO_INCREMENT's first key, shown as 0.
    expect(Number(key)).toBe(orderKey(0));
    const { status, body } = await getJson("/orders/0");
    expect(status).toBe(200);
    expect(body).toEqual({ data: { number: 0, name, quantity: Number(quantity) } });
    const page = await getPage("/orders/0");
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("Order #0");
  });

  test("a purchase's number reads back as that order, on the JSON API and the page, through both web servers", async () => {
    const placed = await buy({ name: ITEM, quantity: 3 });
    expect(placed.status).toBe(200);
    const n = placed.body.data.order_number as number;
    // The database's key for it is one more: the mapping is in one place (lib/src/order-number.ts).
    const row =
      (await stack().sql(`SELECT item_name, quantity FROM bazaar.orders WHERE number = ${orderKey(n)}`))
        .trim().split("\n")[1];
    expect(row).toBe(`${ITEM}\t3`);
    for (const base of [env("WEB1_URL"), env("WEB2_URL"), store()]) {
      expect((await getJson(`/orders/${n}`, base)).body).toEqual({
        data: { number: n, name: ITEM, quantity: 3 },
      });
      expect((await getPage(`/orders/${n}`, base)).html).toContain(`Order #${n}`);
    }
    const next = await buy({ name: ITEM, quantity: 1 });
    expect(next.body.data.order_number).toBe(n + 1);
  });
});

describe("one trailing slash is the same route", () => {
  test("GET /products/Tux/ answers as GET /products/Tux", async () => {
    const plain = await getJson("/products/Tux");
    const slash = await getJson("/products/Tux/");
    expect(slash.status).toBe(200);
    expect(slash.res.headers.get("content-type")).toContain("application/json");
    expect(slash.body).toEqual(plain.body);
    expect((await getJson("/products/Unicorn/")).body).toEqual({
      error: { code: 404, message: "product not found" },
    });
  });

  test("POST /orders/ places an order; GET /orders/N/ reads it back", async () => {
    const placed = await post("/orders/", JSON.stringify({ name: ITEM, quantity: 2 }));
    expect(placed.status).toBe(200);
    expect(Object.keys(placed.body.data)).toEqual(["order_number"]);
    const n = placed.body.data.order_number as number;
    const slash = await getJson(`/orders/${n}/`);
    expect(slash.status).toBe(200);
    expect(slash.body).toEqual({ data: { number: n, name: ITEM, quantity: 2 } });
    expect((await getJson("/orders/987654321/")).body).toEqual({
      error: { code: 404, message: "order not found" },
    });
    // The refusals are the lab's too.
    expect((await post("/orders/", JSON.stringify({ name: "Unicorn", quantity: 1 }))).body).toEqual({
      error: { code: 404, message: "product not found" },
    });
    expect((await post("/orders/", JSON.stringify({ name: ITEM, quantity: 0 }))).status).toBe(400);
  });

  test("pages too: the order's page at /orders/N/, the storefront's buy form at /buy/", async () => {
    const placed = await post("/orders/", JSON.stringify({ name: ITEM, quantity: 1 }));
    const n = placed.body.data.order_number as number;
    const page = await getPage(`/orders/${n}/`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain(`Order #${n}`);
    const form = await postForm("/buy/", { name: ITEM, quantity: "1" });
    expect(form.status).toBe(303);
    expect(form.res.headers.get("location")).toBe(`/orders/${n + 1}`);
  });

  test(
    "POST /orders/ survives web-1 killed mid-load like POST /orders: HAProxy replays it, nothing fails or doubles",
    async () => {
      const count = async () =>
        Number((await stack().sql("SELECT COUNT(*) FROM bazaar.orders")).trim().split("\n").at(-1));
      const before = await count();
      const abort = new AbortController();
      let acknowledged = 0;
      const load = loop(4, abort.signal, async () => {
        const res = await fetch(`${store()}/orders/`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: ITEM, quantity: 1 }),
        });
        const body = await res.text();
        if (res.status === 200) acknowledged++;
        return {
          ok: res.status === 200,
          why: `HTTP ${res.status} ${body.slice(0, 120)}`,
          servedBy: servedBy(res),
        };
      });
      try {
        await Bun.sleep(1000);
        stack().kill("web-1", "SIGKILL");
        await eventually(() => outOfRotation("web", "web-1"), 10_000, 50);
        await Bun.sleep(500);
      } finally {
        abort.abort();
        await restore("web-1");
      }
      const result = await load;
      expect(result.failed, result.failures.join("\n")).toBe(0);
      expect(result.sent).toBeGreaterThan(20);
      expect(await count()).toBe(before + acknowledged);
    },
    60_000,
  );
});

describe("the lab's clients, as they are", () => {
  test("a purchase posted with no Content-Type (Python's http.client, requests.post(data=…)) is read as JSON, through the proxy", async () => {
    const res = await fetch(`${env("STORE_URL")}/orders`, {
      method: "POST",
      // A Blob of no type: fetch sends no Content-Type, as those clients do.
      body: new Blob([JSON.stringify({ name: ITEM, quantity: 1 })]),
    });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { order_number: number } };
    expect(Number.isInteger(data.order_number)).toBe(true);
    const typed = await fetch(`${env("STORE_URL")}/orders`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ name: ITEM, quantity: 1 }),
    });
    expect(typed.status).toBe(415);
  });
});
