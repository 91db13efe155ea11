import { describe, expect, test } from "bun:test";
import { forwardedHeaders } from "@bazaar/lib/forwarded.ts";
import { createApp } from "./app.ts";
import { fakeAdminApi } from "@bazaar/testutil/fake-admin-api.ts";
import { AdminBrowser } from "@bazaar/testutil/admin-browser.ts";

const IDENTITY = "host-b · admin-1";
const ORIGIN = "http://localhost";
/** The key the proxy signs a client's address and host with (REQUEST_ID_KEY). */
const PROXY_KEY = "p".repeat(40);

function setup(
  items = [{ name: "Tux", quantity: 100, price: 15.99 }, { name: "Fox", quantity: 3, price: 9.5 }],
) {
  const orders = Array.from({ length: 45 }, (_, i) => ({
    number: i + 1,
    name: "Tux",
    quantity: 1,
    unit_price: 15.99,
    created_at: "2025-01-02T03:04:05.000Z",
  }));
  const fake = fakeAdminApi(items, orders);
  const app = createApp({
    adminApi: fake.client,
    identity: IDENTITY,
    credentials: { user: "admin", password: "correct horse" },
    sessionSecret: "x".repeat(40),
    cookieSecure: false,
    proxyKey: PROXY_KEY,
    log: () => {},
  });
  return { fake, app };
}

type App = ReturnType<typeof setup>["app"];

/** A browser on the in-process app, from a given client address (as the proxy signs it). */
class Browser extends AdminBrowser {
  constructor(app: App, ip = "10.0.0.1") {
    super(
      ORIGIN,
      (url, init) => app.request(url, init),
      forwardedHeaders(PROXY_KEY, { address: ip, proto: "http", host: "localhost" }),
    );
  }
  override login(user = "admin", password = "correct horse") {
    return super.login(user, password);
  }
}

/** A browser signed in to a fresh app, with the fake behind it and the page's CSRF token. */
async function signedIn() {
  const { app, fake } = setup();
  const b = new Browser(app);
  await b.login();
  return { b, fake, token: await b.token() };
}

