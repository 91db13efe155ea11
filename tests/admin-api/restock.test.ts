// The timed restocking's SQL step (admin-api/src/clear.ts restockAndClear) over a real
// MariaDB, through admin-api's own account (testutil/src/route-harness.ts).
import { beforeEach, describe, expect, test } from "bun:test";
import { restockAndClear } from "../../admin-api/src/clear.ts";
import { claimRound } from "../../admin-api/src/rounds.ts";
import { catalogCache } from "../../lib/src/data/catalog-cache.ts";
import { cacheOff } from "../../testutil/src/cache-off.ts";
import { routeHarness } from "../../testutil/src/route-harness.ts";

const admin = await routeHarness("admin-api");
beforeEach(() => admin.reset());
const restock = restockAndClear(admin.db, catalogCache(cacheOff()));
const stock = async () =>
  Object.fromEntries(
    (await admin.sql<{ name: string; quantity: number }>("SELECT name, quantity FROM items")).map((
      r,
    ) => [r.name, r.quantity]),
  );

describe("a restocking round's step", () => {
  test("sets every item at 0 to the level and answers them; the others keep their stock", async () => {
    await admin.sql("UPDATE items SET quantity = 0 WHERE name = 'Gopher'");
    const restocked = await restock(40);
    expect(restocked).toEqual([
      { name: "Duke", quantity: 40, price: 11.75 },
      { name: "Gopher", quantity: 40, price: 14.25 },
    ]);
    expect(await stock()).toEqual({ Tux: 100, Fox: 100, Gopher: 40, Duke: 40 });
  });

  test("with nothing at 0, changes nothing", async () => {
    await restock(40);
    const before = await admin.sql("SELECT name, quantity, version FROM items ORDER BY name");
    expect(await restock(70)).toEqual([]);
    expect(await admin.sql("SELECT name, quantity, version FROM items ORDER BY name")).toEqual(before);
  });
});

describe("a round's claim (several admin-apis)", () => {
  test("the first claim of a slot wins, a second of the same slot loses; a day's slots are kept, older ones deleted", async () => {
    const every = 60_000; // 1,440 slots a day
    const [a, b] = [claimRound(admin.db, every), claimRound(admin.db, every)];
    const slot = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    expect([await a(slot), await b(slot), await b(slot + 1), await a(slot + 1)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(await a(slot + 1440)).toBe(true);
    expect(await a(slot + 1441)).toBe(true);
    const kept = await admin.sql<{ slot: number }>(
      "SELECT slot FROM restock_rounds WHERE slot >= ? ORDER BY slot",
      [slot],
    );
    expect(kept.map((r) => Number(r.slot) - slot)).toEqual([1, 1440, 1441]);
  });
});
