// Names and prices through the real stack (docs/reliability.md, bugs found): names the database could not
// hold, names that were "unique ignoring case" and were not, characters that make
// one name look like another, lookups of hostile strings, prices with more than two
// decimals, and the migration of a data dir keyed by the old rule.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { alive, dbLayout, mariadbdCommand, plannedPorts, REPO_ROOT, which } from "../../local/src/index.ts";
import { nameKey } from "../../lib/src/name-key.ts";
import {
  launcherEnv,
  rootSql as sqlAsRoot,
  spawnCollecting,
  type Spawned,
  untilUp,
} from "../launcher/launch.ts";
import { adminApi, buy, getJson, type Json, post, postForm, store, unescapeHtml } from "./http.ts";
import { env } from "./stack.ts";

const tag = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** admin-api's JSON API, as admin calls it. */
const itemPath = (name: string) => `/items/${encodeURIComponent(name)}`;
/** admin-api's inventory of the items whose names contain `q` (compared by key). */
const listed = async (q: string) =>
  (await adminApi("GET", `/items?per_page=100&q=${encodeURIComponent(q)}`)).body.data.items as {
    name: string;
    quantity: number;
    price: number;
  }[];

let admin: AdminBrowser;
beforeAll(async () => {
  admin = new AdminBrowser(store());
  expect((await admin.login(env("ADMIN_USER"), env("ADMIN_PASSWORD"))).status).toBe(303);
});

/** The flash message the dashboard shows after a form. */
async function notice() {
  const html = await (await admin.get("/admin")).text();
  return unescapeHtml(html.match(/<div class="alert alert-\w+" role="\w+">([^<]*)<\/div>/)?.[1] ?? "");
}

describe("every valid name is storable", () => {
  const name = "İ".repeat(40); // 40 characters; lowercased by JavaScript, 80

  test("İ×40 is inserted, read, bought through the JSON API and the buy form, and deleted", async () => {
    const added = await adminApi("POST", "/items", { name, quantity: 10, price: 2.5 });
    expect(added.status).toBe(201);
    expect(added.body.data.item).toEqual({ name, quantity: 10, price: 2.5 });
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).body).toEqual({
      data: { name, price: 2.5, quantity: 10 },
    });
    // Its key is "i"×40, so the lowercase spelling is the same item.
    expect((await getJson(`/products/${encodeURIComponent("i".repeat(40))}`)).status).toBe(200);

    const bought = await buy({ name, quantity: 2 });
    expect(bought.status).toBe(200);
    expect(typeof bought.body.data.order_number).toBe("number");
    const form = await postForm("/buy", { name, quantity: "3" });
    expect(form.status).toBe(303);
    expect(form.res.headers.get("location")).toMatch(/^\/orders\/\d+$/);
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).body.data.quantity).toBe(5);

    expect((await adminApi("PATCH", itemPath(name), { price: 3 })).status).toBe(200);
    expect((await adminApi("DELETE", itemPath(name))).status).toBe(200);
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).status).toBe(404);
    expect((await buy({ name, quantity: 1 })).status).toBe(404);
  });

  test("the longest keys fit: 64 × U+FDFA (a key of 64 × 18 characters) is stored and found", async () => {
    const long = "\ufdfa".repeat(64);
    expect((await adminApi("POST", "/items", { name: long, quantity: 1, price: 1 })).status).toBe(201);
    expect((await getJson(`/products/${encodeURIComponent(long)}`)).status).toBe(200);
    expect((await buy({ name: long, quantity: 1 })).status).toBe(200);
    expect((await adminApi("DELETE", itemPath(long))).status).toBe(200);
  });
});

