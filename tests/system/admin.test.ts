// The admin site under /admin through HAProxy (docs/design.md), its orders list too,
// driven like a browser: a cookie jar, the forms' CSRF token, the site's Origin.
// Items are created with unique names; seeded toys are only bought, never edited.
import { beforeAll, describe, expect, test } from "bun:test";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import {
  buy,
  getJson,
  getPage,
  identityHeader,
  pageIdentity,
  shelf,
  stockOf,
  store,
  unescapeHtml,
} from "./http.ts";
import { env, servedBy } from "./stack.ts";

const unique = (base: string) =>
  `${base} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A signed-in admin (one session, shared by both admin instances: the cookie is signed with one secret). */
async function signedIn() {
  const b = new AdminBrowser(store());
  const res = await b.login(env("ADMIN_USER"), env("ADMIN_PASSWORD"));
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/admin");
  return b;
}

/** The flash message the dashboard shows after a form (post/redirect/get). */
async function notice(b: AdminBrowser) {
  const page = await b.get("/admin");
  expect(page.status).toBe(200);
  const html = await page.text();
  return unescapeHtml(html.match(/<div class="alert alert-\w+" role="\w+">([^<]*)<\/div>/)?.[1] ?? "");
}

/** The inventory table's rows: name, quantity and price as the inputs hold them. */
async function inventory(b: AdminBrowser) {
  const html = await (await b.get("/admin")).text();
  const rows = html.match(/<tr><td class="name"[\s\S]*?<\/tr>/g) ?? [];
  return rows.map((row) => ({
    name: unescapeHtml(row.match(/<td class="name"[^>]*>([^<]*)<\/td>/)?.[1] ?? ""),
    quantity: row.match(/name="quantity"[^>]*value="([^"]*)"/)?.[1],
    price: row.match(/name="price"[^>]*value="([^"]*)"/)?.[1],
  }));
}

const itemOf = async (b: AdminBrowser, name: string) => (await inventory(b)).find((i) => i.name === name);

let admin: AdminBrowser;
beforeAll(async () => {
  admin = await signedIn();
});

describe("round robin under /admin", () => {
  test("consecutive requests alternate between admin-1 and admin-2", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { res, html } = await getPage("/admin/login");
      expect(res.status).toBe(200);
      expect(identityHeader(pageIdentity(html))).toBe(res.headers.get("x-served-by")!);
      seen.push(servedBy(res)!);
    }
    expect(new Set(seen)).toEqual(new Set(["admin-1", "admin-2"]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  test("a session started on one admin server works on the other", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await admin.get("/admin");
      expect(res.status).toBe(200);
      await res.text();
      seen.add(servedBy(res)!);
    }
    expect([...seen].sort()).toEqual(["admin-1", "admin-2"]);
  });

  test("/admin never reaches a web server, and / never an admin server", async () => {
    for (const path of ["/admin", "/admin/login", "/admin/nope", "/admin/orders"]) {
      const { res } = await getPage(path);
      expect(servedBy(res)).toMatch(/^admin-[12]$/);
    }
    for (const path of ["/", "/administrator", "/products/Tux"]) {
      const { res } = await getPage(path);
      expect(servedBy(res)).toMatch(/^web-[12]$/);
    }
  });
});

describe("every admin page and action needs a login", () => {
  // Every route of admin/src/routes, but the login page itself and the health check.
  const PAGES = [
    "/admin",
    "/admin/",
    "/admin/orders",
    "/admin/orders?page=2",
    "/admin/items/delete?name=Tux",
    "/admin/no-such-page",
  ];
  const ACTIONS: [string, Record<string, string>][] = [
    ["/admin/items", { name: "Tux", quantity: "5", price: "1.00" }],
    ["/admin/items/correct", {
      name: "Tux",
      quantity: "1",
      was_quantity: "100",
      price: "0.01",
      was_price: "15.99",
    }],
    ["/admin/items/delete", { name: "Tux" }],
    ["/admin/logout", {}],
  ];

  test("pages redirect to the sign-in page without a session", async () => {
    for (const path of PAGES) {
      const b = new AdminBrowser(store());
      let res = await b.get(path);
      if (res.status === 301) res = await b.get(res.headers.get("location")!); // /admin/ → /admin
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/admin/login");
      expect(await res.text()).not.toContain("Inventory");
    }
  });

  test("actions are refused (401) without a session, and change nothing", async () => {
    const before = await getJson("/products/Tux");
    for (const [path, fields] of ACTIONS) {
      const b = new AdminBrowser(store());
      const res = await b.post(path, fields);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain("Please sign in first.");
    }
    expect((await getJson("/products/Tux")).body).toEqual(before.body);
  });

  test("a forged session cookie is not a session", async () => {
    const b = new AdminBrowser(store());
    b.cookies.set(
      "bazaar_admin",
      encodeURIComponent(JSON.stringify({ user: "admin", expires: Date.now() + 1e9, csrf: "x" })) +
        ".bm90LWEtc2lnbmF0dXJl",
    );
    const res = await b.get("/admin");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
  });

  test("a wrong password is refused, keeps the user name and sets no session", async () => {
    // Only one try: five failures a minute lock this client out of both admin servers' sign-in.
    const b = new AdminBrowser(store());
    const res = await b.login(env("ADMIN_USER"), `${env("ADMIN_PASSWORD")}x`);
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain("Wrong user name or password.");
    expect(html).toContain(`value="${env("ADMIN_USER")}"`);
    expect(b.cookies.size).toBe(0);
    expect((await b.get("/admin")).status).toBe(303);
  });

  test("the right password signs in with an HttpOnly, SameSite cookie", async () => {
    const res = await fetch(`${store()}/admin/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: new URL(store()).origin },
      body: new URLSearchParams({ user: env("ADMIN_USER"), password: env("ADMIN_PASSWORD") }),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie().join("\n");
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
  });

  test("signing out ends the session", async () => {
    const b = await signedIn();
    expect((await b.get("/admin")).status).toBe(200);
    const out = await b.submit("/admin/logout", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/admin/login");
    expect(b.cookies.size).toBe(0);
    const after = await b.get("/admin");
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/admin/login");
  });
});

