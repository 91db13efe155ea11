// Timed restocking, the lab's part 3 (RESTOCK_EVERY_S, RESTOCK_TO; admin-api/src/restock.ts),
// against the test stack's real MySQL and Redis: first one round run in-process on
// the stack's database and cache, then admin-api itself restarted with the variables,
// as `RESTOCK_EVERY_S=1 RESTOCK_TO=… bun run local` runs it, with the load client
// watching. Restocking touches every item at 0, so items other files left at 0 are
// put back at 0 afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { restockAndClear } from "../../admin-api/src/clear.ts";
import { catalogCache } from "../../lib/src/data/catalog-cache.ts";
import { restocker } from "../../admin-api/src/restock.ts";
import { KNOWN_TOYS, runClient } from "../../client/src/index.ts";
import { createDb } from "../../lib/src/data/db.ts";
import { dbConfig, testCache, uniqueName } from "../../testutil/src/test-stack.ts";
import { createItem, dbQuantity, productVia, restore, setQuantity, stockToys } from "./helpers.ts";
import { env, eventually, stack } from "./stack.ts";

const zeroItems = async () =>
  (await stack().sql("SELECT name FROM bazaar.items WHERE quantity = 0 ORDER BY name")).trim().split("\n")
    .slice(1).filter(Boolean);
const webs = () => [env("WEB1_URL"), env("WEB2_URL"), env("STORE_URL")];
const deleteItem = async (name: string) => {
  const res = await fetch(`${env("ADMIN_API_URL")}/items/${encodeURIComponent(name)}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${env("ADMIN_API_TOKEN")}` },
  });
  expect(res.status).toBe(200);
};

let zeroBefore: string[] = [];
beforeAll(async () => {
  zeroBefore = await zeroItems();
});
afterAll(async () => {
  for (const name of zeroBefore) await setQuantity(name, 0);
});

describe("one restocking round on the real database and cache", () => {
  test("every item at 0 goes to the level, the others stay; once the round is done, every web server shows it", async () => {
    const empty = [uniqueName("Restock empty a"), uniqueName("Restock empty b")];
    const stocked = uniqueName("Restock stocked");
    for (const name of empty) await createItem(name, 1);
    await createItem(stocked, 3);
    const db = createDb(dbConfig("admin"));
    const cache = testCache();
    try {
      // Sold out through the store, and read through every web server so the cache holds the 0.
      for (const name of empty) {
        const res = await fetch(`${env("STORE_URL")}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name, quantity: 1 }),
        });
        expect(res.status).toBe(200);
        for (const base of webs()) expect((await productVia(base, name)).quantity).toBe(0);
      }
      const r = restocker({
        restock: restockAndClear(db, catalogCache(cache)),
        plan: { everyMs: 60_000, to: 40 },
        log: () => {},
      });
      const restocked = await r.round();
      expect(restocked.filter((i) => empty.includes(i.name)).map((i) => i.quantity)).toEqual([40, 40]);
      expect(restocked.map((i) => i.name)).not.toContain(stocked);
      for (const name of empty) {
        expect(await dbQuantity(name)).toBe(40);
        // No stale 0 from the cache, on either web server, right after the round.
        for (const base of webs()) expect((await productVia(base, name)).quantity).toBe(40);
      }
      expect(await dbQuantity(stocked)).toBe(3);
      // Nothing at 0 any more: the next round writes nothing.
      expect(await zeroItems()).toEqual([]);
      expect(await r.round()).toEqual([]);
    } finally {
      cache.close();
      await db.close();
      for (const name of [...empty, stocked]) await deleteItem(name);
    }
  });
});

describe("admin-api with RESTOCK_EVERY_S and RESTOCK_TO set", () => {
  test("half the config stops admin-api at start-up, naming the variable missing", async () => {
    stack().setEnv("admin-api", { RESTOCK_EVERY_S: "1", RESTOCK_TO: undefined });
    try {
      await expect(stack().restart("admin-api")).rejects.toThrow(
        /RESTOCK_TO: is required when RESTOCK_EVERY_S is set/,
      );
    } finally {
      stack().setEnv("admin-api", { RESTOCK_EVERY_S: undefined, RESTOCK_TO: undefined });
      await restore("admin-api");
    }
  }, 60_000);

  test(
    "sold-out items come back every interval, through every web server; the load client sees the restocks",
    async () => {
      const item = uniqueName("Restock timed");
      await createItem(item, 2);
      // The toys the client buys: plenty, so that only Dolphin runs out (and only it is restocked).
      const restoreToys = await stockToys(KNOWN_TOYS);
      await setQuantity("Dolphin", 3);
      stack().setEnv("admin-api", { RESTOCK_EVERY_S: "1", RESTOCK_TO: "5" });
      try {
        await stack().restart("admin-api");
        expect(stack().logs("admin-api").join("\n")).toContain(
          "restocking every 1 s: each item at 0 back to 5",
        );
        // Sold out: 0 everywhere, then back at 5 within a couple of intervals, with no stale read after.
        const res = await fetch(`${env("STORE_URL")}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: item, quantity: 2 }),
        });
        expect(res.status).toBe(200);
        const soldOutAt = performance.now();
        await eventually(async () => (await productVia(env("STORE_URL"), item)).quantity === 5, 5000, 50);
        expect(performance.now() - soldOutAt).toBeLessThan(3000);
        for (const base of webs()) expect((await productVia(base, item)).quantity).toBe(5);
        // Said once the round is over: after the web servers applied it, so a moment after they show it.
        await eventually(() =>
          stack().logs("admin-api").some((l) => l.includes('"msg":"restocked"') && l.includes(item))
        );

        // The lab's part 3 run: buyers empty Dolphin again and again; the client reports it.
        const report = await runClient({
          url: env("STORE_URL"),
          sessions: 4,
          p: 1,
          seed: 16,
          duration: 4,
          quiet: true,
        });
        expect(report.ok, report.failures.join("; ")).toBe(true);
        expect(report.restocks_seen.by_product.Dolphin ?? 0).toBeGreaterThanOrEqual(1);
        // Never more often than admin-api restocked it (once per second at most).
        expect(report.restocks_seen.count).toBeLessThanOrEqual(6);
        expect(report.orders.quantity_by_product.Dolphin).toBeGreaterThan(3);
      } finally {
        stack().setEnv("admin-api", { RESTOCK_EVERY_S: undefined, RESTOCK_TO: undefined });
        await stack().restart("admin-api");
        await restore("admin-api");
        await restoreToys();
        await deleteItem(item);
      }
      // Off again: an item sold out stays at 0.
      const later = uniqueName("Restock off");
      await createItem(later, 1);
      try {
        await fetch(`${env("STORE_URL")}/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name: later, quantity: 1 }),
        });
        await Bun.sleep(2000);
        expect(await dbQuantity(later)).toBe(0);
      } finally {
        await deleteItem(later);
      }
    },
    90_000,
  );
});