describe("one rule for names everywhere", () => {
  test("64 characters are a name whatever their UTF-16 length: 64 ducks are stored, read and bought; 65 are refused", async () => {
    const ducks = `${"🦆".repeat(60)}${tag().slice(0, 4)}`;
    expect([...ducks].length).toBe(64);
    const added = await adminApi("POST", "/items", { name: ducks, quantity: 3, price: 1 });
    expect(added.status).toBe(201);
    expect((await getJson(`/products/${encodeURIComponent(ducks)}`)).body.data.name).toBe(ducks);
    expect((await buy({ name: ducks, quantity: 1 })).status).toBe(200);
    const more = await adminApi("POST", "/items", { name: `${ducks}🦆`, quantity: 3, price: 1 });
    expect(more.status).toBe(400);
    expect(more.body.error.fields.name).toBe("must be at most 64 characters");
    expect((await adminApi("DELETE", itemPath(ducks))).status).toBe(200);
  });

  test('"." and ".." are refused as names (their address would never reach them), 400 naming name', async () => {
    for (const name of [".", ".."]) {
      const api = await adminApi("POST", "/items", { name, quantity: 1, price: 1 });
      expect(api.status).toBe(400);
      expect(api.body.error.fields.name).toBe('must not be "." or ".."');
      const site = await admin.submit("/admin/items", { name, quantity: "1", price: "1.00" });
      expect(site.status).toBe(400);
    }
  });

  test('surrounding spaces are no part of a name: GET /products/Tux%20 is Tux, as POST /orders with "Tux " buys Tux', async () => {
    const t = tag();
    const name = `Spaced ${t}`;
    expect((await adminApi("POST", "/items", { name, quantity: 10, price: 1 })).status).toBe(201);
    for (const spelled of [`${name} `, ` ${name}`, `  ${name}  `]) {
      const read = await getJson(`/products/${encodeURIComponent(spelled)}`);
      expect(read.status).toBe(200);
      expect(read.body.data.name).toBe(name);
    }
    expect((await buy({ name: `${name} `, quantity: 1 })).status).toBe(200);
    expect((await adminApi("PATCH", itemPath(`${name} `), { quantity: 5 })).status).toBe(200);
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).body.data.quantity).toBe(5);
    expect((await adminApi("DELETE", itemPath(` ${name}`))).status).toBe(200);
  });
});

// Each pair was inserted as two items; the second is now the first one, restocked
// (adding a known name restocks it: the documented answer).
const SAME: [string, string, string][] = [
  ["ß and SS", "straße", "STRASSE"],
  ["the ﬁ ligature", "ﬁsh", "FISH"],
  ["final and medial sigma", "ΟΔΟΣ", "οδοσ"],
  ["Turkish İ (folded to i: see lib/src/name-key.ts)", "İstanbul", "istanbul"],
  ["NFC and NFD", "T\u00fax", "Tu\u0301x"],
  ["fullwidth", "Fox", "Ｆｏｘ"],
];

describe("names that are the same are one item", () => {
  for (const [what, first, second] of SAME) {
    test(`admin-api: ${what}: ${JSON.stringify(first)} then ${JSON.stringify(second)} restocks the first`, async () => {
      const t = tag();
      const a = `${first} ${t}`;
      const b = `${second} ${t.toUpperCase()}`;
      expect((await adminApi("POST", "/items", { name: a, quantity: 4, price: 1.5 })).status).toBe(201);
      const again = await adminApi("POST", "/items", { name: b, quantity: 3 });
      expect(again.status).toBe(200);
      expect(again.body.data).toEqual({
        action: "restocked",
        item: { name: a, quantity: 7, price: 1.5 },
        previous_quantity: 4,
        previous_price: 1.5,
        cache: "cleared",
        replayed: false,
      });
      expect((await listed(t)).filter((i) => i.name === a || i.name === b)).toEqual([{
        name: a,
        quantity: 7,
        price: 1.5,
      }]);
      // Every spelling reads, buys and deletes that one item.
      expect((await getJson(`/products/${encodeURIComponent(b)}`)).body.data?.name).toBe(a);
      expect((await buy({ name: b, quantity: 1 })).status).toBe(200);
      expect((await getJson(`/products/${encodeURIComponent(a)}`)).body.data?.quantity).toBe(6);
      expect((await adminApi("DELETE", itemPath(b))).body.data).toEqual({
        item: { name: a, quantity: 6, price: 1.5 },
        cache: "cleared",
        replayed: false,
      });
      expect((await getJson(`/products/${encodeURIComponent(a)}`)).status).toBe(404);
    });

    test(`admin site: ${what}: adding ${JSON.stringify(second)} says it restocked ${JSON.stringify(first)}`, async () => {
      const t = tag();
      const a = `${first} ${t}`;
      const b = `${second} ${t.toUpperCase()}`;
      expect((await admin.submit("/admin/items", { name: a, quantity: "4", price: "1.50" })).status).toBe(
        303,
      );
      expect(await notice()).toBe(`Added ${a}: 4 at $1.50`);
      expect((await admin.submit("/admin/items", { name: b, quantity: "3", price: "" })).status).toBe(303);
      expect(await notice()).toBe(`Restocked ${a}: 4 → 7`);
      expect((await listed(t)).filter((i) => nameKey(i.name) === nameKey(a))).toEqual([{
        name: a,
        quantity: 7,
        price: 1.5,
      }]);
      // The delete confirmation finds it by the other spelling too.
      expect((await admin.get(`/admin/items/delete?name=${encodeURIComponent(b)}`)).status).toBe(200);
      expect((await admin.submit("/admin/items/delete", { name: b })).status).toBe(303);
      expect((await getJson(`/products/${encodeURIComponent(a)}`)).status).toBe(404);
    });
  }
});

