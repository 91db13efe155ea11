import { describe, expect, test } from "bun:test";
import { createApp } from "./app.ts";
import { fakeApi } from "./fake-api.ts";
import { REQUEST_ID_SIG_HEADER, requestIdSignature } from "@bazaar/lib/request-id.ts";

const IDENTITY = "host-a · web-1";
const KEY = "request-id-key-for-the-unit-tests-0123456789";
const TOYS = [
  { name: "Tux", quantity: 100, price: 15.99 },
  { name: "Fox", quantity: 3, price: 9.5 },
  { name: "Python", quantity: 0, price: 1250 },
];

function setup(items = TOYS) {
  const fake = fakeApi(items);
  const app = createApp({ api: fake.client, identity: IDENTITY, log: () => {}, requestIdKey: KEY });
  return { fake, app };
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
    expect(body).toContain("we don&#39;t have 5 × Fox in stock");
    expect(body).toContain("Only 3 left");
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
    fake.state.items[0]!.quantity = 7;
    fake.state.version++;
    const changed = await app.request("/", { headers: { ...HTML, "If-None-Match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(await changed.text()).toContain("7");
  });

  test("GET /products/:name carries the catalogue's version and answers 304 to it", async () => {
    const { app } = setup();
    const res = await app.request("/products/Tux");
    expect(res.headers.get("etag")).toBe('"c1"');
    const again = await app.request("/products/Tux", { headers: { "If-None-Match": '"c1"' } });
    expect(again.status).toBe(304);
  });

  test("every read asks the api, with the version it holds; a 304 serves the copy it kept", async () => {
    const { fake, app } = setup();
    await app.request("/products/Tux");
    fake.state.seen.length = 0;
    const res = await app.request("/products/tux");
    expect(await res.json()).toEqual({ data: { name: "Tux", price: 15.99, quantity: 100 } });
    expect(fake.state.seen.map((r) => [new URL(r.url).pathname, r.headers.get("if-none-match")])).toEqual([
      ["/items", '"c1"'],
    ]);
    expect((await app.request("/products/Nope")).status).toBe(404);
  });

  test("reads that arrive during a check share the next one, page and products alike; /healthz counts both", async () => {
    const { fake, app } = setup();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => app.request(i % 2 ? "/products/Fox" : "/products/Tux")),
    );
    // One check for the first, one for the nine that came while it was in flight.
    expect(fake.state.seen.length).toBe(2);
    const health = (await (await app.request("/healthz")).json()) as {
      data: { revalidation: { requests: number; checks: number } };
    };
    expect(health.data.revalidation).toEqual({ requests: 10, checks: 2 });
  });
});
