// The public JSON API (design: "JSON API") through HAProxy, exactly as the toy-store
// lab's clients see it. Read path and purchases only: this file also runs with api
// and web under Deno, and never depends on the admin site.
import { describe, expect, test } from "bun:test";
import { buy, getJson, isErrorShape, post, stockOf, store } from "./http.ts";
import { env, hasLocalStack, servedBy } from "./stack.ts";

// Seeded toys (db/init.sql). Other tests buy them too, so stock is only compared
// before/after within a test; prices are never changed by any test.
const TUX = { name: "Tux", price: 15.99 };

describe("GET /products/:name", () => {
  test("answers exactly {data:{name,price,quantity}} as JSON", async () => {
    const { res, status, body } = await getJson("/products/Tux");
    expect(status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(Object.keys(body)).toEqual(["data"]);
    expect(Object.keys(body.data).sort()).toEqual(["name", "price", "quantity"]);
    expect(body.data.name).toBe(TUX.name);
    expect(body.data.price).toBe(TUX.price);
    expect(Number.isInteger(body.data.quantity)).toBe(true);
    expect(body.data.quantity).toBeGreaterThanOrEqual(0);
  });

  test("matches the name ignoring case, answering the store's spelling", async () => {
    for (const asked of ["tux", "TUX", "tUx"]) {
      const { status, body } = await getJson(`/products/${asked}`);
      expect(status).toBe(200);
      expect(body.data.name).toBe("Tux");
    }
  });

  test("an unknown product is 404 {error:{code:404,message:'product not found'}}", async () => {
    for (const name of ["Unicorn", "no such toy", "x".repeat(65), "%00"]) {
      const { res, status, body } = await getJson(`/products/${encodeURIComponent(name)}`);
      expect(status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(body).toEqual({ error: { code: 404, message: "product not found" } });
    }
  });
});

describe("POST /orders", () => {
  test("a purchase answers 200 {data:{order_number}} and takes the stock down by the quantity", async () => {
    const before = await stockOf("Fox");
    const { res, status, body } = await buy({ name: "Fox", quantity: 2 });
    expect(status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(Object.keys(body)).toEqual(["data"]);
    expect(Object.keys(body.data)).toEqual(["order_number"]);
    expect(Number.isSafeInteger(body.data.order_number)).toBe(true);
    expect(body.data.order_number).toBeGreaterThanOrEqual(0);
    expect(await stockOf("Fox")).toBe(before - 2);
  });

  test("the name is matched ignoring case and the order carries the store's spelling", async () => {
    const { status, body } = await buy({ name: "fOx", quantity: 1 });
    expect(status).toBe(200);
    const order = await getJson(`/orders/${body.data.order_number}`);
    expect(order.body.data.name).toBe("Fox");
  });

  test("an unknown product is 404 product not found", async () => {
    const { status, body } = await buy({ name: "Unicorn", quantity: 1 });
    expect(status).toBe(404);
    expect(body).toEqual({ error: { code: 404, message: "product not found" } });
  });

  // Each body names the field that is wrong, in the message (and in `fields`).
  const BAD_BODIES: [string, unknown, string][] = [
    ["missing name", { quantity: 1 }, "name"],
    ["empty name", { name: "", quantity: 1 }, "name"],
    ["name too long", { name: "x".repeat(65), quantity: 1 }, "name"],
    ["name an array", { name: ["Tux"], quantity: 1 }, "name"],
    ["missing quantity", { name: "Tux" }, "quantity"],
    ["quantity 0", { name: "Tux", quantity: 0 }, "quantity"],
    ["quantity 1001", { name: "Tux", quantity: 1001 }, "quantity"],
    ["quantity 1.5", { name: "Tux", quantity: 1.5 }, "quantity"],
    ['quantity "2"', { name: "Tux", quantity: "2" }, "quantity"],
    ["quantity negative", { name: "Tux", quantity: -1 }, "quantity"],
    ["quantity an array", { name: "Tux", quantity: [1] }, "quantity"],
    ["quantity null", { name: "Tux", quantity: null }, "quantity"],
  ];
  for (const [what, order, field] of BAD_BODIES) {
    test(`400 naming ${field}: ${what}`, async () => {
      const { status, body } = await buy(order);
      expect(status).toBe(400);
      expect(isErrorShape(body, 400)).toBe(true);
      expect(body.error.message).toContain(field);
      expect(body.error.fields?.[field]).toBeString();
    });
  }

  test("a body that is not an object, or not JSON at all, is 400", async () => {
    for (const raw of [JSON.stringify([{ name: "Tux", quantity: 1 }]), "null", "42", "{not json", ""]) {
      const { status, body } = await post("/orders", raw);
      expect(status).toBe(400);
      expect(isErrorShape(body, 400)).toBe(true);
    }
  });

  test("not enough stock is 409 not enough stock and changes nothing", async () => {
    const before = await stockOf("Dolphin");
    const want = Math.min(1000, before + 1);
    const { status, body } = await buy({ name: "Dolphin", quantity: want });
    expect(status).toBe(409);
    expect(body).toEqual({ error: { code: 409, message: "not enough stock" } });
    expect(await stockOf("Dolphin")).toBe(before);
  });

  test("a body over the limit (16 KB) is 413 in the error shape", async () => {
    for (const size of [20_000, 1_000_000]) {
      const raw = JSON.stringify({ name: "Tux", quantity: 1, pad: "x".repeat(size) });
      const { status, body } = await post("/orders", raw);
      expect(status).toBe(413);
      expect(isErrorShape(body, 413)).toBe(true);
    }
  });

  test("a content type other than JSON is 415 in the error shape", async () => {
    const valid = JSON.stringify({ name: "Tux", quantity: 1 });
    for (
      const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
      ]
    ) {
      const { status, body } = await post("/orders", valid, type);
      expect(status).toBe(415);
      expect(isErrorShape(body, 415)).toBe(true);
    }
  });

  test("a bad request never writes: no stock taken, no order number used", async () => {
    // Two good orders around every kind of bad one: consecutive numbers mean no order
    // (not even a rolled-back one) was attempted in between.
    const first = await buy({ name: "Octocat", quantity: 1 });
    expect(first.status).toBe(200);
    const stock = await stockOf("Octocat");
    const bad: [BodyInit, string][] = [
      [JSON.stringify({ name: "Octocat", quantity: 0 }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: 1001 }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: 1.5 }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: "1" }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: -3 }), "application/json"],
      [JSON.stringify({ quantity: 1 }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: 1, pad: "x".repeat(20_000) }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: 1 }), "text/plain"],
      [JSON.stringify({ name: "Octocat", quantity: 100_000 }), "application/json"],
      [JSON.stringify({ name: "Octocat", quantity: Math.min(1000, stock + 1) }), "application/json"],
    ];
    for (const [body, type] of bad) {
      const { status } = await post("/orders", body, type);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
    expect(await stockOf("Octocat")).toBe(stock);
    const second = await buy({ name: "Octocat", quantity: 1 });
    expect(second.status).toBe(200);
    expect(second.body.data.order_number).toBe(first.body.data.order_number + 1);
  });
});