// Characters that make a name look like another, or display as another.
const INVISIBLE: [string, string][] = [
  ["zero-width space (Tux + U+200B, was a second Tux)", "Tux\u200b"],
  ["right-to-left override U+202E", "Tux\u202exoF"],
  ["left-to-right isolate U+2066", "Tux\u2066"],
  ["zero-width joiner U+200D", "T\u200dux"],
  ["byte order mark inside a name", "Tu\ufeffx"],
  ["soft hyphen U+00AD", "Tu\u00adx"],
  ["right-to-left mark U+200F", "Tux\u200f"],
];

describe("control, format and bidi characters are refused with 400 naming name", () => {
  for (const [what, name] of INVISIBLE) {
    test(what, async () => {
      // What would change: every item's count and stock (the inventory's figures), and the Tuxes.
      const inventory = async () => [(await adminApi("GET", "/items")).body.data.summary, await listed("tu")];
      const before = await inventory();
      const api = await adminApi("POST", "/items", { name, quantity: 1, price: 1 });
      expect(api.status).toBe(400);
      expect(api.body.error.fields.name).toMatch(
        /^must not contain control, invisible or bidi characters \(U\+[0-9A-F]{4}\)$/,
      );
      const site = await admin.submit("/admin/items", { name, quantity: "1", price: "1.00" });
      expect(site.status).toBe(400);
      expect(await site.text()).toMatch(
        /<div class="field-error" id="add-name-error">[^<]*must not contain control, invisible or bidi characters/,
      );
      const order = await buy({ name, quantity: 1 });
      expect(order.status).toBe(400);
      expect(order.body.error.fields).toHaveProperty("name");
      expect(await inventory()).toEqual(before);
    });
  }
});

