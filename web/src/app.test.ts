import { describe, expect, test } from "bun:test";
import type { CatalogCheck } from "@bazaar/lib/schemas.ts";
import { createApp } from "./app.ts";
import type { CatalogLease } from "./catalog-lease.ts";
import { fakeApi } from "@bazaar/testutil/fake-api.ts";
import { REQUEST_ID_SIG_HEADER, requestIdSignature } from "@bazaar/lib/request-id.ts";

const IDENTITY = "host-a · web-1";
const KEY = "request-id-key-for-the-unit-tests-0123456789";
const TOYS = [
  { name: "Tux", quantity: 100, price: 15.99 },
  { name: "Fox", quantity: 3, price: 9.5 },
  { name: "Python", quantity: 0, price: 1250 },
];

function setup(items = TOYS, lease?: CatalogLease) {
  const fake = fakeApi(items);
  const app = createApp({ api: fake.client, identity: IDENTITY, log: () => {}, requestIdKey: KEY, lease });
  return { fake, app };
}

/** A lease under the test's hand: valid or not, and invalidations as the change stream would apply them. */
function handLease() {
  let counter = 0;
  const itemsAt = new Map<string, number>();
  const hand: { valid: boolean; onMark: () => void; invalidate(key: string): void; lease: CatalogLease } = {
    valid: true,
    /** Called as a check is sent (after its mark is taken). */
    onMark: () => {},
    invalidate(nameKey: string) {
      itemsAt.set(nameKey, ++counter);
    },
    lease: {
      valid: () => hand.valid,
      mark: () => (queueMicrotask(() => hand.onMark()), counter),
      itemCurrent: (key, at) => at >= (itemsAt.get(key) ?? 0),
      pageCurrent: (members, at) => members.every((key) => at >= (itemsAt.get(key) ?? 0)),
      stop: () => {},
      stats: () => ({}),
    },
  };
  return hand;
}