describe("signing in", () => {
  test("every admin page redirects to the login without a session", async () => {
    const { app } = setup();
    for (
      const path of [
        "/admin",
        "/admin/orders",
        "/admin/orders?page=2",
        "/admin/items/delete?name=Tux",
        "/admin/anything",
      ]
    ) {
      const res = await app.request(path);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/admin/login");
    }
  });

  test("every admin action is refused without a session", async () => {
    const { app, fake } = setup();
    const b = new Browser(app);
    for (const path of ["/admin/items", "/admin/items/correct", "/admin/items/delete", "/admin/logout"]) {
      const res = await b.post(path, { name: "Tux", quantity: "1", price: "1" });
      expect(res.status).toBe(401);
      expect(await res.text()).toContain("Please sign in first.");
    }
    expect(fake.state.seen.length).toBe(0);
  });

  test("the login page shows the serving instance at the top left", async () => {
    const { app } = setup();
    const res = await app.request("/admin/login");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-served-by")).toBe(IDENTITY.replace(" · ", " / "));
    const body = await res.text();
    expect(body.indexOf(IDENTITY)).toBeLessThan(body.indexOf('class="header"'));
    expect(body).toContain('action="/admin/login"');
  });

  test("a correct login sets a signed HttpOnly SameSite=Strict cookie with an expiry and opens the dashboard", async () => {
    const { app } = setup();
    const b = new Browser(app);
    const res = await b.login();
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("bazaar_admin="))!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toMatch(/Max-Age=\d+/);
    expect(cookie).toContain("Path=/admin");
    const page = await b.get("/admin");
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain("Inventory");
    expect(body).toContain("Tux");
    expect(body).toContain(IDENTITY);
  });

  test("a wrong password is refused and keeps the user name", async () => {
    const { app } = setup();
    const res = await new Browser(app).login("admin", "wrong");
    expect(res.status).toBe(401);
    const body = await res.text();
    expect(body).toContain("Wrong user name or password.");
    expect(body).toContain('value="admin"');
    expect(res.headers.getSetCookie().some((c) => c.startsWith("bazaar_admin="))).toBe(false);
  });

  test("a tampered session cookie is not a session", async () => {
    const { app } = setup();
    const b = new Browser(app);
    await b.login();
    const value = b.cookies.get("bazaar_admin")!;
    // The cookie is "<session id>.<signature>": another id under the same signature.
    b.cookies.set("bazaar_admin", (value[0] === "A" ? "B" : "A") + value.slice(1));
    expect((await b.get("/admin")).status).toBe(303);
  });

  test("after 5 failures a minute the client gets 429, even with the right password; others are unaffected", async () => {
    const { app } = setup();
    const attacker = new Browser(app, "203.0.113.9");
    for (let i = 0; i < 5; i++) expect((await attacker.login("admin", `guess-${i}`)).status).toBe(401);
    const blocked = await attacker.login();
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await blocked.text()).toContain("Too many failed sign-ins");
    expect((await new Browser(app, "198.51.100.7").login()).status).toBe(303);
  });

  test("after 20 failures a minute for one user name, from any number of addresses, that name gets 429", async () => {
    const { app } = setup();
    for (let i = 0; i < 20; i++) {
      expect((await new Browser(app, `203.0.113.${i}`).login("admin", `guess-${i}`)).status).toBe(401);
    }
    expect((await new Browser(app, "198.51.100.99").login("ADMIN", "another guess")).status).toBe(429);
    expect((await new Browser(app, "198.51.100.98").login("someone-else", "a guess")).status).toBe(401);
  });

  test("straight to the server, a client's own X-Forwarded-For is no address: 120 wrong passwords, each with a new one, and then the right one all wait after the 5th", async () => {
    // Before, every made-up address was a client of its own, with a guess of its own.
    const { app } = setup();
    const direct = (ip: string) =>
      new AdminBrowser(ORIGIN, (url, init) => app.request(url, init), { "X-Forwarded-For": ip });
    const statuses: number[] = [];
    for (let i = 0; i < 120; i++) {
      statuses.push((await direct(`198.18.${i >> 8}.${i & 255}`).login("admin", `guess-${i}`)).status);
    }
    expect(statuses.slice(0, 5)).toEqual(Array(5).fill(401));
    expect(statuses.slice(5)).toEqual(Array(115).fill(429));
    expect((await direct("198.18.200.1").login("admin", "correct horse")).status).toBe(429);
    // Through the proxy (signed) the owner is unaffected.
    expect((await new Browser(app, "198.51.100.7").login()).status).toBe(303);
  });

  test("a login form posted from another site is refused, also when it names this site in its own X-Forwarded-Host", async () => {
    const { app } = setup();
    const spoofed = await new AdminBrowser(ORIGIN, (url, init) => app.request(url, init)).post(
      "/admin/login",
      { user: "admin", password: "correct horse" },
      { Origin: "http://evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http" },
    );
    expect(spoofed.status).toBe(403);
  });

  test("a login form posted from another site is refused", async () => {
    const { app } = setup();
    const res = await new Browser(app).post("/admin/login", { user: "admin", password: "correct horse" }, {
      Origin: "http://evil.example",
      "Sec-Fetch-Site": "cross-site",
    });
    expect(res.status).toBe(403);
  });

  test("signing out ends the session", async () => {
    const { app } = setup();
    const b = new Browser(app);
    await b.login();
    const res = await b.post("/admin/logout", { _csrf: await b.token() });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
    expect((await b.get("/admin")).status).toBe(303);
  });
});

describe("CSRF", () => {
  test("a form without the session's token is refused", async () => {
    const { app, fake } = setup();
    const b = new Browser(app);
    await b.login();
    const missing = await b.post("/admin/items", { name: "Robot", quantity: "10", price: "5" });
    expect(missing.status).toBe(403);
    const wrong = await b.post("/admin/items", {
      name: "Robot",
      quantity: "10",
      price: "5",
      _csrf: "forged",
    });
    expect(wrong.status).toBe(403);
    expect(fake.state.items.some((i) => i.name === "Robot")).toBe(false);
  });

  test("a cross-site form post is refused even with a session", async () => {
    const { app, fake } = setup();
    const b = new Browser(app);
    await b.login();
    const token = await b.token();
    const res = await b.post("/admin/items", { name: "Robot", quantity: "10", price: "5", _csrf: token }, {
      Origin: "http://evil.example",
      "Sec-Fetch-Site": "cross-site",
    });
    expect(res.status).toBe(403);
    expect(fake.state.items.some((i) => i.name === "Robot")).toBe(false);
  });
});