describe("a lookup of any string answers 404 or 400, never 5xx", () => {
  // Raw path segments: percent-encoding of invalid UTF-8, lone surrogates, NUL, …
  const RAW = [
    `${"%C4%B0".repeat(39)}Q`, // like İ×40, no such item
    "%C4%B0".repeat(64),
    "%C4%B0".repeat(65),
    "%EF%B7%BA".repeat(64), // U+FDFA×64
    "%ED%A0%80", // a lone surrogate, as UTF-8
    "%ED%B0%80x",
    "%FF%FE",
    "%C0%AF",
    "%00",
    "Tux%00",
    "%E2%80%AE", // U+202E
    "%E2%80%8B", // U+200B
    "%E3%85%A4", // U+3164, a blank Hangul filler
    "x".repeat(300),
    "%25",
    "Tux%2F..",
  ];
  test("GET /products/<string> through the store", async () => {
    for (const raw of RAW) {
      const res = await fetch(`${store()}/products/${raw}`, { headers: { Accept: "application/json" } });
      expect({ raw, status: res.status }).toEqual({
        raw,
        status: res.status < 500 && res.status >= 400 ? res.status : -1,
      });
      await res.text();
    }
  });
  test("admin-api PATCH and DELETE /items/<string>", async () => {
    for (const raw of RAW) {
      for (const method of ["PATCH", "DELETE"]) {
        const res = await fetch(`${env("ADMIN_API_URL")}/items/${raw}`, {
          method,
          headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}`, "Content-Type": "application/json" },
          body: method === "PATCH" ? JSON.stringify({ quantity: 1 }) : undefined,
        });
        expect({ raw, method, status: res.status }).toEqual({
          raw,
          method,
          status: [400, 404].includes(res.status) ? res.status : -1,
        });
        await res.text();
      }
    }
  });
  test("POST /orders, POST /buy and the admin's delete page with hostile names", async () => {
    const names = [
      `${"İ".repeat(39)}Q`,
      "İ".repeat(64),
      "İ".repeat(65),
      "\ufdfa".repeat(65),
      "\ud800",
      "a\udc00b",
      "\u0000",
      "\u202e",
      "\u3164",
      " ",
      "x".repeat(1000),
    ];
    for (const name of names) {
      const json = await post("/orders", JSON.stringify({ name, quantity: 1 }));
      expect({ name, status: json.status }).toEqual({
        name,
        status: [400, 404].includes(json.status) ? json.status : -1,
      });
      const form = await postForm("/buy", { name, quantity: "1" });
      expect({ name, status: form.status }).toEqual({
        name,
        status: [400, 404].includes(form.status) ? form.status : -1,
      });
      const page = await admin.get(
        `/admin/items/delete?name=${encodeURIComponent(name.replace(/[\ud800-\udfff]/g, "x"))}`,
      );
      expect({ name, status: page.status }).toEqual({ name, status: page.status === 404 ? 404 : -1 });
      await page.text();
    }
    // A lone surrogate in JSON text (the escape as sent, not a replacement character).
    const lone = await post("/orders", '{"name":"Tux\\ud800","quantity":1}');
    expect(lone.status).toBe(400);
  });
});

describe("prices with more than two decimals are refused naming price", () => {
  const BAD = [15.990000001, 99999.999999999, 0.011, 1.005];
  test("admin-api: adding and correcting", async () => {
    const name = `Abacus ${tag()}`;
    for (const price of BAD) {
      const add = await adminApi("POST", "/items", { name, quantity: 1, price });
      expect({ price, status: add.status, fields: add.body.error?.fields }).toEqual({
        price,
        status: 400,
        fields: { price: "must have at most two decimals" },
      });
    }
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).status).toBe(404);
    expect((await adminApi("POST", "/items", { name, quantity: 1, price: 15.99 })).status).toBe(201);
    for (const price of BAD) {
      const fix = await adminApi("PATCH", itemPath(name), { price });
      expect({ price, status: fix.status, fields: fix.body.error?.fields }).toEqual({
        price,
        status: 400,
        fields: { price: "must have at most two decimals" },
      });
      // A restock with a price is refused the same way, and changes nothing.
      expect((await adminApi("POST", "/items", { name, quantity: 1, price })).status).toBe(400);
    }
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).body.data).toEqual({
      name,
      price: 15.99,
      quantity: 1,
    });
  });

  test("the admin site's add and correct forms", async () => {
    const name = `Bead ${tag()}`;
    const add = await admin.submit("/admin/items", { name, quantity: "2", price: "15.990000001" });
    expect(add.status).toBe(400);
    expect(await add.text()).toMatch(
      /<div class="field-error" id="add-price-error">Price must have at most two decimals<\/div>/,
    );
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).status).toBe(404);
    expect((await admin.submit("/admin/items", { name, quantity: "2", price: "4.00" })).status).toBe(303);
    const fix = await admin.submit("/admin/items/correct", {
      name,
      quantity: "2",
      was_quantity: "2",
      price: "99999.999999999",
      was_price: "4.00",
    });
    expect(fix.status).toBe(400);
    expect(await fix.text()).toMatch(
      /<div class="field-error" id="[^"]*-price-error">Price must have at most two decimals<\/div>/,
    );
    expect((await getJson(`/products/${encodeURIComponent(name)}`)).body.data).toEqual({
      name,
      price: 4,
      quantity: 2,
    });
  });
});

// The migration of a data dir whose items were keyed by the old rule (the lowercased
// name in a VARCHAR(64)), through `bun run local` as a user runs it: on ports and a
// data dir of its own (+7000; the test stack has +10000, tests/launcher +6000).
describe("bun run local migrates name keys, or refuses naming the names", () => {
  const ports = plannedPorts("names");
  const DATA_DIR = path.join(REPO_ROOT, ".local/test-names");
  const STORE = `http://127.0.0.1:${ports.store}`;

  const rootSql = (sql: string) => sqlAsRoot(DATA_DIR, sql);
  const hex = (s: string) => Buffer.from(s, "utf8").toString("hex");
  const keyOf = async (name: string) => {
    const out = await rootSql(`SELECT HEX(name_key) FROM bazaar.items WHERE BINARY name = X'${hex(name)}'`);
    return out ? Buffer.from(out, "hex").toString("utf8") : undefined;
  };

  type Run = Spawned;
  const start = (...args: string[]): Run => {
    const env = launcherEnv(DATA_DIR, ports, { ADMIN_PASSWORD: "names-test" });
    // The test stack's own variables must not reach this launcher.
    for (
      const k of [
        "STORE_URL",
        "API_TOKEN",
        "ADMIN_API_TOKEN",
        "SESSION_SECRET",
        "SRH_TOKEN",
        "API_DB_PASSWORD",
        "ADMIN_DB_PASSWORD",
        "ADMIN_USER",
      ]
    ) delete env[k];
    return spawnCollecting(["bun", "local/src/main.ts", ...args], env);
  };
  const up = async (run: Run) => {
    await untilUp(run, 90_000);
    return run;
  };
  const stop = async (run: Run) => {
    if (run.proc.exitCode === null) run.proc.kill("SIGTERM");
    expect(await Promise.race([run.proc.exited, Bun.sleep(30_000).then(() => "timeout")])).toBe(0);
  };
  /** Items keyed as the old Bazaar keyed them: JavaScript's toLowerCase, in the old column. */
  const OLD_ROWS = ["Straße", "ΟΔΟΣ", "Tu\u0301x", "Ｆｏｘｅｓ"];
  const makeOld = (extra: string[] = []) =>
    rootSql(
      "ALTER TABLE bazaar.items MODIFY name_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL; " +
        [...OLD_ROWS, ...extra].map((n) =>
          `INSERT INTO bazaar.items (name, name_key, quantity, price) VALUES (X'${hex(n)}', X'${
            hex(n.toLowerCase())
          }', 5, 2.00);`
        ).join(" "),
    );
  const pids = () => {
    const runDir = path.join(DATA_DIR, "run");
    return readdirSync(runDir).filter((f) => f.endsWith(".pid")).map((f) =>
      Number(readFileSync(path.join(runDir, f), "utf8").split("\n")[0])
    );
  };
  /** The data dir's MariaDB alone, as an operator would start it to fix the data. */
  const databaseAlone = async () => {
    const bins = {
      mariadbd: which("mariadbd")!,
      installDb: which("mariadb-install-db")!,
      mariadb: which("mariadb")!,
    };
    const proc = Bun.spawn(mariadbdCommand(bins, dbLayout(DATA_DIR), ports.db), {
      stdout: "ignore",
      stderr: "ignore",
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await rootSql("SELECT 1");
        break;
      } catch (err) {
        if (Date.now() > deadline || proc.exitCode !== null) throw err;
        await Bun.sleep(200);
      }
    }
    return async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    };
  };

  test(
    "old keys get today's, the store finds every spelling; colliding or refused names stop the start, naming them, and change nothing",
    async () => {
      rmSync(DATA_DIR, { recursive: true, force: true });
      let run = await up(start("--fresh"));
      try {
        await makeOld();
        expect(await keyOf("Straße")).toBe("straße");
        await stop(run);

        // The next start recomputes them.
        run = await up(start());
        expect(run.output()).toContain("items.name_key: varchar(64) → varbinary(3072)");
        expect(run.output()).toContain(`items.name_key: ${OLD_ROWS.length} key(s) recomputed`);
        for (const name of [...OLD_ROWS, "Tux"]) expect(await keyOf(name)).toBe(nameKey(name));
        expect(
          await rootSql(
            "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'bazaar' AND TABLE_NAME = 'items' AND COLUMN_NAME = 'name_key'",
          ),
        ).toBe("varbinary(3072)");
        const product = await fetch(`${STORE}/products/${encodeURIComponent("STRASSE")}`, {
          headers: { Accept: "application/json" },
        });
        expect(((await product.json()) as Json).data).toEqual({ name: "Straße", price: 2, quantity: 5 });
        const order = await fetch(`${STORE}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: "οδος", quantity: 1 }),
        });
        expect(order.status).toBe(200);
        expect((await fetch(`${STORE}/products/${encodeURIComponent("t\u00fax")}`)).status).toBe(200);
        await stop(run);

        // A start with nothing to change changes nothing (and says nothing about keys).
        run = await up(start());
        expect(run.output()).not.toContain("items.name_key:");
        // Old-style rows again, with names now the same as others and one now refused.
        for (const name of OLD_ROWS) {
          await rootSql(
            `UPDATE bazaar.items SET name_key = X'${hex(name.toLowerCase())}' WHERE BINARY name = X'${
              hex(name)
            }'`,
          );
        }
        await rootSql(
          "ALTER TABLE bazaar.items MODIFY name_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL; " +
            ["STRASSE", "T\u00fax", "Tux\u200b"].map((n) =>
              `INSERT INTO bazaar.items (name, name_key, quantity, price) VALUES (X'${hex(n)}', X'${
                hex(n.toLowerCase())
              }', 1, 1.00);`
            ).join(" "),
        );
        const ids = Object.fromEntries(
          (await rootSql("SELECT name, id FROM bazaar.items")).split("\n").map((l) =>
            l.split("\t") as [string, string]
          ),
        );
        await stop(run);

        const refused = start();
        const code = await Promise.race([refused.proc.exited, Bun.sleep(90_000).then(() => "timeout")]);
        const out = refused.output();
        expect(code).toBe(1);
        expect(out).toContain("so the database was not migrated and nothing in it was changed");
        expect(out).toContain(
          `"Straße" (id ${ids["Straße"]}) and "STRASSE" (id ${
            ids["STRASSE"]
          }) are now the same name (key "strasse")`,
        );
        expect(out).toContain(
          `"Tu\u0301x" (id ${ids["Tu\u0301x"]}) and "T\u00fax" (id ${ids["T\u00fax"]}) are now the same name`,
        );
        expect(out).toContain(
          `"Tux<U+200B>" (id ${
            ids["Tux\u200b"]
          }): must not contain control, invisible or bidi characters (U+200B)`,
        );
        expect(out).toContain("bun run local --fresh");
        // Everything it started is stopped again.
        expect(pids().filter(alive)).toEqual([]);

        // Nothing was changed: the old column and keys are as they were. Deleting the
        // refused rows (as the message says) lets the next start migrate.
        const stopDb = await databaseAlone();
        try {
          expect(await keyOf("Straße")).toBe("straße");
          expect(await keyOf("STRASSE")).toBe("strasse");
          expect(
            await rootSql(
              "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'bazaar' AND TABLE_NAME = 'items' AND COLUMN_NAME = 'name_key'",
            ),
          ).toBe("varchar(64)");
          await rootSql(
            `DELETE FROM bazaar.items WHERE id IN (${ids["STRASSE"]}, ${ids["T\u00fax"]}, ${
              ids["Tux\u200b"]
            })`,
          );
        } finally {
          await stopDb();
        }
        run = await up(start());
        for (const name of [...OLD_ROWS, "Tux"]) expect(await keyOf(name)).toBe(nameKey(name));
        const fixed = await fetch(`${STORE}/products/${encodeURIComponent("STRASSE")}`, {
          headers: { Accept: "application/json" },
        });
        expect(((await fixed.json()) as Json).data.name).toBe("Straße");
        await stop(run);
      } finally {
        if (run.proc.exitCode === null) {
          run.proc.kill("SIGTERM");
          await run.proc.exited;
        }
      }
    },
    300_000,
  );
});