const HTML = { Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://localhost", ...headers },
  body: new URLSearchParams(fields).toString(),
});
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("storefront page", () => {
  test("lists every item with name, quantity and price, and a buy form each", async () => {
    const { app } = setup();
    const res = await app.request("/", { headers: HTML });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const body = await res.text();
    expect(body.startsWith("<!DOCTYPE html>")).toBe(true);
    for (
      const text of [
        "Tux",
        "$15.99",
        "100 in stock",
        "Fox",
        "$9.50",
        "Only 3 left",
        "Python",
        "$1,250.00",
        "Out of stock",
      ]
    ) {
      expect(body).toContain(text);
    }
    expect(body.match(/<form class="buy" method="post" action="\/buy">/g)?.length).toBe(3);
    expect(body).toContain('action="/orders"'); // the order lookup box
  });

  test("shows the serving instance at the top left, before anything else on the page", async () => {
    const { app } = setup();
    const body = await (await app.request("/")).text();
    const first = body.indexOf('<span class="served-by"');
    expect(first).toBeGreaterThan(0);
    expect(body.indexOf(IDENTITY)).toBeGreaterThan(first);
    expect(body.indexOf(IDENTITY)).toBeLessThan(body.indexOf('class="header"'));
  });

  test("an item that is out of stock can't be bought", async () => {
    const { app } = setup([{ name: "Python", quantity: 0, price: 5 }]);
    const body = await (await app.request("/")).text();
    expect(body).toContain("Sold out");
    expect(body).toMatch(/<button class="btn" type="submit" disabled="">Sold out<\/button>/);
  });

  test("an empty catalogue says so", async () => {
    const { app } = setup([]);
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("The shelves are empty");
  });

  test("item names are rendered as text, never as markup", async () => {
    const { app } = setup([{ name: "<script>alert(1)</script>", quantity: 1, price: 1 }]);
    const body = await (await app.request("/")).text();
    expect(body).not.toContain("<script>alert(1)</script>");
    expect(body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  test("every response says who served it and carries the security headers", async () => {
    const { app } = setup();
    for (const path of ["/", "/healthz", "/nope", "/products/Tux"]) {
      const res = await app.request(path);
      expect(res.headers.get("x-served-by")).toBe(IDENTITY.replace(" · ", " / "));
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
    }
  });

  test("the stylesheet is served from a cacheable route", async () => {
    const { app } = setup();
    const body = await (await app.request("/")).text();
    const href = body.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1];
    expect(href).toMatch(/^\/assets\/bazaar\.[a-z0-9]+\.css$/);
    const css = await app.request(href!);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(css.headers.get("cache-control")).toContain("immutable");
  });
});

describe("when the api fails", () => {
  for (const mode of ["down", "hang", "error500"] as const) {
    test(`the page says the store is temporarily unavailable (api ${mode})`, async () => {
      const { app, fake } = setup();
      fake.state.mode = mode;
      const res = await app.request("/", { headers: HTML });
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toContain("text/html");
      const body = await res.text();
      expect(body).toContain("The store is temporarily unavailable.");
      expect(body).toContain(IDENTITY);
    });

    test(`JSON routes answer 503 in the error shape (api ${mode})`, async () => {
      const { app, fake } = setup();
      fake.state.mode = mode;
      const res = await app.request("/products/Tux");
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: { code: 503, message: "the store is temporarily unavailable" },
      });
    });

    // "Unavailable" only when it certainly was not placed: the api never reached. A
    // deadline passed or a 500 after the purchase was sent: outcome unknown, and how to check.
    test(`a purchase says whether it was placed (api ${mode})`, async () => {
      const { app, fake } = setup();
      fake.state.mode = mode;
      const order = await app.request("/orders", json({ name: "Tux", quantity: 1 }));
      const body = (await order.json()) as { error: { code: number; message: string } };
      if (mode === "down") {
        expect(order.status).toBe(503);
        expect(body).toEqual({ error: { code: 503, message: "the store is temporarily unavailable" } });
      } else {
        const id = order.headers.get("x-request-id")!;
        expect(order.status).toBe(504);
        expect(body.error).toEqual({
          code: 504,
          message:
            `the store did not confirm the order in time: it may or may not have been placed; look it up with GET /orders?request_id=${id} before buying again`,
        });
      }
    });
  }
});