describe("the inventory", () => {
  test("adding a new name inserts it and says so", async () => {
    const { b, fake, token } = await signedIn();
    const res = await b.post("/admin/items", { name: "Robot", quantity: "10", price: "5", _csrf: token });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    expect(fake.state.items.find((i) => i.name === "Robot")).toEqual({
      name: "Robot",
      quantity: 10,
      price: 5,
    });
    const body = await (await b.get("/admin")).text();
    expect(body).toContain("Added Robot: 10 at $5.00");
    // The message is shown once.
    expect(await (await b.get("/admin")).text()).not.toContain("Added Robot");
  });

  test("adding a known name in another case restocks it and says so", async () => {
    const { b, fake, token } = await signedIn();
    await b.post("/admin/items", { name: "tux", quantity: "50", price: "", _csrf: token });
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(150);
    expect(await (await b.get("/admin")).text()).toContain("Restocked Tux: 100 → 150");
  });

  test("restocking a known name with another price is refused beside the price, showing the current one; nothing changes", async () => {
    const { b, fake, token } = await signedIn();
    const res = await b.post("/admin/items", { name: "Fox", quantity: "1", price: "0.01", _csrf: token });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain(
      "is 9.50: a restock keeps it (correct the price in the item&#39;s row)",
    );
    expect(fake.state.items.find((i) => i.name === "Fox")).toEqual({ name: "Fox", quantity: 3, price: 9.5 });
    // The same price, or none, restocks.
    expect((await b.post("/admin/items", { name: "Fox", quantity: "1", price: "9.50", _csrf: token })).status)
      .toBe(303);
    expect(fake.state.items.find((i) => i.name === "Fox")!.quantity).toBe(4);
  });

  test("a form error is shown beside its field and the input is kept", async () => {
    const { b, fake, token } = await signedIn();
    const res = await b.post("/admin/items", {
      name: "Robot",
      quantity: "abc",
      price: "5.999",
      _csrf: token,
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain(
      '<div class="field-error" id="add-quantity-error">Quantity must be a number</div>',
    );
    expect(body).toContain(
      '<div class="field-error" id="add-price-error">Price must have at most two decimals</div>',
    );
    expect(body).toContain('value="Robot"');
    expect(body).toContain('value="abc"');
    expect(body).toContain('value="5.999"');
    expect(fake.state.items.length).toBe(2);
  });

  test("a new name without a price: the api's field error is shown beside the price", async () => {
    const { b, token } = await signedIn();
    const res = await b.post("/admin/items", { name: "Robot", quantity: "3", price: "", _csrf: token });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Price is required for a new item");
  });

  test("a row correction sends only what changed and says what it did", async () => {
    const { b, fake, token } = await signedIn();
    fake.state.items.find((i) => i.name === "Tux")!.quantity = 97; // sold meanwhile
    const res = await b.post("/admin/items/correct", {
      name: "Tux",
      quantity: "100",
      was_quantity: "100",
      price: "14.99",
      was_price: "15.99",
      _csrf: token,
    });
    expect(res.status).toBe(303);
    expect(fake.state.items.find((i) => i.name === "Tux")).toEqual({
      name: "Tux",
      quantity: 97,
      price: 14.99,
    });
    expect(await (await b.get("/admin")).text()).toContain("Updated Tux: price $15.99 → $14.99");
    await b.post("/admin/items/correct", {
      name: "Tux",
      quantity: "5",
      was_quantity: "97",
      price: "14.99",
      was_price: "14.99",
      _csrf: token,
    });
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(5);
  });

  test("a write admin-api could only get into the store's cache through its relay says so", async () => {
    const { b, fake, token } = await signedIn();
    fake.state.cache = "relayed";
    await b.post("/admin/items", { name: "tux", quantity: "1", price: "", _csrf: token });
    expect(await (await b.get("/admin")).text()).toContain(
      "Restocked Tux: 100 → 101. The store&#39;s cache could not be cleared directly; its relay cleared it before this answer.",
    );
  });

  test("the inventory is paged and searchable; the figures are over every item; a correction keeps its page", async () => {
    const many = Array.from(
      { length: 60 },
      (_, i) => ({ name: `Toy ${String(i).padStart(2, "0")}`, quantity: 2, price: 1 }),
    );
    const { app, fake } = setup(many);
    const b = new Browser(app);
    await b.login();
    const token = await b.token();
    const first = await (await b.get("/admin")).text();
    expect(first).toContain("Page 1 of 2");
    expect(first).toContain('href="/admin?page=2"');
    expect(first).toContain('<div class="value">60</div>'); // items, over all of them
    expect(first).toContain('<div class="value">120</div>'); // units
    const second = await (await b.get("/admin?page=2")).text();
    expect(second).toContain("Toy 59");
    expect(second).not.toContain("Toy 00");
    const found = await (await b.get("/admin?q=toy%205")).text();
    expect(found.match(/<tr>/g)?.length).toBe(1 + 10); // the header and Toy 50 … Toy 59
    // A correction made on page 2 comes back to page 2.
    const res = await b.post("/admin/items/correct", {
      name: "Toy 55",
      quantity: "9",
      was_quantity: "2",
      price: "1.00",
      was_price: "1.00",
      page: "2",
      _csrf: token,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin?page=2");
    expect(fake.state.items.find((i) => i.name === "Toy 55")!.quantity).toBe(9);
  });

  test("a correction from a stale page is refused with the current value, and nothing changes", async () => {
    const { b, fake, token } = await signedIn();
    fake.state.items.find((i) => i.name === "Tux")!.quantity = 90; // 10 sold since the page showed 100
    const res = await b.post("/admin/items/correct", {
      name: "Tux",
      quantity: "105",
      was_quantity: "100",
      price: "15.99",
      was_price: "15.99",
      _csrf: token,
    });
    expect(res.status).toBe(409);
    const body = await res.text();
    expect(body).toContain("Tux was not changed: its quantity is 90 now, not 100");
    expect(body).toContain("Nothing was saved");
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(90);
  });

  test("a bad correction is shown in its row with the input kept", async () => {
    const { b, token } = await signedIn();
    const res = await b.post("/admin/items/correct", {
      name: "Fox",
      quantity: "-4",
      was_quantity: "3",
      price: "9.50",
      was_price: "9.50",
      _csrf: token,
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain("Quantity must not be negative");
    expect(body).toContain('value="-4"');
  });

  test("deleting asks first, then deletes", async () => {
    const { b, fake, token } = await signedIn();
    const confirm = await b.get("/admin/items/delete?name=Fox");
    expect(confirm.status).toBe(200);
    const body = await confirm.text();
    expect(body).toContain("Delete Fox?");
    expect(fake.state.items.some((i) => i.name === "Fox")).toBe(true);
    const res = await b.post("/admin/items/delete", { name: "Fox", _csrf: token });
    expect(res.status).toBe(303);
    expect(fake.state.items.some((i) => i.name === "Fox")).toBe(false);
    expect(await (await b.get("/admin")).text()).toContain("Deleted Fox");
    expect((await b.get("/admin/items/delete?name=Fox")).status).toBe(404);
  });

  test("item names are rendered as text", async () => {
    const { b, token } = await signedIn();
    await b.post("/admin/items", {
      name: "<script>alert(1)</script>",
      quantity: "1",
      price: "1",
      _csrf: token,
    });
    const body = await (await b.get("/admin")).text();
    expect(body).not.toContain("<script>alert(1)</script>");
    expect(body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  test("orders are listed newest first, a page at a time", async () => {
    const { b } = await signedIn();
    const first = await (await b.get("/admin/orders")).text();
    expect(first).toContain("#44<");
    expect(first).toContain("Page 1 of 3");
    expect(first).not.toContain("#24<");
    const third = await (await b.get("/admin/orders?page=3")).text();
    expect(third).toContain("#4<");
    expect(third).toContain("Page 3 of 3");
  });

  test("orders show the number the buyer was given, from 0: admin-api's key 1 is #0", async () => {
    const { b } = await signedIn();
    const third = await (await b.get("/admin/orders?page=3")).text();
    const shown = [...third.matchAll(/<td data-label="Order">#(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(shown).toEqual([4, 3, 2, 1, 0]);
  });

  test("the admin api down is a 503 page, never a crash", async () => {
    const { b, fake } = await signedIn();
    fake.state.mode = "down";
    const res = await b.get("/admin");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("The admin service is temporarily unavailable.");
  });

  test("health checks answer without a session", async () => {
    const { app } = setup();
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/admin/healthz")).status).toBe(200);
  });
});

describe("writes answered with the truth, and made once", () => {
  test("every write form carries its own Idempotency-Key, new with each page", async () => {
    const { b } = await signedIn();
    const first = await b.writeKeys();
    // The add form and one per row (Fox, Tux).
    expect(first.length).toBe(3);
    expect(new Set(first).size).toBe(3);
    for (const key of first) expect(key).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    const again = await b.writeKeys();
    expect(again.some((k) => first.includes(k))).toBe(false);
    expect((await b.writeKeys("/admin/items/delete?name=Fox")).length).toBe(1);
  });

  test("the same form sent twice is made once: the second says it was already done", async () => {
    const { b, fake, token } = await signedIn();
    const [idem] = await b.writeKeys();
    const form = { name: "Tux", quantity: "7", price: "", _csrf: token, idem: idem! };
    expect((await b.post("/admin/items", form)).status).toBe(303);
    expect(await (await b.get("/admin")).text()).toContain("Restocked Tux: 100 → 107");
    expect((await b.post("/admin/items", form)).status).toBe(303);
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(107);
    const page = await (await b.get("/admin")).text();
    expect(page).toContain(
      "Already done: this form was sent before, and made this change then. Restocked Tux: 100 → 107",
    );
    // The key went to admin-api with each write.
    const sent = fake.state.seen.filter((r) => r.method === "POST" && new URL(r.url).pathname === "/items");
    expect(sent.map((r) => r.headers.get("idempotency-key"))).toEqual([idem!, idem!]);
  });

  test("a change admin-api did not confirm is 504 'may or may not', with how to check; sent again, it is not made twice", async () => {
    const { b, fake, token } = await signedIn();
    const [idem] = await b.writeKeys();
    const form = { name: "Tux", quantity: "7", price: "", _csrf: token, idem: idem! };
    fake.state.writeFails = 504;
    const res = await b.post("/admin/items", form);
    expect(res.status).toBe(504);
    const body = await res.text();
    expect(body).toContain("Not confirmed in time");
    expect(body).toContain(
      "it may or may not have happened. Check Tux in the inventory before changing it again",
    );
    expect(body).toContain("sending this same form again (reload this page) is safe");
    expect(body).toContain('href="/admin?q=Tux"');
    fake.state.writeFails = undefined;
    expect((await b.post("/admin/items", form)).status).toBe(303);
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(107);
    expect(await (await b.get("/admin")).text()).toContain("Already done");
  });

  test("admin-api not answering a write in time is 504 too, never 503 'unavailable'", async () => {
    const { b, fake, token } = await signedIn();
    fake.state.writeFails = "hang";
    const res = await b.post("/admin/items/delete", { name: "Fox", _csrf: token, idem: "k".repeat(20) });
    expect(res.status).toBe(504);
    expect(await res.text()).toContain(
      "We could not confirm in time that Fox was deleted: it may or may not have happened.",
    );
  });

  test("a write admin-api could not make (503) says nothing changed, and shows the inventory", async () => {
    const { b, fake, token } = await signedIn();
    fake.state.writeFails = 503;
    const res = await b.post("/admin/items/correct", {
      name: "Fox",
      quantity: "9",
      price: "9.50",
      was_quantity: "3",
      was_price: "9.50",
      _csrf: token,
    });
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toContain(
      "Nothing was changed: the store could not make the change in time (Fox was updated). Please try again.",
    );
    expect(body).toContain("Add or restock an item");
    expect(fake.state.items.find((i) => i.name === "Fox")!.quantity).toBe(3);
  });

  test("a malformed key is not sent: the write is made, without one", async () => {
    const { b, fake, token } = await signedIn();
    await b.post("/admin/items", { name: "Tux", quantity: "1", price: "", _csrf: token, idem: "no spaces!" });
    expect(fake.state.items.find((i) => i.name === "Tux")!.quantity).toBe(101);
    expect(fake.state.seen.at(-1)!.headers.get("idempotency-key")).toBeNull();
  });
});