describe("GET /orders/:number", () => {
  test("a program gets exactly {data:{number,name,quantity}}", async () => {
    const placed = await buy({ name: "Python", quantity: 3 });
    const n = placed.body.data.order_number;
    const { res, status, body } = await getJson(`/orders/${n}`);
    expect(status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(body).toEqual({ data: { number: n, name: "Python", quantity: 3 } });
  });

  test("a request without Accept (curl, the lab's clients) also gets JSON", async () => {
    const placed = await buy({ name: "Python", quantity: 1 });
    const n = placed.body.data.order_number;
    const res = await fetch(`${store()}/orders/${n}`);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ data: { number: n, name: "Python", quantity: 1 } });
  });

  test("a browser gets the order's page", async () => {
    const placed = await buy({ name: "Python", quantity: 1 });
    const n = placed.body.data.order_number;
    const res = await fetch(`${store()}/orders/${n}`, {
      headers: { Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain(`Order #${n}`);
    expect(page).toContain("Python");
    expect(page).toContain("$19.99");
  });

  test("an unknown order is 404 order not found", async () => {
    const { status, body } = await getJson("/orders/987654321");
    expect(status).toBe(404);
    expect(body).toEqual({ error: { code: 404, message: "order not found" } });
  });

  test("a number that is not a whole number from 0 is 400 naming the number", async () => {
    for (const bad of ["abc", "-1", "01", "1.5", "1e3", "12345678901234567890"]) {
      const { status, body } = await getJson(`/orders/${bad}`);
      expect(status).toBe(400);
      expect(isErrorShape(body, 400)).toBe(true);
      expect(body.error.message).toContain("number");
    }
  });
});

describe("the rest of the public port", () => {
  test("unknown routes are a JSON 404 for programs", async () => {
    for (
      const [method, path] of [["GET", "/nope"], ["GET", "/products"], ["POST", "/products/Tux"], [
        "DELETE",
        "/orders/1",
      ], ["GET", "/api/items"]] as const
    ) {
      const res = await fetch(`${store()}${path}`, { method, headers: { Accept: "application/json" } });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(isErrorShape(await res.json(), 404)).toBe(true);
    }
  });

  test("GET /healthz is 200", async () => {
    const res = await fetch(`${store()}/healthz`);
    expect(res.status).toBe(200);
  });

  test("the internal API's routes are not reachable through the public port, even with its token", async () => {
    // /items is the api's catalogue, /readyz its status, /orders?page= the admin-api's list.
    const auth = { Authorization: `Bearer ${env("API_TOKEN")}` };
    for (const path of ["/items", "/items/Tux", "/readyz", "/orders?page=1&per_page=20"]) {
      const res = await fetch(`${store()}${path}`, {
        headers: { Accept: "application/json", ...auth },
        redirect: "manual",
      });
      expect(res.status).toBe(404);
      expect(servedBy(res)).toMatch(/^web-\d$/);
      const body = await res.json();
      expect(body.data).toBeUndefined();
    }
  });

  test("the internal ports are not the public port", () => {
    const pub = new URL(store()).port;
    const internal = ["API_URL", "ADMIN_API_URL", "CACHE_URL"].filter((name) => process.env[name]);
    // Not vacuous: the local stack exports all three (an external STORE_URL may give none).
    if (hasLocalStack()) expect(internal).toHaveLength(3);
    for (const name of internal) expect(new URL(process.env[name]!).port).not.toBe(pub);
  });
});

describe("a purchase is seen at once everywhere", () => {
  test("through web-1, web-2 and the proxy, right after a purchase through either", async () => {
    const bases = { "web-1": env("WEB1_URL"), "web-2": env("WEB2_URL") };
    // Read through every path first, so that any cache along the way holds the old value.
    const start = await stockOf("Whale", bases["web-1"]);
    expect(await stockOf("Whale", bases["web-2"])).toBe(start);
    expect(await stockOf("Whale")).toBe(start);
    expect(await stockOf("Whale")).toBe(start);

    let expected = start;
    for (const via of ["web-1", "web-2", "web-1"] as const) {
      const placed = await buy({ name: "Whale", quantity: 1 }, bases[via]);
      expect(placed.status).toBe(200);
      expect(servedBy(placed.res)).toBe(via);
      expected -= 1;
      expect(await stockOf("Whale", bases["web-1"])).toBe(expected);
      expect(await stockOf("Whale", bases["web-2"])).toBe(expected);
      // Twice through HAProxy: round robin, so both web servers answer.
      const seen = new Set<string | undefined>();
      for (let i = 0; i < 2; i++) {
        const r = await getJson("/products/whale");
        expect(r.body.data.quantity).toBe(expected);
        seen.add(servedBy(r.res));
      }
      expect([...seen].sort()).toEqual(["web-1", "web-2"]);
    }
  });
});
