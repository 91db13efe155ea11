// Answers that tell the truth about what happened (docs/design.md; docs/reliability.md):
// a purchase that meets a held row lock, a correction made from a stale page, and a
// request id forged by a client that reaches a web server directly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { adminDbConnection, dbQuantity, holdRow, record, restore } from "./helpers.ts";
import { adminApi, buy, postForm, store, unescapeHtml } from "./http.ts";
import { env, eventually, stack } from "./stack.ts";

const unique = (base: string) =>
  `${base} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function createItem(name: string, quantity: number, price = 5) {
  const res = await adminApi("POST", "/items", { name, quantity, price });
  expect(res.status).toBe(201);
}

const itemInDb = async (name: string) => {
  const { data } = (await adminApi("GET", `/items?q=${encodeURIComponent(name)}`)).body as {
    data: { items: { name: string; quantity: number; price: number }[] };
  };
  return data.items.find((i) => i.name === name);
};

let admin: AdminBrowser;
beforeAll(async () => {
  admin = new AdminBrowser(store());
  expect((await admin.login(env("ADMIN_USER"), env("ADMIN_PASSWORD"))).status).toBe(303);
});

describe("a correction from a stale page (optimistic concurrency)", () => {
  test("admin-api: a quantity or price correction whose was_* no longer holds is 409 with the current value, and nothing changes", async () => {
    const name = unique("Whale");
    await createItem(name, 80, 24.5);
    // 10 sold while the admin looked at 80.
    expect((await buy({ name, quantity: 10 })).status).toBe(200);
    const stale = await adminApi("PATCH", `/items/${encodeURIComponent(name)}`, {
      quantity: 85,
      was_quantity: 80,
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      error: {
        code: 409,
        message:
          `${name} was not changed: its quantity is 70 now, not 80: it changed meanwhile (sold or corrected)`,
        fields: { quantity: "is 70 now, not 80: it changed meanwhile (sold or corrected)" },
      },
    });
    expect(await itemInDb(name)).toEqual({ name, quantity: 70, price: 24.5 });
    const stalePrice = await adminApi("PATCH", `/items/${encodeURIComponent(name)}`, {
      price: 30,
      was_price: 20,
    });
    expect(stalePrice.status).toBe(409);
    expect(stalePrice.body.error.fields).toEqual({ price: "is 24.50 now, not 20.00: it changed meanwhile" });
    expect(await itemInDb(name)).toEqual({ name, quantity: 70, price: 24.5 });
    // With the values it has now, the correction applies.
    const ok = await adminApi("PATCH", `/items/${encodeURIComponent(name)}`, {
      quantity: 85,
      was_quantity: 70,
      price: 30,
      was_price: 24.5,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      data: { item: { name, quantity: 85, price: 30 }, cache: "cleared", replayed: false },
    });
    expect(await dbQuantity(name)).toBe(85);
  });

  test("admin site: the page showed 80, 10 sold, 'quantity 85' is refused naming 70; the notice never says 80 → 85", async () => {
    const name = unique("Whale");
    await createItem(name, 80, 24.5);
    const token = await admin.token();
    expect((await buy({ name, quantity: 10 })).status).toBe(200);
    const res = await admin.post("/admin/items/correct", {
      name,
      quantity: "85",
      was_quantity: "80",
      price: "24.50",
      was_price: "24.50",
      _csrf: token,
    });
    expect(res.status).toBe(409);
    const html = unescapeHtml(await res.text());
    expect(html).toContain(`${name} was not changed: its quantity is 70 now, not 80`);
    expect(html).toContain("Nothing was saved");
    expect(html).not.toContain("80 → 85");
    expect(await dbQuantity(name)).toBe(70);
    // A price fix from the same stale page still applies: only what changed is checked.
    const price = await admin.submit("/admin/items/correct", {
      name,
      quantity: "80",
      was_quantity: "80",
      price: "26.00",
      was_price: "24.50",
    });
    expect(price.status).toBe(303);
    expect(await itemInDb(name)).toEqual({ name, quantity: 70, price: 26 });
    // From a current page (the table now shows 70), the correction applies and says so truly.
    const fresh = await admin.submit("/admin/items/correct", {
      name,
      quantity: "85",
      was_quantity: "70",
      price: "26.00",
      was_price: "26.00",
    });
    expect(fresh.status).toBe(303);
    const page = unescapeHtml(await (await admin.get("/admin")).text());
    expect(page).toContain(`Updated ${name}: quantity 70 → 85`);
    expect(await dbQuantity(name)).toBe(85);
  });
});

describe("a purchase that meets a held row lock (the database gives up first)", () => {
  let holder: mysql.Connection;
  beforeAll(async () => {
    holder = await adminDbConnection();
  });
  afterAll(async () => {
    await holder?.end();
  });

  const ordersOf = async (name: string) =>
    Number(
      ((await holder.query("SELECT COUNT(*) AS n FROM orders WHERE item_name = ?", [name]))[0] as {
        n: number;
      }[])[0]!.n,
    );

  test(
    "POST /orders through the proxy and to each web server, the row held past the budget: 503 'unavailable' after two 3 s lock waits, and no order, no decrement",
    async () => {
      const name = unique("Locked");
      await createItem(name, 20);
      const answers: { via: string; status: number; ms: number; body: unknown; id: string }[] = [];
      // Held 7 s: place_order waits 3 s for it, the api asks again while its 7 s budget has
      // room for another whole lock wait (api/src/purchase.ts), then says "not placed".
      await holdRow(holder, name, 7000, async () => {
        await Promise.all(
          [["proxy", store()], ["web-1", env("WEB1_URL")], ["web-2", env("WEB2_URL")]].map(
            async ([via, base]) => {
              const t0 = performance.now();
              const res = await buy({ name, quantity: 1 }, base!);
              answers.push({
                via: via!,
                status: res.status,
                ms: Math.round(performance.now() - t0),
                body: res.body,
                id: res.res.headers.get("x-request-id") ?? "",
              });
            },
          ),
        );
      });
      for (const a of answers) {
        expect(a.status, `${a.via}: ${JSON.stringify(a.body)}`).toBe(503);
        expect(a.body).toEqual({ error: { code: 503, message: "the store is temporarily unavailable" } });
        // Two lock waits of 3 s (they cover a COMMIT waiting out a failover); web's deadline is 8 s.
        expect(a.ms, a.via).toBeLessThan(7500);
      }
      // The lock is gone: the database agrees with the answer — nothing was bought.
      await Bun.sleep(500);
      expect(await dbQuantity(name)).toBe(20);
      expect(await ordersOf(name)).toBe(0);
      // And the lookup by request id says the same.
      for (const a of answers) {
        const lookup = await fetch(`${store()}/orders?request_id=${encodeURIComponent(a.id)}`, {
          headers: { Accept: "application/json" },
        });
        expect(lookup.status, a.via).toBe(404);
      }
      // Free again, the same purchase goes through.
      expect((await buy({ name, quantity: 1 })).status).toBe(200);
      expect(await dbQuantity(name)).toBe(19);
    },
    30_000,
  );

  test("the row held 4 s, less than the budget: the purchase waits it out and is placed, once", async () => {
    const name = unique("Briefly locked");
    await createItem(name, 20);
    let res: Awaited<ReturnType<typeof buy>> | undefined;
    await holdRow(holder, name, 4000, async () => {
      res = await buy({ name, quantity: 1 });
    });
    expect(res!.status, JSON.stringify(res!.body)).toBe(200);
    expect(await dbQuantity(name)).toBe(19);
    expect(await ordersOf(name)).toBe(1);
  }, 30_000);

  test("the buy form: 'your order was not placed', 503, and nothing bought", async () => {
    const name = unique("Locked form");
    await createItem(name, 20);
    let page: Awaited<ReturnType<typeof postForm>> | undefined;
    let ms = 0;
    await holdRow(holder, name, 7000, async () => {
      const t0 = performance.now();
      page = await postForm("/buy", { name, quantity: "2" });
      ms = performance.now() - t0;
    });
    expect(page!.status).toBe(503);
    expect(unescapeHtml(page!.html)).toContain(
      `Your order of 2 × ${name} was not placed: the store is temporarily unavailable. Nothing was bought`,
    );
    expect(ms).toBeLessThan(7500);
    await Bun.sleep(500);
    expect(await dbQuantity(name)).toBe(20);
    expect(await ordersOf(name)).toBe(0);
  }, 30_000);
});

describe("a purchase whose outcome the store cannot know", () => {
  test(
    "api hung after the purchase was sent: 504 'may or may not have been placed' with where to look, and the lookup then agrees with the database",
    async () => {
      const name = unique("Unconfirmed");
      await createItem(name, 20);
      let res: Awaited<ReturnType<typeof buy>> | undefined;
      let ms = 0;
      try {
        stack().kill("api", "SIGSTOP");
        const t0 = performance.now();
        res = await buy({ name, quantity: 1 }, env("WEB1_URL"));
        ms = performance.now() - t0;
      } finally {
        stack().kill("api", "SIGCONT");
        await restore("api");
      }
      const id = res!.res.headers.get("x-request-id")!;
      expect(res!.status).toBe(504);
      expect(res!.body).toEqual({
        error: {
          code: 504,
          message:
            `the store did not confirm the order in time: it may or may not have been placed; look it up with GET /orders?request_id=${id} before buying again`,
        },
      });
      // API_WRITE_TIMEOUT_MS is 8000 (a purchase's deadline covers a database failover).
      expect(ms).toBeLessThan(9000);
      // Whatever the api did with it once resumed, the lookup and the database say the same.
      let lookup: Response | undefined;
      await eventually(
        async () => {
          lookup = await fetch(`${env("WEB1_URL")}/orders?request_id=${encodeURIComponent(id)}`, {
            headers: { Accept: "application/json" },
          });
          return lookup.status === 200 || (lookup.status === 404 && (await dbQuantity(name)) === 20);
        },
        10_000,
        200,
      );
      await Bun.sleep(7100); // past the api's purchase budget (7 s): nothing is still under way
      const again = await fetch(`${env("WEB1_URL")}/orders?request_id=${encodeURIComponent(id)}`, {
        headers: { Accept: "application/json" },
      });
      const quantity = await dbQuantity(name);
      if (again.status === 200) {
        expect(((await again.json()) as { data: { name: string; quantity: number } }).data).toMatchObject({
          name,
          quantity: 1,
        });
        expect(quantity).toBe(19);
      } else {
        expect(again.status).toBe(404);
        expect(await again.json()).toEqual({
          error: { code: 404, message: "no order has been placed by that request" },
        });
        expect(quantity).toBe(20);
      }
      // For a browser, the lookup is a redirect to the order's page (or a 404 page).
      const page = await fetch(`${store()}/orders?request_id=${encodeURIComponent(id)}`, {
        headers: { Accept: "text/html" },
        redirect: "manual",
      });
      expect(page.status).toBe(again.status === 200 ? 303 : 404);
    },
    40_000,
  );
});

describe("purchases interrupted by the database (KILL QUERY, as pt-kill or an operator does)", () => {
  test(
    "8 buyers while every running CALL place_order is killed: every 503 is an order that does not exist; every interrupted one is 504 and its lookup agrees with the database",
    async () => {
      const name = unique("Killed calls");
      await createItem(name, 100_000);
      // A database account that may KILL other sessions' queries (root's is the socket's).
      const password = `k${crypto.randomUUID()}`;
      await stack().sql(
        `CREATE USER 'bazaar_killer'@'127.0.0.1' IDENTIFIED BY '${password}';` +
          "GRANT PROCESS, CONNECTION ADMIN ON *.* TO 'bazaar_killer'@'127.0.0.1';",
      );
      const killer = await mysql.createConnection({
        host: "127.0.0.1",
        port: Number(env("DB_PORT")),
        user: "bazaar_killer",
        password,
      });
      const answers: { status: number; id: string }[] = [];
      let running = true;
      let kills = 0;
      try {
        const killing = (async () => {
          while (running) {
            const [rows] = await killer.query(
              "SELECT id FROM information_schema.processlist WHERE info LIKE 'CALL place_order%'",
            );
            for (const { id } of rows as { id: number }[]) {
              await killer.query(`KILL QUERY ${Number(id)}`).then(() => kills++, () => {});
            }
          }
        })();
        const deadline = performance.now() + 4000;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (performance.now() < deadline) {
            const res = await buy({ name, quantity: 1 });
            answers.push({ status: res.status, id: res.res.headers.get("x-request-id") ?? "" });
          }
        }));
        running = false;
        await killing;
      } finally {
        running = false;
        await killer.end();
        await stack().sql("DROP USER IF EXISTS 'bazaar_killer'@'127.0.0.1';");
      }
      // No interrupted call left its transaction open on a connection the api kept: a
      // kill can cut place_order's handler short before its ROLLBACK, and a pooled
      // connection then holds the item's lock and a half-made purchase (which the next
      // START TRANSACTION on it would commit).
      const openInApi = await stack().sql(
        "SELECT COUNT(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p " +
          "ON p.id = t.trx_mysql_thread_id WHERE p.user = 'bazaar_api' AND p.command = 'Sleep'",
      );
      expect(Number(openInApi.trim().split("\n").at(-1))).toBe(0);
      const placed = new Set(
        (await stack().sql(`SELECT request_id FROM bazaar.orders WHERE item_name = '${name}'`)).trim().split(
          "\n",
        )
          .slice(1),
      );
      const count = (status: number) => answers.filter((a) => a.status === status);
      record({
        case: "KILL QUERY of purchases",
        purchases: answers.length,
        kills,
        ok: count(200).length,
        not_placed_503: count(503).length,
        unknown_504: count(504).length,
        unknown_that_were_placed: count(504).filter((a) => placed.has(a.id)).length,
      });
      expect(kills).toBeGreaterThan(0);
      expect(count(504).length).toBeGreaterThan(0);
      // "Not placed" is never an order that exists; every 200 is one.
      expect(count(503).filter((a) => placed.has(a.id))).toEqual([]);
      expect(count(200).filter((a) => !placed.has(a.id))).toEqual([]);
      expect(answers.filter((a) => ![200, 503, 504].includes(a.status))).toEqual([]);
      // Each unknown one: the lookup by its request id says what the database holds.
      for (const a of count(504).slice(0, 10)) {
        const lookup = await fetch(`${store()}/orders?request_id=${encodeURIComponent(a.id)}`, {
          headers: { Accept: "application/json" },
        });
        expect(lookup.status).toBe(placed.has(a.id) ? 200 : 404);
      }
      // And the stock adds up: what was placed, no more.
      expect(await dbQuantity(name)).toBe(100_000 - placed.size);
      // No interrupted call left its transaction open on a pooled connection: every
      // connection of the api's pool is used again (by purchases of another item, whose
      // START TRANSACTION would commit what such a call had left half done), then the
      // item is bought at once (no row lock left held) and its stock still adds up.
      // MariaDB itself may refuse a purchase for a moment after a storm of kills (a kill
      // that lands while a session opens the items table: ER_PARSE_ERROR, ER_NO_SUCH_TABLE,
      // answered 503, nothing placed): the store is given that moment back first.
      const other = unique("After the kills");
      await eventually(
        async () =>
          [200, 201].includes(
            (await adminApi("POST", "/items", { name: other, quantity: 1000, price: 5 })).status,
          ),
        10_000,
        100,
      );
      await eventually(async () => (await buy({ name: other, quantity: 1 })).status === 200, 10_000, 100);
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 10; i++) expect((await buy({ name: other, quantity: 1 })).status).toBe(200);
      }));
      const after = await buy({ name, quantity: 1 });
      expect(after.status).toBe(200);
      const ordered = Number(
        (await stack().sql(`SELECT COUNT(*) FROM bazaar.orders WHERE item_name = '${name}'`)).trim().split(
          "\n",
        ).at(-1),
      );
      expect(await dbQuantity(name)).toBe(100_000 - ordered);
    },
    60_000,
  );
});

describe("a price changed between the page and the purchase", () => {
  test("the buy form sends the price it showed: a changed price is refused with the new one, nothing bought; the JSON API likewise", async () => {
    const name = unique("Price shown");
    await createItem(name, 30, 12.49);
    const orders = async () =>
      Number(
        (await stack().sql(`SELECT COUNT(*) FROM bazaar.orders WHERE item_name = '${name}'`)).trim().split(
          "\n",
        )[1],
      );
    const page =
      await (await fetch(`${store()}/?q=${encodeURIComponent(name)}`, { headers: { Accept: "text/html" } }))
        .text();
    const shown = page.match(/<input type="hidden" name="price" value="([\d.]+)"\/>/)?.[1];
    expect(shown).toBe("12.49");
    // An admin reprices it while the buyer looks at the page.
    expect((await adminApi("PATCH", `/items/${encodeURIComponent(name)}`, { price: 13.99 })).status).toBe(
      200,
    );
    // With the search it was shown in, as the page's form sends it (the item may not be on page 1).
    const res = await postForm("/buy", { name, quantity: "1", price: shown!, q: name });
    expect(res.status).toBe(409);
    expect(unescapeHtml(res.html)).toContain(
      `The price of ${name} changed from $12.49 to $13.99 since this page was shown. Nothing was bought`,
    );
    expect(res.html).toContain('<input type="hidden" name="price" value="13.99"/>');
    expect(await dbQuantity(name)).toBe(30);
    expect(await orders()).toBe(0);
    // The JSON API, with the price a program was shown, and without one (the lab's clients).
    const stale = await buy({ name, quantity: 1, price: 12.49 });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      error: { code: 409, message: "the price changed to 13.99", fields: { price: "is 13.99 now" } },
    });
    expect(await orders()).toBe(0);
    expect((await buy({ name, quantity: 1, price: 13.99 })).status).toBe(200);
    expect((await buy({ name, quantity: 1 })).status).toBe(200);
    expect(await dbQuantity(name)).toBe(28);
    expect(await orders()).toBe(2);
  });
});