describe("cross-site form posts are refused", () => {
  test("a form from another site is refused, with or without the session's token, and changes nothing", async () => {
    const name = unique("Csrf Probe");
    const token = await admin.token();
    for (const origin of ["https://evil.example", "null", "http://127.0.0.1:1"]) {
      const res = await admin.post("/admin/items", { name, quantity: "5", price: "1.00", _csrf: token }, {
        Origin: origin,
      });
      expect(res.status).toBe(403);
    }
    const fetchSite = await admin.post("/admin/items", { name, quantity: "5", price: "1.00", _csrf: token }, {
      Origin: "https://evil.example",
      "Sec-Fetch-Site": "cross-site",
    });
    expect(fetchSite.status).toBe(403);
    expect(await itemOf(admin, name)).toBeUndefined();
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).status).toBe(404);
  });

  test("a same-site form without the session's token, or with a wrong one, is refused", async () => {
    const name = unique("Token Probe");
    const missing = await admin.post("/admin/items", { name, quantity: "5", price: "1.00" });
    expect(missing.status).toBe(403);
    const wrong = await admin.post("/admin/items", {
      name,
      quantity: "5",
      price: "1.00",
      _csrf: "not-the-token",
    });
    expect(wrong.status).toBe(403);
    // A token from another session is not this session's.
    const other = await signedIn();
    const stolen = await admin.post("/admin/items", {
      name,
      quantity: "5",
      price: "1.00",
      _csrf: await other.token(),
    });
    expect(stolen.status).toBe(403);
    expect(await itemOf(admin, name)).toBeUndefined();
  });

  test("delete and correction from another site change nothing", async () => {
    const before = await getJson("/products/Fox");
    const token = await admin.token();
    const evil = { Origin: "https://evil.example" };
    expect((await admin.post("/admin/items/delete", { name: "Fox", _csrf: token }, evil)).status).toBe(403);
    expect(
      (await admin.post("/admin/items/correct", {
        name: "Fox",
        quantity: "0",
        was_quantity: "1",
        price: "0.01",
        was_price: "1",
        _csrf: token,
      }, evil)).status,
    ).toBe(403);
    expect((await getJson("/products/Fox")).body).toEqual(before.body);
  });

  test("a sign-in form from another site is refused", async () => {
    const b = new AdminBrowser(store());
    const res = await b.post("/admin/login", { user: env("ADMIN_USER"), password: env("ADMIN_PASSWORD") }, {
      Origin: "https://evil.example",
    });
    expect(res.status).toBe(403);
    expect(b.cookies.size).toBe(0);
  });
});