describe("public JSON API", () => {
  test("GET /products/:name has exactly name, price and quantity", async () => {
    const { app } = setup();
    const res = await app.request("/products/tux");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { name: "Tux", price: 15.99, quantity: 100 } });
  });

  test("an unknown product is 404 product not found", async () => {
    const { app } = setup();
    const res = await app.request("/products/Nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 404, message: "product not found" } });
  });

  test("POST /orders answers only the order number, and the order reads back", async () => {
    const { app } = setup();
    const res = await app.request("/orders", json({ name: "Tux", quantity: 2 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { order_number: 0 } });
    const back = await app.request("/orders/0");
    expect(await back.json()).toEqual({ data: { number: 0, name: "Tux", quantity: 2 } });
    expect(await (await app.request("/products/Tux")).json()).toEqual({
      data: { name: "Tux", price: 15.99, quantity: 98 },
    });
  });

  test("order numbers start at 0 and count up; the api is asked for its database key (number + 1)", async () => {
    const { app, fake } = setup();
    const numbers = [];
    for (const name of ["Tux", "Fox", "Tux"]) {
      numbers.push(
        ((await (await app.request("/orders", json({ name, quantity: 1 }))).json()) as {
          data: { order_number: number };
        }).data.order_number,
      );
    }
    expect(numbers).toEqual([0, 1, 2]);
    expect(fake.state.orders.map((o) => o.number)).toEqual([1, 2, 3]);
    fake.state.seen.length = 0;
    expect(await (await app.request("/orders/1")).json()).toEqual({
      data: { number: 1, name: "Fox", quantity: 1 },
    });
    expect(new URL(fake.state.seen[0]!.url).pathname).toBe("/orders/2");
    expect((await app.request("/orders/3")).status).toBe(404);
  });

  test("the api's refusals pass through: 404 product, 409 stock", async () => {
    const { app } = setup();
    const missing = await app.request("/orders", json({ name: "Nope", quantity: 1 }));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 404, message: "product not found" } });
    const short = await app.request("/orders", json({ name: "Fox", quantity: 4 }));
    expect(short.status).toBe(409);
    expect(await short.json()).toEqual({ error: { code: 409, message: "not enough stock" } });
  });

  test("a bad body is 400 naming the field, checked before the api is called", async () => {
    const { app, fake } = setup();
    for (
      const [body, field] of [
        [{ quantity: 1 }, "name"],
        [{ name: "Tux" }, "quantity"],
        [{ name: "Tux", quantity: 0 }, "quantity"],
        [{ name: "Tux", quantity: 1001 }, "quantity"],
        [{ name: "Tux", quantity: 1.5 }, "quantity"],
        [{ name: "Tux", quantity: "2" }, "quantity"],
      ] as const
    ) {
      const res = await app.request("/orders", json(body));
      expect(res.status).toBe(400);
      const reply = (await res.json()) as { error: { code: number; message: string } };
      expect(reply.error.code).toBe(400);
      expect(reply.error.message).toContain(field);
    }
    expect(fake.state.seen.length).toBe(0);
  });

  test("too large is 413, not JSON is 415", async () => {
    const { app } = setup();
    const big = await app.request(
      "/orders",
      json({ name: "Tux", quantity: 1, pad: "x".repeat(1024 * 1024) }),
    );
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: number } }).error.code).toBe(413);
    const text = await app.request("/orders", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "{}",
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { error: { code: number } }).error.code).toBe(415);
  });

  test("a body sent with no Content-Type at all is JSON (the lab's Python clients send none); a wrong type is still 415", async () => {
    const { app, fake } = setup();
    // A Request with a string body gets text/plain by default: a Blob of no type sends none.
    const res = await app.request("/orders", {
      method: "POST",
      body: new Blob([JSON.stringify({ name: "Tux", quantity: 2 })]),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { order_number: 0 } });
    expect(fake.state.orders.map((o) => o.quantity)).toEqual([2]);
    const bad = await app.request("/orders", { method: "POST", body: new Blob(["{not json"]) });
    expect(bad.status).toBe(400);
    const typed = await app.request("/orders", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ name: "Tux", quantity: 1 }),
    });
    expect(typed.status).toBe(415);
    expect(fake.state.orders.length).toBe(1);
  });

  test("GET /orders/:number: 404 order not found for an unknown number", async () => {
    const { app } = setup();
    const res = await app.request("/orders/99");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 404, message: "order not found" } });
  });

  test("GET /orders/:number: 400 naming the number when it is not a whole number from 0", async () => {
    const { app } = setup();
    for (
      const path of [
        "/orders/abc",
        "/orders/-1",
        "/orders/1.5",
        "/orders/01",
        "/orders/1e3",
        "/orders/12345678901234567890",
      ]
    ) {
      const res = await app.request(path);
      expect(res.status).toBe(400);
      const body = (await res.json()) as {
        error: { code: number; message: string; fields: Record<string, string> };
      };
      expect(body.error.code).toBe(400);
      expect(body.error.message).toStartWith("number: ");
      expect(body.error.fields.number).toBeString();
    }
  });

  test("GET /orders/:number for a browser is the order's page", async () => {
    const { app } = setup();
    await app.request("/orders", json({ name: "Fox", quantity: 2 }));
    const res = await app.request("/orders/0", { headers: HTML });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const body = await res.text();
    for (const text of ["Order #0", "Fox", "$9.50", "$19.00", IDENTITY]) expect(body).toContain(text);
    const missing = await app.request("/orders/7", { headers: HTML });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("Order not found.");
  });

  test("unknown routes: JSON 404 for programs, a page for browsers", async () => {
    const { app } = setup();
    const api = await app.request("/nope");
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: { code: 404, message: "not found" } });
    const page = await app.request("/nope", { headers: HTML });
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("Page not found");
  });

  test("GET /healthz is 200", async () => {
    const { app } = setup();
    expect((await app.request("/healthz")).status).toBe(200);
  });

  test("the proxy's request id (signed with the key) is kept and passed on to the api", async () => {
    const { app, fake } = setup();
    const id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const res = await app.request("/products/Tux", {
      headers: { "X-Request-Id": id, [REQUEST_ID_SIG_HEADER]: requestIdSignature(KEY, id) },
    });
    expect(res.headers.get("x-request-id")).toBe(id);
    expect(fake.state.seen[0]!.headers.get("x-request-id")).toBe(id);
    expect(fake.state.seen[0]!.headers.get("authorization")).toBe("Bearer test-token");
    expect(fake.state.seen[0]!.headers.get(REQUEST_ID_SIG_HEADER)).toBeNull();
  });

  test("a purchase's id without the proxy's signature is not this request's: a fresh one is passed on, the client's is only logged", async () => {
    const lines: Record<string, unknown>[] = [];
    const fake = fakeApi(TOYS);
    const app = createApp({
      api: fake.client,
      identity: IDENTITY,
      log: (l) => lines.push(l),
      requestIdKey: KEY,
    });
    const forged: Record<string, string>[] = [{}, { [REQUEST_ID_SIG_HEADER]: "0".repeat(64) }, {
      [REQUEST_ID_SIG_HEADER]: requestIdSignature(`${KEY}-other`, "abc-123"),
    }];
    for (const extra of forged) {
      const res = await app.request(
        "/orders",
        json({ name: "Tux", quantity: 1 }, { "X-Request-Id": "abc-123", ...extra }),
      );
      expect(res.status).toBe(200);
      const id = res.headers.get("x-request-id")!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(fake.state.seen.at(-1)!.headers.get("x-request-id")).toBe(id);
      expect(lines.at(-1)).toMatchObject({ request_id: id, client_request_id: "abc-123" });
    }
    const odd = await app.request("/products/Tux", { headers: { "X-Request-Id": "a b<c>" } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a read's well-formed id is kept unsigned (it cannot buy, and the proxy signs only POSTs)", async () => {
    const lines: Record<string, unknown>[] = [];
    const fake = fakeApi(TOYS);
    const app = createApp({
      api: fake.client,
      identity: IDENTITY,
      log: (l) => lines.push(l),
      requestIdKey: KEY,
    });
    const res = await app.request("/products/Tux", { headers: { "X-Request-Id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
    expect(fake.state.seen.at(-1)!.headers.get("x-request-id")).toBe("abc-123");
    expect(lines.at(-1)).toMatchObject({ request_id: "abc-123", client_request_id: undefined });
  });

  test("without a key (REQUEST_ID_KEY unset) no purchase's id is kept, signed or not", async () => {
    const fake = fakeApi(TOYS);
    const app = createApp({ api: fake.client, identity: IDENTITY, log: () => {} });
    const id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const res = await app.request(
      "/orders",
      json({ name: "Tux", quantity: 1 }, {
        "X-Request-Id": id,
        [REQUEST_ID_SIG_HEADER]: requestIdSignature(KEY, id),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).not.toBe(id);
  });

  test("two purchases with the same unsigned id are two purchases (the api sees two ids); a signed one is the same purchase", async () => {
    const { app, fake } = setup();
    const buy = (headers: Record<string, string>) =>
      app.request("/orders", json({ name: "Tux", quantity: 1 }, headers));
    await buy({ "X-Request-Id": "retry-me" });
    await buy({ "X-Request-Id": "retry-me" });
    const [a, b] = fake.state.seen.slice(-2).map((r) => r.headers.get("x-request-id"));
    expect(a).not.toBe(b);
    const signed = {
      "X-Request-Id": "retry-me",
      [REQUEST_ID_SIG_HEADER]: requestIdSignature(KEY, "retry-me"),
    };
    await buy(signed);
    await buy(signed);
    expect(fake.state.seen.slice(-2).map((r) => r.headers.get("x-request-id"))).toEqual([
      "retry-me",
      "retry-me",
    ]);
  });
});

describe("buying from the storefront", () => {
  test("a purchase redirects (303) to the order's page", async () => {
    const { app, fake } = setup();
    const res = await app.request("http://localhost/buy", form({ name: "Tux", quantity: "3" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orders/0");
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(97);
  });

  test("works behind the proxy: Origin matches the public Host", async () => {
    const { app } = setup();
    const res = await app.request(
      "http://10.0.0.5:8083/buy",
      form({ name: "Tux", quantity: "1" }, { Host: "shop.example:8080", Origin: "http://shop.example:8080" }),
    );
    expect(res.status).toBe(303);
  });

  test("a form posted from another site is refused", async () => {
    const { app, fake } = setup();
    const res = await app.request(
      "http://localhost/buy",
      form({ name: "Tux", quantity: "1" }, { Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site" }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(fake.state.orders.length).toBe(0);
  });

  test("short stock re-renders the storefront with a clear message", async () => {
    const { app } = setup();
    const res = await app.request("http://localhost/buy", form({ name: "Fox", quantity: "5" }));
    expect(res.status).toBe(409);
    const body = await res.text();
    // The message says how many are left (the card's badge says it too).
    expect(body).toContain(
      "Sorry, we don&#39;t have 5 × Fox in stock: only 3 left. Please choose a smaller quantity.",
    );
    expect(body).toContain("Only 3 left");
    const none = await app.request("http://localhost/buy", form({ name: "Python", quantity: "1" }));
    expect(await none.text()).toContain(
      "we don&#39;t have 1 × Python in stock: it is sold out. Please check back soon.",
    );
  });

  test("error pages carry the storefront's header links (a missing order, an unknown page)", async () => {
    const { app } = setup();
    for (const path of ["/orders/7", "/nope", "/orders/abc"]) {
      const body = await (await app.request(path, { headers: HTML })).text();
      expect(body).toContain(
        '<nav class="nav" aria-label="Main"><a href="/">Shop</a><a href="/#find-order">Find an order</a></nav>',
      );
    }
  });

  test("a bad quantity re-renders the storefront with the reason", async () => {
    const { app, fake } = setup();
    for (const quantity of ["0", "abc", "1.5", "", "5000"]) {
      const res = await app.request("http://localhost/buy", form({ name: "Tux", quantity }));
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("Please choose a quantity");
    }
    expect(fake.state.orders.length).toBe(0);
  });

  test("the lookup box goes to the order's page", async () => {
    const { app } = setup();
    const res = await app.request("/orders?number=12");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orders/12");
    const bad = await app.request("/orders?number=x", { headers: HTML });
    expect(bad.status).toBe(404);
  });

  test("the lookup box takes order 0, and its input allows it", async () => {
    const { app } = setup();
    const res = await app.request("/orders?number=0");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orders/0");
    expect(await (await app.request("/", { headers: HTML })).text()).toMatch(
      /<input[^>]*name="number" min="0"/,
    );
  });
});

describe("one trailing slash is the same route", () => {
  test("GET /products/Tux/ is GET /products/Tux", async () => {
    const { app } = setup();
    const res = await app.request("/products/Tux/");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { name: "Tux", price: 15.99, quantity: 100 } });
    expect(await (await app.request("/products/Nope/")).json()).toEqual({
      error: { code: 404, message: "product not found" },
    });
  });

  test("POST /orders/ places the order, GET /orders/0/ reads it, as JSON and as the page", async () => {
    const { app } = setup();
    const placed = await app.request("/orders/", json({ name: "Fox", quantity: 2 }));
    expect(placed.status).toBe(200);
    expect(await placed.json()).toEqual({ data: { order_number: 0 } });
    expect(await (await app.request("/orders/0/")).json()).toEqual({
      data: { number: 0, name: "Fox", quantity: 2 },
    });
    const page = await app.request("/orders/0/", { headers: HTML });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Order #0");
    expect((await app.request("/orders/9/")).status).toBe(404);
    expect((await app.request("/orders/abc/")).status).toBe(400);
  });

  test("the refusals and the body checks are the same with the slash", async () => {
    const { app } = setup();
    expect(await (await app.request("/orders/", json({ name: "Fox", quantity: 4 }))).json()).toEqual({
      error: { code: 409, message: "not enough stock" },
    });
    const bad = await app.request("/orders/", json({ name: "Tux" }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("quantity");
  });

  test("pages too: /buy/ buys, /orders/?number=0 looks up, /healthz/ answers", async () => {
    const { app } = setup();
    const bought = await app.request("http://localhost/buy/", form({ name: "Tux", quantity: "1" }));
    expect(bought.status).toBe(303);
    expect(bought.headers.get("location")).toBe("/orders/0");
    expect((await app.request("/orders/?number=0")).headers.get("location")).toBe("/orders/0");
    expect((await app.request("/healthz/")).status).toBe(200);
  });

  test("only one: two slashes, or a slash inside the path, are not the route", async () => {
    const { app } = setup();
    for (const path of ["/products/Tux//", "/orders//", "/orders/0//", "/products//Tux"]) {
      expect({ path, status: (await app.request(path)).status }).toEqual({ path, status: 404 });
    }
  });
});

describe("versions and ETags", () => {
  test("GET / carries an ETag and answers 304 to If-None-Match with it; a change makes a new one", async () => {
    const { fake, app } = setup();
    const first = await app.request("/", { headers: HTML });
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"p[\w-]+"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const again = await app.request("/", { headers: { ...HTML, "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    fake.change("Tux", { quantity: 7 });
    const changed = await app.request("/", { headers: { ...HTML, "If-None-Match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(await changed.text()).toContain("7");
  });

  test("GET /products/:name carries the item's version and answers 304 to it; a change makes a new one", async () => {
    const { fake, app } = setup();
    const res = await app.request("/products/Tux");
    expect(res.headers.get("etag")).toBe('"i1.1"');
    const again = await app.request("/products/Tux", { headers: { "If-None-Match": '"i1.1"' } });
    expect(again.status).toBe(304);
    fake.change("Tux", { price: 16.5 });
    const changed = await app.request("/products/Tux", { headers: { "If-None-Match": '"i1.1"' } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).toBe('"i1.2"');
    expect(await changed.json()).toEqual({ data: { name: "Tux", price: 16.5, quantity: 100 } });
  });

  test("every read asks the api, with the version it holds; unchanged serves the copy it kept", async () => {
    const { fake, app } = setup();
    await app.request("/products/Tux");
    fake.state.seen.length = 0;
    const res = await app.request("/products/tux");
    expect(await res.json()).toEqual({ data: { name: "Tux", price: 15.99, quantity: 100 } });
    const asked = await Promise.all(
      fake.state.seen.map(async (r) => [new URL(r.url).pathname, await r.clone().json()]),
    );
    expect(asked).toEqual([["/items/check", { items: [{ name: "tux", etag: '"i1.1"' }], pages: [] }]]);
    expect((await app.request("/products/Nope")).status).toBe(404);
  });

  test("reads that arrive during a check share the next one, page and products alike; /healthz counts both", async () => {
    const { fake, app } = setup();
    await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => app.request(i % 3 === 0 ? "/" : i % 3 === 1 ? "/products/Fox" : "/products/Tux"),
      ),
    );
    // One check for the first, one for the nine that came while it was in flight: the
    // page and both products in one request.
    expect(fake.state.seen.length).toBe(2);
    const second = (await fake.state.seen[1]!.clone().json()) as CatalogCheck;
    expect(second.items.map((i) => i.name).sort()).toEqual(["Fox", "Tux"]);
    expect(second.pages).toMatchObject([{ page: 1, per_page: 24, q: "" }]);
    const health = (await (await app.request("/healthz")).json()) as {
      data: { revalidation: { requests: number; checks: number } };
    };
    expect(health.data.revalidation).toEqual({ requests: 10, checks: 2 });
  });
});

describe("the catalogue from memory, inside a grant", () => {
  const asked = (fake: ReturnType<typeof fakeApi>) =>
    fake.state.seen.filter((r) => r.url.endsWith("/items/check")).length;

  test("with a valid lease a read checked once is answered again without asking the api, item and page alike", async () => {
    const hand = handLease();
    const { fake, app } = setup(TOYS, hand.lease);
    await app.request("/products/Tux");
    await app.request("/", { headers: HTML });
    const before = asked(fake);
    const res = await app.request("/products/tux");
    expect(await res.json()).toEqual({ data: { name: "Tux", price: 15.99, quantity: 100 } });
    expect((await app.request("/", { headers: HTML })).status).toBe(200);
    expect(asked(fake)).toBe(before);
  });

  test("a change of the item asks again and shows the new value, and for the pages showing it", async () => {
    const hand = handLease();
    const { fake, app } = setup(TOYS, hand.lease);
    await app.request("/products/Tux");
    await app.request("/products/Fox");
    await app.request("/", { headers: HTML });
    fake.change("Tux", { quantity: 7 });
    hand.invalidate("tux");
    const before = asked(fake);
    expect(await (await app.request("/products/Tux")).json()).toEqual({
      data: { name: "Tux", price: 15.99, quantity: 7 },
    });
    expect(asked(fake)).toBe(before + 1);
    await app.request("/products/Fox"); // untouched: from memory
    expect(asked(fake)).toBe(before + 1);
    expect(await (await app.request("/", { headers: HTML })).text()).toContain("7 in stock");
    expect(asked(fake)).toBe(before + 2);
  });

  test("a page not showing the item changed is still answered from memory", async () => {
    const hand = handLease();
    const { fake, app } = setup(TOYS, hand.lease);
    await app.request("/?q=fox", { headers: HTML });
    fake.change("Tux", { quantity: 7 });
    hand.invalidate("tux");
    const before = asked(fake);
    expect(await (await app.request("/?q=fox", { headers: HTML })).text()).toContain("Fox");
    expect(asked(fake)).toBe(before);
  });

  test("without a valid lease (no grant, stream down) every read asks the api", async () => {
    const hand = handLease();
    hand.valid = false;
    const { fake, app } = setup(TOYS, hand.lease);
    await app.request("/products/Tux");
    const before = asked(fake);
    await app.request("/products/Tux");
    await app.request("/products/Tux");
    expect(asked(fake)).toBe(before + 2);
  });

  test("a change that arrives while a check is in flight: its answer serves who waited, never memory after", async () => {
    const hand = handLease();
    const { fake, app } = setup(TOYS, hand.lease);
    // The item changes, and its invalidation arrives, after the check is sent and before its answer.
    hand.onMark = () => hand.invalidate("tux");
    await app.request("/products/Tux");
    hand.onMark = () => {};
    const before = asked(fake);
    await app.request("/products/Tux");
    expect(asked(fake)).toBe(before + 1);
    await app.request("/products/Tux"); // checked after the change: now from memory
    expect(asked(fake)).toBe(before + 1);
  });
});

describe("a large catalogue: pages, search, bounded memory", () => {
  const many = Array.from({ length: 130 }, (_, i) => ({
    name: `Toy ${String(i).padStart(3, "0")}`,
    quantity: 10,
    price: 1.5,
  }));

  test("the storefront shows 24 items a page, says which, and links the next and previous pages", async () => {
    const { app } = setup(many);
    const first = await (await app.request("/", { headers: HTML })).text();
    expect(first.match(/<form class="buy"/g)?.length).toBe(24);
    expect(first).toContain("1–24 of 130 items");
    expect(first).toContain("Page 1 of 6");
    expect(first).toContain('href="/?page=2"');
    const last = await (await app.request("/?page=6", { headers: HTML })).text();
    expect(last.match(/<form class="buy"/g)?.length).toBe(10);
    expect(last).toContain("121–130 of 130 items");
    expect(last).toContain("Toy 129");
    expect(last).not.toContain("Toy 000");
  });

  test("a page past the last is 404 saying how many there are; a page that is not a number is 400 naming it", async () => {
    const { app } = setup(many);
    const past = await app.request("/?page=9", { headers: HTML });
    expect(past.status).toBe(404);
    expect(await past.text()).toContain("There is no page 9: the shop has 6 pages.");
    const bad = await app.request("/?page=two", { headers: HTML });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Page: must be a whole number");
  });

  test("search: only names that contain the text, whatever their case; the pager keeps it", async () => {
    const { app } = setup([...many, { name: "Tux", quantity: 5, price: 15.99 }]);
    const found = await (await app.request("/?q=TOY%2012", { headers: HTML })).text();
    expect(found).toContain("10 items matching “TOY 12”");
    expect(found.match(/<form class="buy"/g)?.length).toBe(10);
    const none = await (await app.request("/?q=zebra", { headers: HTML })).text();
    expect(none).toContain("No item&#39;s name contains “zebra”");
    const paged = await (await app.request("/?q=toy", { headers: HTML })).text();
    expect(paged).toContain('href="/?q=toy&amp;page=2"');
  });

  test("a refusal from page 2 shows page 2 again", async () => {
    const { app } = setup(many);
    const res = await app.request(
      "http://localhost/buy",
      form({ name: "Toy 030", quantity: "11", price: "1.50", page: "2" }),
    );
    expect(res.status).toBe(409);
    const body = await res.text();
    expect(body).toContain("we don&#39;t have 11 × Toy 030 in stock");
    expect(body).toContain("25–48 of 130 items");
  });

  test("a web server keeps at most CATALOG_MEMORY_MB of the catalogue: the least recently read is dropped", async () => {
    const fake = fakeApi(many);
    const app = createApp({ api: fake.client, identity: IDENTITY, log: () => {}, catalogBytes: 5000 });
    for (const toy of many) await app.request(`/products/${encodeURIComponent(toy.name)}`);
    const { data } = (await (await app.request("/healthz")).json()) as {
      data: { held: { entries: number; bytes: number } };
    };
    expect(data.held.bytes).toBeLessThanOrEqual(5000);
    expect(data.held.entries).toBeLessThan(many.length);
    // Dropped entries are asked for afresh, not lost.
    expect((await app.request("/products/Toy%20000")).status).toBe(200);
  });
});

describe("the price the buyer was shown", () => {
  test("every buy form carries the price it shows", async () => {
    const { app } = setup();
    const body = await (await app.request("/", { headers: HTML })).text();
    expect(body).toContain('<input type="hidden" name="price" value="15.99"/>');
  });

  test("a price changed since the page was shown: 409, the page says so with the new price, nothing bought", async () => {
    const { fake, app } = setup();
    fake.change("Tux", { price: 17.25 });
    const res = await app.request(
      "http://localhost/buy",
      form({ name: "Tux", quantity: "1", price: "15.99" }),
    );
    expect(res.status).toBe(409);
    expect(await res.text()).toContain(
      "The price of Tux changed from $15.99 to $17.25 since this page was shown. Nothing was bought",
    );
    expect(fake.state.orders).toEqual([]);
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(100);
  });

  test("the JSON API passes a price on, and without one buys at today's price (the lab's clients send none)", async () => {
    const { fake, app } = setup();
    fake.change("Tux", { price: 17.25 });
    const refused = await app.request("/orders", json({ name: "Tux", quantity: 1, price: 15.99 }));
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: { code: 409, message: "the price changed to 17.25", fields: { price: "is 17.25 now" } },
    });
    expect((await app.request("/orders", json({ name: "Tux", quantity: 1 }))).status).toBe(200);
    expect((await app.request("/orders", json({ name: "Tux", quantity: 1, price: 17.25 }))).status).toBe(200);
    const bad = await app.request("/orders", json({ name: "Tux", quantity: 1, price: 1.234 }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: Record<string, string> } }).error.fields.price).toBe(
      "must have at most two decimals",
    );
  });
});