describe("the inventory", () => {
  test("a new name is added and the page says so; the same name in another case is restocked: a → b", async () => {
    const name = unique("Robot");
    const added = await admin.submit("/admin/items", { name, quantity: "5", price: "2.50" });
    expect(added.status).toBe(303);
    expect(await notice(admin)).toBe(`Added ${name}: 5 at $2.50`);
    expect(await itemOf(admin, name)).toEqual({ name, quantity: "5", price: "2.50" });

    const restocked = await admin.submit("/admin/items", {
      name: name.toUpperCase(),
      quantity: "1,000",
      price: "",
    });
    expect(restocked.status).toBe(303);
    expect(await notice(admin)).toBe(`Restocked ${name}: 5 → 1,005`);
    // Restocked in place: the stored spelling and price are kept, no second row.
    expect((await inventory(admin)).filter((i) => i.name.toLowerCase() === name.toLowerCase())).toEqual([{
      name,
      quantity: "1005",
      price: "2.50",
    }]);
  });

  test("an added item shows on the storefront at once, through either web server", async () => {
    const name = unique("Kite");
    // Read the catalogue through both servers first, so a stale cache would show.
    for (const base of [env("WEB1_URL"), env("WEB2_URL")]) await getPage("/", base);
    expect((await admin.submit("/admin/items", { name, quantity: "7", price: "3.25" })).status).toBe(303);
    for (const base of [env("WEB1_URL"), env("WEB2_URL"), store(), store()]) {
      const card = shelf((await getPage("/", base)).html).find((i) => i.name === name);
      expect(card).toEqual({ name, nameHtml: name, price: "$3.25", stock: "7 in stock" });
      expect((await getJson(`/products/${encodeURIComponent(name.toLowerCase())}`, base)).body).toEqual({
        data: { name, price: 3.25, quantity: 7 },
      });
    }
    // A restock is seen at once too.
    expect((await admin.submit("/admin/items", { name, quantity: "3", price: "" })).status).toBe(303);
    for (const base of [env("WEB1_URL"), env("WEB2_URL")]) expect(await stockOf(name, base)).toBe(10);
  });

  test("a form error is shown beside its field with the input kept, and nothing is written", async () => {
    const name = unique("Bad Price");
    const res = await admin.submit("/admin/items", { name, quantity: "4", price: "1.999" });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/<div class="field-error" id="add-price-error">Price [^<]+<\/div>/);
    expect(html).toContain(`value="${name}"`);
    expect(html).toContain('value="1.999"');
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).status).toBe(404);
  });

  test("a correction sets quantity and price, says what changed, and the storefront shows it", async () => {
    const name = unique("Yo-yo");
    await admin.submit("/admin/items", { name, quantity: "10", price: "4.00" });
    const res = await admin.submit("/admin/items/correct", {
      name,
      quantity: "3",
      was_quantity: "10",
      price: "4.75",
      was_price: "4.00",
    });
    expect(res.status).toBe(303);
    expect(await notice(admin)).toBe(`Updated ${name}: quantity 10 → 3, price $4.00 → $4.75`);
    expect(await itemOf(admin, name)).toEqual({ name, quantity: "3", price: "4.75" });
    for (const base of [env("WEB1_URL"), env("WEB2_URL")]) {
      expect((await getJson(`/products/${encodeURIComponent(name)}`, base)).body).toEqual({
        data: { name, price: 4.75, quantity: 3 },
      });
    }
  });

  test("a correction sends only what changed: stock sold meanwhile is kept when only the price is fixed", async () => {
    const name = unique("Top");
    await admin.submit("/admin/items", { name, quantity: "10", price: "1.00" });
    expect((await buy({ name, quantity: 2 })).status).toBe(200); // sold while the admin had the page open
    await admin.submit("/admin/items/correct", {
      name,
      quantity: "10",
      was_quantity: "10",
      price: "1.50",
      was_price: "1.00",
    });
    expect(await itemOf(admin, name)).toEqual({ name, quantity: "8", price: "1.50" });
  });

  test("delete asks for confirmation first, then deletes; the storefront no longer sells it", async () => {
    const name = unique("Marble");
    await admin.submit("/admin/items", { name, quantity: "9", price: "0.99" });
    const confirm = await admin.get(`/admin/items/delete?name=${encodeURIComponent(name)}`);
    expect(confirm.status).toBe(200);
    const html = unescapeHtml(await confirm.text());
    expect(html).toContain(`Delete ${name}?`);
    expect(html).toContain(`${name} has 9 in stock at $0.99`);
    // Asking is not deleting.
    expect(await itemOf(admin, name)).toBeDefined();
    expect((await admin.submit("/admin/items/delete", { name })).status).toBe(303);
    expect(await notice(admin)).toBe(`Deleted ${name} (it had 9 in stock at $0.99)`);
    expect(await itemOf(admin, name)).toBeUndefined();
    for (const base of [env("WEB1_URL"), env("WEB2_URL")]) {
      expect((await getJson(`/products/${encodeURIComponent(name)}`, base)).status).toBe(404);
      expect(shelf((await getPage("/", base)).html).some((i) => i.name === name)).toBe(false);
    }
    // Deleting what is gone is a clear 404 page.
    const again = await admin.get(`/admin/items/delete?name=${encodeURIComponent(name)}`);
    expect(again.status).toBe(404);
  });
});

describe("names are text, never markup", () => {
  test("an item named <script>alert(1)</script> is shown escaped on the storefront and in the admin site", async () => {
    const name = "<script>alert(1)</script>";
    const res = await admin.submit("/admin/items", { name, quantity: "1", price: "1.00" });
    expect(res.status).toBe(303);
    expect(await notice(admin)).toMatch(/^(Added|Restocked) <script>alert\(1\)<\/script>/);
    try {
      const adminHtml = await (await admin.get("/admin")).text();
      expect(adminHtml).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(adminHtml).not.toContain("<script>");
      for (const base of [env("WEB1_URL"), env("WEB2_URL")]) {
        const { html } = await getPage("/", base);
        expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
        expect(html).not.toContain("<script>");
        expect(shelf(html).find((i) => i.name === name)?.nameHtml).toBe(
          "&lt;script&gt;alert(1)&lt;/script&gt;",
        );
      }
      // Its order page too.
      const placed = await buy({ name, quantity: 1 });
      expect(placed.status).toBe(200);
      const order = await getPage(`/orders/${placed.body.data.order_number}`);
      expect(order.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(order.html).not.toContain("<script>");
      const orders = await (await admin.get("/admin/orders")).text();
      expect(orders).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(orders).not.toContain("<script>");
    } finally {
      // Off the shelves again, so the screenshots show a normal shop.
      await admin.submit("/admin/items/delete", { name });
    }
  });
});

describe("orders", () => {
  test("the orders list is paged, newest first", async () => {
    // 21 orders: more than one page (20 a page).
    const placed: number[] = [];
    for (let i = 0; i < 21; i++) {
      const r = await buy({ name: "Octocat", quantity: 1 + (i % 3) });
      expect(r.status).toBe(200);
      placed.push(r.body.data.order_number);
    }
    const numbers = (html: string) =>
      [...html.matchAll(/<td data-label="Order">#(\d+)<\/td>/g)].map((m) => Number(m[1]));
    const page1 = await (await admin.get("/admin/orders")).text();
    const first = numbers(page1);
    expect(first.length).toBe(20);
    // Newest first: the last 20 placed, in reverse.
    expect(first).toEqual(placed.slice(-20).reverse());
    expect(page1).toMatch(/Page 1 of \d+/);
    expect(page1).toContain('href="/admin/orders?page=2"');
    const row = page1.match(/<tr><td data-label="Order">#\d+<\/td>[\s\S]*?<\/tr>/)![0];
    expect(row).toContain("Octocat");
    expect(row).toContain("$9.99");

    const page2 = await (await admin.get("/admin/orders?page=2")).text();
    const second = numbers(page2);
    expect(second[0]).toBe(placed[0]);
    for (let i = 1; i < second.length; i++) expect(second[i]).toBeLessThan(second[i - 1]!);
    expect(page2).toContain('href="/admin/orders?page=1"');
  });

  test("a bad page number is a clear error page", async () => {
    const res = await admin.get("/admin/orders?page=abc");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
  });
});
